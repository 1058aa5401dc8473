"""From its first job on, a forking worker has a fork server fork its children, one ahead of each job
(``prefork``): each job still runs in a child of its own, exactly once, seeing what a child forked for it
would see, and dies with the worker."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions
from resque_impl.worker.forkserver import ForkServer
from resque_impl.worker.outcome import ReservedJob

registry = Registry()
#: Set by a ``before_fork`` hook in the worker, read by the job in its child.
handed: dict[str, str] = {}


@job(queue="served", registry=registry, name="ServedNote")
class ServedNote:
    @staticmethod
    def perform(path: str, text: str) -> None:
        with open(path, "a") as file:
            file.write(f"{text} {os.getpid()} {os.getppid()} {handed.get('text', '-')}\n")


@job(queue="served", registry=registry, name="ServedLength")
class ServedLength:
    @staticmethod
    def perform(path: str, text: str) -> None:
        Path(path).write_text(f"{len(text)} {text[:3]} {text[-3:]}")


@job(queue="served", registry=registry, name="ServedKillSelf")
class ServedKillSelf:
    @staticmethod
    def perform() -> None:
        os.kill(os.getpid(), signal.SIGKILL)


@job(queue="served", registry=registry, name="ServedKillServer")
class ServedKillServer:
    """Run by a fork server, kills it once (and so dies with it); run again, notes ``recovered``."""

    @staticmethod
    def perform(path: str, worker_pid: int) -> None:
        killed = Path(path).with_name("killed")
        if os.getppid() != worker_pid and not killed.exists():
            killed.write_text(str(os.getppid()))
            os.kill(os.getppid(), signal.SIGKILL)
            time.sleep(10)
        ServedNote.perform(path, "recovered")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


def children(pid: int | None = None) -> set[int]:
    """The children of ``pid`` (default: this process; redis-servers of the fixtures among them)."""
    pid = pid or os.getpid()
    try:
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def gone(pid: int) -> bool:
    """Whether ``pid`` has ended and been collected. A zombie is not enough: a thread group leader shows as
    one while its other threads (which still hold its files) are exiting."""
    return not Path(f"/proc/{pid}").exists()


def notes(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines()]


def enqueue_notes(resque: Resque, path: Path, count: int) -> None:
    for n in range(count):
        resque.enqueue(ServedNote, str(path), f"job-{n}")


def test_every_job_runs_once_in_a_child_of_its_own(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    enqueue_notes(resque, path, 6)

    assert Worker(["served"], resque=resque).work(0) == 0

    seen = notes(path)
    assert [line[0] for line in seen] == [f"job-{n}" for n in range(6)]
    assert len({line[1] for line in seen}) == 6
    assert resque.stat("processed") == 6
    # The first job's child is the worker's own; the server, forked while it ran, forks the others.
    assert seen[0][2] == str(os.getpid())
    servers = {line[2] for line in seen[1:]}
    assert len(servers) == 1
    assert servers != {str(os.getpid())}


def test_the_server_and_its_spare_are_let_go_when_the_worker_stops(resque: Resque, tmp_path: Path) -> None:
    enqueue_notes(resque, tmp_path / "notes", 3)
    before = children()

    assert Worker(["served"], resque=resque).work(0) == 0

    assert children() == before  # the server was collected (and its spare died with it)


def test_with_before_fork_hooks_each_child_is_forked_by_the_worker_after_its_job_s_hook(
    resque: Resque, tmp_path: Path
) -> None:
    # Ruby runs before_fork in the parent with the job, before forking that job's child: a child forked
    # by the server would miss what the hook did.
    path = tmp_path / "notes"
    enqueue_notes(resque, path, 4)
    hooks = WorkerHooks()
    hooks.before_fork(lambda worker, reserved: handed.update(text=reserved.args[1]))

    try:
        assert Worker(["served"], resque=resque, hooks=hooks).work(0) == 0
    finally:
        handed.clear()

    seen = notes(path)
    assert [(line[0], line[3]) for line in seen] == [(f"job-{n}", f"job-{n}") for n in range(4)]
    assert {line[2] for line in seen} == {str(os.getpid())}


def test_without_prefork_the_worker_forks_every_child_itself(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    enqueue_notes(resque, path, 3)

    assert Worker(["served"], resque=resque, options=WorkerOptions(prefork=False)).work(0) == 0

    seen = notes(path)
    assert [line[0] for line in seen] == ["job-0", "job-1", "job-2"]
    assert {line[2] for line in seen} == {str(os.getpid())}


def served_child(server: ForkServer, payload: dict[str, Any]) -> tuple[int, bytes, int]:
    """Run ``payload`` through ``server``: the child's pid, what it reported, how it ended."""
    child = server.run(ReservedJob.read("served", json.dumps(payload).encode()), timeout=None, memory_limit_mb=None)
    assert child is not None
    result = child.wait(None)
    child.reap()
    return result.pid, result.data, result.status


def test_a_handed_job_is_decoded_in_the_child_as_the_worker_decoded_it(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    server = ForkServer.start(Worker(["served"], resque=resque), term_child=False)
    try:
        # Escaped, as Ruby writes it.
        pid, data, status = served_child(server, {"class": "ServedNote", "args": [str(path), "café 🚀"]})
    finally:
        server.close()

    assert data[:1] == b"P"
    assert os.WIFEXITED(status)
    assert os.WEXITSTATUS(status) == 0
    assert notes(path)[0][:4] == ["café", "🚀", str(pid), str(server.pid)]


def test_a_job_larger_than_a_pipe_holds_arrives_whole(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "length"
    text = "abc" + "x" * (3 << 20) + "xyz"  # 3 MB: the pipes' buffers hold 64 kB
    server = ForkServer.start(Worker(["served"], resque=resque), term_child=False)
    try:
        _, data, _ = served_child(server, {"class": "ServedLength", "args": [str(path), text]})
    finally:
        server.close()

    assert data[:1] == b"P"
    assert path.read_text() == f"{len(text)} abc xyz"


def test_the_server_tells_how_a_child_ended(resque: Resque) -> None:
    server = ForkServer.start(Worker(["served"], resque=resque), term_child=False)
    try:
        _, data, status = served_child(server, {"class": "ServedKillSelf", "args": []})
    finally:
        server.close()

    assert data == b""
    assert os.WIFSIGNALED(status)
    assert os.WTERMSIG(status) == signal.SIGKILL


def test_a_spare_that_died_waiting_takes_no_job(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    server = ForkServer.start(Worker(["served"], resque=resque), term_child=False)
    try:
        deadline = time.monotonic() + 10
        while not children(server.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        (spare,) = children(server.pid)
        os.kill(spare, signal.SIGKILL)
        while not gone(spare):  # the server collects it
            time.sleep(0.01)

        pid, data, _ = served_child(server, {"class": "ServedNote", "args": [str(path), "x"]})
    finally:
        server.close()

    assert pid != spare
    assert data[:1] == b"P"
    assert notes(path)[0][0] == "x"


def test_a_dead_server_runs_nothing_and_its_children_count_as_killed(resque: Resque) -> None:
    server = ForkServer.start(Worker(["served"], resque=resque), term_child=False)
    os.kill(server.pid, signal.SIGKILL)
    os.waitpid(server.pid, 0)

    reserved = ReservedJob.read("served", b'{"class":"ServedNote","args":["x","y"]}')
    assert server.run(reserved, timeout=None, memory_limit_mb=None) is None
    assert not server.alive
    assert server.ended(12345, block=True) == signal.SIGKILL
    server.close()


def test_a_worker_whose_server_died_loses_no_job_and_starts_another(resque: Resque, tmp_path: Path) -> None:
    path = tmp_path / "notes"
    resque.enqueue(ServedNote, str(path), "first")
    resque.enqueue(ServedKillServer, str(path), os.getpid())
    resque.enqueue(ServedNote, str(path), "last")

    assert Worker(["served"], resque=resque).work(0) == 0

    seen = notes(path)
    # The killed server's child died with it before reporting: its job went back to the queue and ran
    # again in a child the worker forked itself; a new server forked the last job's child.
    assert [line[0] for line in seen] == ["first", "recovered", "last"]
    assert seen[1][2] == str(os.getpid())
    assert seen[2][2] not in (str(os.getpid()), (tmp_path / "killed").read_text())
    assert resque.stat("processed") == 3
