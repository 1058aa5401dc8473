"""``Worker.work()`` in this process: hooks, burst mode, forking, on fakeredis, a real server and the
in-memory twin."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pytest

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.failure import RedisBackend
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions

registry = Registry()


@job(queue="loop", registry=registry, name="LoopNote")
class LoopNote:
    @staticmethod
    def perform(path: str, text: str) -> None:
        with open(path, "a") as file:
            file.write(f"{text} {os.getpid()}\n")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


def recording_hooks(calls: list[tuple[Any, ...]]) -> WorkerHooks:
    hooks = WorkerHooks()
    for name in ("before_first_fork", "queue_empty", "shutdown", "worker_exit"):
        hooks.add(name, lambda worker, name=name: calls.append((name, worker.id)))
    hooks.before_fork(lambda worker, job_: calls.append(("before_fork", job_.args[1], os.getpid())))
    return hooks


def test_burst_no_fork_runs_hooks_in_order(resque: Resque, tmp_path: Path) -> None:
    calls: list[tuple[Any, ...]] = []
    notes = tmp_path / "notes"
    resque.enqueue(LoopNote, str(notes), "a")
    resque.enqueue(LoopNote, str(notes), "b")
    worker = Worker(["loop"], resque=resque, hooks=recording_hooks(calls), options=WorkerOptions(fork_per_job=False))
    assert worker.work(burst=True) == 0
    assert [line.split()[0] for line in notes.read_text().splitlines()] == ["a", "b"]
    assert [call[0] for call in calls] == ["before_first_fork", "queue_empty", "shutdown", "worker_exit"]
    assert resque.workers() == []
    assert resque.stat("processed") == 2


def test_forked_jobs_run_in_children_with_fork_hooks(resque: Resque, tmp_path: Path) -> None:
    # The child reports its outcome to the parent, which alone talks to the store: so forking works on
    # the in-memory twin too.
    calls: list[tuple[Any, ...]] = []
    notes = tmp_path / "notes"
    after = tmp_path / "after_fork"
    hooks = recording_hooks(calls)
    hooks.after_fork(lambda worker, job_: after.write_text(str(os.getpid())))
    resque.enqueue(LoopNote, str(notes), "forked")
    assert Worker(["loop"], resque=resque, hooks=hooks).work(0) == 0
    child_pid = int(notes.read_text().split()[1])
    assert child_pid != os.getpid()
    assert int(after.read_text()) == child_pid
    assert ("before_fork", "forked", os.getpid()) in calls


def test_a_failing_before_fork_hook_fails_the_job_not_the_worker(resque: Resque, tmp_path: Path) -> None:
    hooks = WorkerHooks()

    @hooks.before_fork
    def refuse(worker: Worker, job_: Any) -> None:
        raise RuntimeError("no forking today")

    resque.enqueue(LoopNote, str(tmp_path / "notes"), "x")
    assert Worker(["loop"], resque=resque, hooks=hooks).work(0) == 0
    [record] = resque.failures.all()
    assert (record.exception, record.error) == ("RuntimeError", "no forking today")


def test_a_failing_before_first_fork_hook_stops_the_worker(resque: Resque) -> None:
    hooks = WorkerHooks()
    hooks.before_first_fork(lambda worker: 1 / 0)
    assert Worker(["loop"], resque=resque, hooks=hooks).work(0) == 1
    assert resque.workers() == []


def test_unknown_hook_names_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown worker hook 'before_frok'"):
        WorkerHooks().add("before_frok", print)


def test_before_first_fork_runs_once_per_worker_object(resque: Resque) -> None:
    # Ruby Resque's run_hook skips before_first_fork once it ran for this worker (@before_first_fork_hook_ran).
    calls: list[str] = []
    hooks = WorkerHooks()
    hooks.before_first_fork(lambda worker: calls.append(worker.id))
    worker = Worker(["loop"], resque=resque, hooks=hooks, options=WorkerOptions(fork_per_job=False))
    assert worker.work(burst=True) == 0
    assert worker.work(burst=True) == 0
    assert calls == [worker.id]
    another = Worker(["loop"], resque=resque, hooks=hooks, options=WorkerOptions(fork_per_job=False))
    assert another.work(burst=True) == 0
    assert calls == [worker.id, another.id]


@job(queue="loop", registry=registry, name="LoopBoom")
class LoopBoom:
    @staticmethod
    def perform() -> None:
        raise ValueError("boom")


class UnsavingBackend(RedisBackend):
    """A failure backend that cannot save (an error tracker that is down)."""

    def save(self, record: bytes, queue: str) -> None:
        raise RuntimeError("failure backend is down")


def test_a_failure_backend_that_raises_is_logged_and_the_worker_goes_on(
    store: Any, clock: ManualClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Ruby Resque's report_failed_job: "Received exception when reporting failure", then on to the next job.
    resque = Resque(store=store, clock=clock, registry=registry, failure_backend=UnsavingBackend(store, clock))
    notes = tmp_path / "notes"
    resque.enqueue(LoopBoom)
    resque.enqueue(LoopNote, str(notes), "next")
    worker = Worker(["loop"], resque=resque, options=WorkerOptions(fork_per_job=False))
    with caplog.at_level(logging.ERROR, logger="resque_impl.worker"):
        assert worker.work(burst=True) == 0
    assert notes.read_text().split()[0] == "next"
    assert (resque.stat("processed"), resque.stat("failed")) == (2, 1)
    assert "could not record the failure of LoopBoom from loop" in caplog.text
    assert "failure backend is down" in caplog.text
