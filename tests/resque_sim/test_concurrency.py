"""Worker pools with ``concurrency: N`` (``resque-impl work --concurrency``): ``count`` processes of N job
slots serve ``count * N`` jobs at once, and never fork."""

from __future__ import annotations

from typing import Any

import pytest

from resque_sim.scenario import ScenarioError

from .helpers import make_scenario, run


def scenario(**pool: Any) -> Any:
    return make_scenario(
        arrivals=[{"name": "burst", "process": {"type": "burst", "at": "1s", "size": 8}, "mix": {"Job": 1}}],
        jobs={"Job": {"queue": "default", "duration": {"dist": "constant", "value": "2s"}}},
        workers=[{"pool": "io", "count": 2, "queues": ["*"], "interval": "instant", **pool}],
    )


def test_a_pool_of_2_processes_with_4_slots_runs_8_jobs_at_once() -> None:
    record = run(scenario(concurrency=4))
    assert sorted(set(record.jobs["started_at"].round(6).tolist())) == [1.0]
    assert sorted(record.workers) == sorted(f"io-{process}.{slot}" for process in range(2) for slot in range(4))


def test_without_slots_the_same_pool_runs_them_in_four_waves() -> None:
    record = run(scenario())
    assert sorted(set(record.jobs["started_at"].round(6).tolist())) == [1.0, 3.0, 5.0, 7.0]


def test_slots_never_fork_and_an_explicit_fork_per_job_is_refused() -> None:
    assert scenario(concurrency=4).workers[0].forks is False
    assert scenario().workers[0].forks is True
    with pytest.raises(ScenarioError, match="fork_per_job"):
        scenario(concurrency=4, fork_per_job=True)
    with pytest.raises(ScenarioError, match="concurrency"):
        scenario(concurrency=0)


def test_a_pool_with_slots_survives_copies_and_a_sweep_can_give_a_pool_slots() -> None:
    with_slots = scenario(concurrency=4)
    assert with_slots.with_value("duration", 60).workers[0].concurrency == 4
    assert scenario().with_value("workers.io.concurrency", 10).workers[0].forks is False
    assert scenario(fork_per_job=False).with_value("workers.io.concurrency", 10).workers[0].fork_per_job is False
    with pytest.raises(ScenarioError, match="fork_per_job"):
        scenario(fork_per_job=True).with_value("workers.io.concurrency", 10)
