"""Reading a run's output directory, and refusing one that is not."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from resque_sim.report import write_outputs
from resque_sim.run_output import RunDirError, load_run
from resque_sim.runner import run_scenario
from tests.resque_sim.helpers import make_scenario


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The outputs of a 2-minute simulation (10 s of warmup)."""
    out = tmp_path_factory.mktemp("run") / "out"
    write_outputs(run_scenario(make_scenario(duration="2m", warmup="10s"), processes=1), out, charts=False)
    return out


def test_a_run_is_read_with_its_summary_jobs_and_series(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.summary == json.loads((run_dir / "summary.json").read_text())
    assert (run.queues, run.warmup, run.measured_seconds) == (("default",), 10.0, 110.0)
    assert len(run.jobs) == run.summary["jobs"]["enqueued"]
    assert "depth:default" in run.series


def test_measured_waits_leave_out_the_warmup_and_count_unstarted_jobs_to_the_end(run_dir: Path) -> None:
    run = load_run(run_dir)
    enqueued, waits, queues = run.measured_waits()
    assert enqueued.min() >= 10.0
    assert len(waits) == len(queues) == run.summary["queues"]["default"]["enqueued"]
    assert waits.mean() == pytest.approx(run.summary["wait"]["mean"], rel=1e-5)


def test_the_overall_max_depth_agrees_with_the_queues_own_on_a_one_queue_run(run_dir: Path) -> None:
    run = load_run(run_dir)
    assert run.max_depth() == run.summary["queues"]["default"]["max_depth"]


@pytest.mark.parametrize(
    ("file", "content", "why"),
    [
        ("summary.json", None, "it has no summary.json"),
        ("summary.json", "{not json", "summary.json is not JSON"),
        ("summary.json", "[1]", "summary.json is not a JSON object"),
        ("summary.json", '{"scenario": "x"}', "summary.json has no backend, simulated_seconds, jobs, wait"),
        ("jobs.csv", None, "it has no jobs.csv"),
        ("jobs.csv", "id,class\n1,Job\n", "jobs.csv has no queue, enqueued_at, started_at, wait column"),
        ("timeseries.csv", None, "it has no timeseries.csv"),
    ],
)
def test_a_directory_missing_a_file_or_field_is_refused_saying_which(
    run_dir: Path, tmp_path: Path, file: str, content: str | None, why: str
) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    if content is None:
        (bad / file).unlink()
    else:
        (bad / file).write_text(content)
    with pytest.raises(RunDirError, match=f"^{re.escape(f'{bad} is not a resque-sim run output: {why}')}"):
        load_run(bad)


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RunDirError, match="no such directory"):
        load_run(tmp_path / "nowhere")
