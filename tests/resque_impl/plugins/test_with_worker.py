"""Every plugin through the real worker (no fork, burst), on fakeredis, a real server and the twin."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

import resque_impl.default
from resque_impl import Job, ManualClock, Resque
from resque_impl.plugins import Lock, Retry, Timing, Unique
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerOptions


class WorkerFlaky(Retry, Timing, Job):
    queue = "plugged"
    retry_limit = 2
    retry_delay = 10
    fail_times: ClassVar[int] = 0
    runs: ClassVar[int] = 0

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.runs += 1
        if cls.runs <= cls.fail_times:
            raise ConnectionError(f"run {cls.runs} failed")


class WorkerUnique(Unique, Job):
    queue = "plugged"

    @staticmethod
    def perform(*args: Any) -> None:
        return None


class WorkerLocked(Lock, Job):
    queue = "plugged"
    runs: ClassVar[int] = 0

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.runs += 1


@pytest.fixture(autouse=True)
def _reset() -> None:
    WorkerFlaky.fail_times, WorkerFlaky.runs, WorkerLocked.runs = 0, 0, 0


@pytest.fixture
def r(store: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    instance = Resque(store=store, clock=clock)
    monkeypatch.setattr(resque_impl.default, "_current", instance)
    return instance


def burst(r: Resque) -> None:
    assert Worker(["plugged"], resque=r, options=WorkerOptions(fork_per_job=False)).work(burst=True) == 0


def test_retry_brings_a_failed_job_back_until_it_succeeds(r: Resque, clock: ManualClock) -> None:
    WorkerFlaky.fail_times = 2
    r.enqueue(WorkerFlaky, "feed")

    burst(r)
    assert [job.payload.extras for job in r.find_delayed()] == [{"retry_attempt": 1}]
    clock.advance(10)
    r.release_due()
    burst(r)
    clock.advance(20)
    r.release_due()
    burst(r)

    assert WorkerFlaky.runs == 3
    assert (r.stat("processed"), r.stat("failed"), r.failures.count()) == (3, 0, 0)
    assert r.store.durations()["WorkerFlaky"]["count"] == "3"


def test_retry_gives_up_with_a_failure_record(r: Resque, clock: ManualClock) -> None:
    WorkerFlaky.fail_times = 99
    r.enqueue(WorkerFlaky, "feed")
    for _ in range(3):
        burst(r)
        clock.advance(60)
        r.release_due()

    (record,) = r.failures.all(0, 5)
    assert (record.exception, record.payload["retry_attempt"], record.queue) == ("ConnectionError", 2, "plugged")
    assert (r.stat("processed"), r.stat("failed")) == (3, 1)


def test_unique_skips_duplicates_until_the_worker_has_run_the_job(r: Resque) -> None:
    assert r.enqueue(WorkerUnique, 1)
    assert not r.enqueue(WorkerUnique, 1)
    burst(r)
    assert r.stat("processed") == 1
    assert r.enqueue(WorkerUnique, 1)


def test_lock_puts_back_a_job_whose_lock_is_taken(r: Resque, clock: ManualClock) -> None:
    key = r.keys.job_lock(WorkerLocked.lock_name(5))
    r.store.lock_acquire(key, "another-run", 60)
    r.enqueue(WorkerLocked, 5)

    burst(r)
    assert (WorkerLocked.runs, r.count_all_scheduled_jobs()) == (0, 1)
    r.store.lock_release(key, "another-run")
    clock.advance(5)
    r.release_due()
    burst(r)

    assert WorkerLocked.runs == 1
    assert r.store.lock_owner(key) is None
