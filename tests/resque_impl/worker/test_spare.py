"""A forking worker forks the next job's child while the current job runs (``prefork``): each job still
runs in a child of its own, exactly once, seeing what a child forked for it would see."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions
from resque_impl.worker.outcome import ReservedJob
from resque_impl.worker.spare import fork_spare

registry = Registry()
#: Set by a ``before_fork`` hook in the worker, read by the job in its child.
handed: dict[str, str] = {}


@job(queue="spare", registry=registry, name="SpareNote")
class SpareNote:
    @staticmethod
    def perform(path: str, text: str) -> None:
        with open(path, "a") as file:
            file.write(f"{text} {os.getpid()} {os.getppid()} {handed.get('text', '-')}\n")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


def children() -> set[str]:
    """This process's children (redis-servers of the fixtures among them), zombies included."""
    return set(Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split())


def notes(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


def test_every_job_runs_once_in_a_child_of_its_own(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    for n in range(6):
        resque.enqueue(SpareNote, str(path), f"job-{n}")

    assert Worker(["spare"], resque=resque).work(0) == 0

    seen = notes(path)
    assert [line[0] for line in seen] == [f"job-{n}" for n in range(6)]
    assert len({line[1] for line in seen}) == 6
    assert {line[2] for line in seen} == {str(os.getpid())}
    assert resque.stat("processed") == 6


def test_the_spare_is_let_go_when_the_worker_stops(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    for n in range(3):
        resque.enqueue(SpareNote, str(path), f"job-{n}")
    before = children()

    assert Worker(["spare"], resque=resque).work(0) == 0

    assert children() == before  # every child the worker forked, the last spare too, was collected


def test_with_before_fork_hooks_each_child_is_forked_after_its_job_s_hook(resque: Resque, tmp_path: Path) -> None:
    # Ruby runs before_fork in the parent with the job, before forking that job's child: a spare forked
    # earlier would miss what the hook did.
    path = tmp_path / "notes"
    for n in range(4):
        resque.enqueue(SpareNote, str(path), f"job-{n}")
    hooks = WorkerHooks()
    hooks.before_fork(lambda worker, reserved: handed.update(text=reserved.args[1]))

    try:
        assert Worker(["spare"], resque=resque, hooks=hooks).work(0) == 0
    finally:
        handed.clear()

    assert [(line[0], line[3]) for line in notes(path)] == [(f"job-{n}", f"job-{n}") for n in range(4)]


def test_without_prefork_no_child_is_forked_ahead(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    for n in range(3):
        resque.enqueue(SpareNote, str(path), f"job-{n}")

    worker = Worker(["spare"], resque=resque, options=WorkerOptions(prefork=False))
    assert worker.work(0) == 0

    assert [line[0] for line in notes(path)] == ["job-0", "job-1", "job-2"]


def test_a_spare_that_died_waiting_takes_no_job(resque: Resque) -> None:
    # The worker then forks an ordinary child (test_processes: a spare killed while waiting costs no job).
    worker = Worker(["spare"], resque=resque)
    spare = fork_spare(worker, term_child=False)
    os.kill(spare.pid, signal.SIGKILL)
    os.waitpid(spare.pid, 0)
    reserved = ReservedJob.read("spare", b'{"class":"SpareNote","args":["x","y"]}')

    assert spare.hand(reserved, timeout=None, memory_limit_mb=None) is None


def test_a_handed_job_is_decoded_in_the_child_as_the_worker_decoded_it(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    worker = Worker(["spare"], resque=resque)
    spare = fork_spare(worker, term_child=False)
    raw = json.dumps({"class": "SpareNote", "args": [str(path), "café 🚀"]})  # escaped, as Ruby writes it
    reserved = ReservedJob.read("spare", raw.encode())

    child = spare.hand(reserved, timeout=None, memory_limit_mb=None)

    assert child is not None
    result = child.wait(None)
    child.reap()
    assert result.data[:1] == b"P"
    assert notes(path)[0][:2] == ["café", "🚀"]
    assert notes(path)[0][2] == str(spare.pid)


def test_a_discarded_spare_exits_without_running_anything(resque: Resque) -> None:
    spare = fork_spare(Worker(["spare"], resque=resque), term_child=False)

    spare.discard()

    with pytest.raises(ChildProcessError):
        os.waitpid(spare.pid, os.WNOHANG)
