"""The scenarios shipped in scenarios/: each runs, and each answers its capacity question as its comments say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from resque_sim.engine import Backend
from resque_sim.metrics import JOB_COLUMNS, jobs_frame, run_stats
from resque_sim.runner import run_scenario
from resque_sim.scenario import load_scenario

from .helpers import run

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
NAMES = ["spike", "steady", "nightly-batch", "diurnal", "memory-leak"]


@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_scenario_runs(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", ["duration=20m", "warmup=0s", "backend=memory"])
    stats = run_stats(run(scenario))
    assert stats.completed > 0
    assert stats.enqueued == stats.completed + stats.failed + stats.pending_at_end


# the fewest workers (for memory-leak: the lowest restart threshold) meeting every SLO, per the files' comments;
# steady's answer is Erlang C's, which test_validation checks directly
RECOMMENDED: dict[str, Any] = {"spike": 16, "nightly-batch": 30, "diurnal": 5, "memory-leak": 450}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RECOMMENDED))
def test_each_shipped_scenario_recommends_what_its_comments_say(name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.yaml", ["backend=memory"])
    result = run_scenario(scenario)
    assert result.recommended == RECOMMENDED[name]
    assert result.ok


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_each_shipped_scenario_gives_the_same_jobs_on_fakeredis_and_the_memory_twin(name: str) -> None:
    """The contract that lets a run on ``fake`` do its sweep and extra replications on the twin."""
    scenario = load_scenario(SCENARIOS / f"{name}.yaml")
    on_fake, on_memory = (jobs_frame(run(scenario, backend=Backend(kind))) for kind in ("fake", "memory"))
    assert on_fake[list(JOB_COLUMNS)].to_csv(index=False) == on_memory[list(JOB_COLUMNS)].to_csv(index=False)
