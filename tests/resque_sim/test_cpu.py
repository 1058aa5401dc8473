"""Job slots wait together but compute one at a time: a job class's ``cpu_fraction`` is the share of its
duration that holds its process's one core (the GIL, or the event loop), so a saturated process of N slots
completes ``min(N / d, 1 / (f * d))`` jobs per second of duration ``d`` and fraction ``f``."""

from __future__ import annotations

from typing import Any

import pytest

from resque_sim.scenario import ScenarioError

from .helpers import make_scenario, run

JOBS = 40
DURATION = 1.0


def saturated(concurrency: int, cpu_fraction: Any = None, count: int = 1) -> Any:
    """``JOBS`` one-second jobs arriving at once at ``count`` processes of ``concurrency`` slots."""
    job: dict[str, Any] = {"queue": "default", "duration": {"dist": "constant", "value": f"{DURATION}s"}}
    if cpu_fraction is not None:
        job["cpu_fraction"] = cpu_fraction
    return make_scenario(
        duration="10m",
        arrivals=[{"name": "burst", "process": {"type": "burst", "at": "0s", "size": JOBS}, "mix": {"Job": 1}}],
        jobs={"Job": job},
        workers=[{"pool": "p", "count": count, "queues": ["*"], "interval": "instant", "concurrency": concurrency}],
    )


def makespan(scenario: Any) -> float:
    """Seconds from the burst to the last job's end."""
    record = run(scenario)
    assert len(record.jobs["job_id"]) == JOBS
    return float(record.jobs["finished_at"].max())


def test_jobs_that_only_wait_overlap_fully_in_n_slots() -> None:
    assert makespan(saturated(8, cpu_fraction=0.0)) == pytest.approx(JOBS / 8 * DURATION)


def test_without_cpu_fraction_jobs_wait_as_before() -> None:
    assert makespan(saturated(8)) == pytest.approx(makespan(saturated(8, cpu_fraction=0)))


def test_pure_computing_in_n_slots_runs_at_one_slots_rate() -> None:
    assert makespan(saturated(8, cpu_fraction=1.0)) == pytest.approx(JOBS * DURATION)
    assert makespan(saturated(1, cpu_fraction=1.0)) == pytest.approx(JOBS * DURATION)


def test_a_mix_is_limited_by_its_computing_part_once_it_dominates() -> None:
    # 8 slots, a quarter computing: the core is the limit (1 / 0.25 = 4 jobs/s < 8 jobs/s).
    assert makespan(saturated(8, cpu_fraction=0.25)) == pytest.approx(0.75 + JOBS * 0.25, abs=1e-6)
    # 2 slots, a quarter computing: the slots are the limit (2 jobs/s < 4 jobs/s); the first pair's
    # computing parts queue once (0.25 s), after which the pair stays out of step.
    assert makespan(saturated(2, cpu_fraction=0.25)) == pytest.approx(JOBS / 2 * DURATION + 0.25, abs=1e-6)


def test_each_process_has_a_core_of_its_own() -> None:
    assert makespan(saturated(4, cpu_fraction=1.0, count=2)) == pytest.approx(JOBS / 2 * DURATION)


def test_one_slot_per_process_never_queues_for_the_core() -> None:
    assert makespan(saturated(1, cpu_fraction=1.0, count=4)) == pytest.approx(JOBS / 4 * DURATION)


def test_percentages_are_accepted_and_out_of_range_refused() -> None:
    assert saturated(2, cpu_fraction="30%").jobs["Job"].cpu_fraction == pytest.approx(0.3)
    with pytest.raises(ScenarioError, match="cpu_fraction"):
        saturated(2, cpu_fraction=1.5)
