"""Lock: one run per lock name at a time; a job that finds the lock taken is put back."""

from __future__ import annotations

import threading
import time
from typing import Any, ClassVar

import pytest

from resque_impl import Job, ManualClock, Resque
from resque_impl.plugins import Lock
from resque_impl.store.memory import MemoryStore
from tests.resque_impl.plugins.conftest import work_off, work_one


class SyncAccount(Lock, Job):
    queue = "sync"
    runs: ClassVar[list[tuple[Any, ...]]] = []
    running: ClassVar[int] = 0
    most_at_once: ClassVar[int] = 0
    pause: ClassVar[float] = 0.0
    fail: ClassVar[bool] = False
    guard = threading.Lock()

    @classmethod
    def lock_name(cls, account: Any, *rest: Any) -> str:
        return f"account:{account}"

    @classmethod
    def perform(cls, *args: Any) -> None:
        with cls.guard:
            cls.running += 1
            cls.most_at_once = max(cls.most_at_once, cls.running)
        time.sleep(cls.pause)
        with cls.guard:
            cls.running -= 1
            cls.runs.append(args)
        if cls.fail:
            raise RuntimeError("sync failed")


@pytest.fixture(autouse=True)
def _reset() -> None:
    SyncAccount.runs, SyncAccount.running, SyncAccount.most_at_once = [], 0, 0
    SyncAccount.pause, SyncAccount.fail = 0.0, False


def hold(r: Resque, account: str) -> str:
    key = r.keys.job_lock(f"account:{account}")
    assert r.store.lock_acquire(key, "someone-else", 60)
    return key


def test_a_job_runs_and_frees_its_lock(r: Resque) -> None:
    r.enqueue(SyncAccount, 7, "full")
    assert work_off(r, "sync") == ["performed"]
    assert r.store.lock_owner(r.keys.job_lock("account:7")) is None


def test_a_failing_job_frees_its_lock(r: Resque) -> None:
    SyncAccount.fail = True
    r.enqueue(SyncAccount, 7)
    assert work_off(r, "sync") == ["failed"]
    assert r.store.lock_owner(r.keys.job_lock("account:7")) is None


def test_a_job_that_finds_the_lock_taken_comes_back_later(r: Resque, clock: ManualClock) -> None:
    key = hold(r, "7")
    r.push("sync", {"class": "SyncAccount", "args": [7, "delta"], "trace_id": "t1"})

    assert work_off(r, "sync") == ["skipped"]
    (job,) = r.find_delayed()
    assert (job.timestamp, job.queue, job.payload.extras) == (int(clock.time()) + 5, "sync", {"trace_id": "t1"})
    assert SyncAccount.runs == []

    r.store.lock_release(key, "someone-else")
    clock.advance(5)
    r.release_due()
    assert work_off(r, "sync") == ["performed"]
    assert SyncAccount.runs == [(7, "delta")]


def test_the_lock_is_per_name_not_per_job(r: Resque) -> None:
    hold(r, "7")
    r.enqueue(SyncAccount, 8)
    assert work_off(r, "sync") == ["performed"]


@pytest.mark.parametrize(("delay", "left_in_queue"), [(0, 1), (None, 0)])
def test_put_back_now_or_drop(
    r: Resque, monkeypatch: pytest.MonkeyPatch, delay: float | None, left_in_queue: int
) -> None:
    monkeypatch.setattr(SyncAccount, "lock_retry_delay", delay)
    hold(r, "7")
    r.enqueue(SyncAccount, 7)
    assert work_one(r, "sync") == "skipped"
    assert r.size("sync") == left_in_queue
    assert r.count_all_scheduled_jobs() == 0


def test_two_workers_never_run_the_same_account_at_once(r: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    if isinstance(r.store, MemoryStore):
        pytest.skip("the in-memory store is for one thread")
    monkeypatch.setattr(SyncAccount, "lock_retry_delay", 0)
    SyncAccount.pause = 0.05
    for n in range(6):
        r.enqueue(SyncAccount, 7, n)
    threads = [threading.Thread(target=work_off, args=(r, "sync")) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)

    assert sorted(args[1] for args in SyncAccount.runs) == list(range(6))
    assert SyncAccount.most_at_once == 1
