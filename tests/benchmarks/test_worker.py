"""``python -m benchmarks.worker``'s memory run at sizes below its usual warm-up: it warms up for half the
jobs rather than failing, and refuses a run too short to have two parts with a clear message."""

from __future__ import annotations

import pytest

from benchmarks import worker

pytestmark = pytest.mark.timeout(120)


def test_a_short_memory_run_warms_up_for_half_of_its_jobs() -> None:
    rows = {row.name.strip(): row for row in worker.memory(jobs=200)}
    assert rows["worker RSS after 100 jobs (resque-impl work --no-fork)"].value > 0
    assert rows["worker RSS after 200 jobs"].value > 0
    assert rows["growth over the last 100 jobs"].target == "< 5 MB"


def test_a_memory_run_of_fewer_than_two_jobs_is_refused_by_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        worker.main(["--memory-jobs", "1", "--no-peers"])
    assert exit_info.value.code == 2
    assert "--memory-jobs must be at least 2" in capsys.readouterr().err
