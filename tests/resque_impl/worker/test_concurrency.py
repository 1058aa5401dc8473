"""``resque-impl work --concurrency N``: N job slots in one real worker process, on a real redis-server.

Each test starts the worker as an operator would, sends it real signals, and coordinates with its jobs
through files (see tests/worker_jobs.py).
"""

# The fixtures imported from test_processes are taken by name as parameters.
# ruff: noqa: F811

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis

from resque_impl import Resque
from resque_impl.web.view import DashboardView
from resque_impl.worker import Worker, WorkerOptions
from resque_impl.worker.slots import slot_id
from tests.resque_impl.worker.test_processes import (  # noqa: F401
    ROOT,
    WorkerProcess,
    client,
    failures,
    lines,
    resque,
    server,
    spawn,
    wait_for,
)
from tests.worker_jobs import ProcAsync, ProcMark, ProcSlow, ProcSteps

SLOTS = 4


def slot_ids(pid: int, queues: str = "proc", slots: int = SLOTS) -> list[str]:
    return sorted(slot_id(f"{socket.gethostname()}:{pid}:{queues}", slot) for slot in range(slots))


def count(path: Path, prefix: str) -> int:
    return sum(line.startswith(prefix) for line in lines(path))


def mixed(seconds: float) -> list[tuple[Any, ...]]:
    """SLOTS jobs of ``seconds``, thread (sync) and coroutine (async) ones taking turns."""
    return [
        (cls, f"{kind} {n}", seconds)
        for n in range(SLOTS // 2)
        for cls, kind in ((ProcSteps, "sync"), (ProcAsync, "async"))
    ]


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    """The file the jobs write their steps to (tests/worker_jobs.py)."""
    return tmp_path / "notes"


@pytest.fixture
def busy_worker(resque: Resque, spawn: Callable[..., WorkerProcess], notes: Path) -> Callable[..., WorkerProcess]:
    """Queue ``jobs`` (a job class and its arguments after the notes file, each), start a worker of SLOTS
    slots, and return it once every slot has started a job."""

    def start(*jobs: tuple[Any, ...]) -> WorkerProcess:
        for job_class, *args in jobs:
            resque.enqueue(job_class, str(notes), *args)
        worker = spawn("--concurrency", str(SLOTS))
        wait_for(lambda: count(notes, "start") == SLOTS, "every slot to start a job")
        return worker

    return start


def test_every_slot_runs_a_job_at_once_thread_or_coroutine(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    for n in range(SLOTS):
        resque.enqueue(ProcSteps, str(notes), f"sync {n}", 0.5)
    for n in range(SLOTS):
        resque.enqueue(ProcAsync, str(notes), f"async {n}", 0.5)
    worker = spawn("--burst", "--concurrency", str(SLOTS))
    assert worker.wait() == 0, worker.output()
    seen = lines(notes)
    # Each batch of SLOTS jobs started before the first of them ended.
    assert all(line.startswith("start sync") for line in seen[:SLOTS]), seen
    assert seen.index(next(line for line in seen if line.startswith("end"))) >= SLOTS
    starts = [i for i, line in enumerate(seen) if line.startswith("start async")]
    ends = [i for i, line in enumerate(seen) if line.startswith("end async")]
    assert len(starts) == len(ends) == SLOTS, seen
    assert max(starts) < min(ends), seen
    assert (resque.stat("processed"), failures(resque)) == (2 * SLOTS, [])
    assert resque.workers() == []
    assert client.hgetall("resque:workers:heartbeat") == {}


def test_each_slot_is_a_registered_worker_with_heartbeat_and_job(
    resque: Resque, client: redis.Redis, busy_worker: Callable[..., WorkerProcess]
) -> None:
    worker = busy_worker(*((ProcSteps, str(n), 30) for n in range(SLOTS)))
    ids = slot_ids(worker.pid)
    assert sorted(resque.workers()) == ids
    assert sorted(key.decode() for key in client.hkeys("resque:workers:heartbeat")) == ids
    for worker_id in ids:
        assert client.exists(f"resque:worker:{worker_id}:started")
        assert b'"class":"ProcSteps"' in client.get(f"resque:worker:{worker_id}")
    # Another worker on these queues, on this host, prunes none of them while the process lives.
    pruner = Worker("proc", resque=resque, options=WorkerOptions(heartbeat_interval=1))
    assert pruner.prune_dead_workers() == []
    # The dashboard shows each as a working worker of this host and pid, on queue proc.
    shown = DashboardView(resque).workers()
    assert shown["count"] == shown["working"] == SLOTS
    [host] = shown["hosts"]
    assert [(w["id"], w["pid"], w["queues"], w["stale"]) for w in host["workers"]] == [
        (worker_id, str(worker.pid), ["proc"], False) for worker_id in ids
    ]
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert resque.workers() == []


def test_a_killed_process_has_every_slot_pruned_and_every_job_requeued(
    resque: Resque, client: redis.Redis, busy_worker: Callable[..., WorkerProcess]
) -> None:
    worker = busy_worker(*((ProcSteps, str(n), 60) for n in range(SLOTS)))
    ids = slot_ids(worker.pid)
    worker.kill_group()
    assert resque.size("proc") == 0
    client.delete("resque:pruning_dead_workers_in_progress")
    pruner = Worker("proc", resque=resque, options=WorkerOptions(heartbeat_interval=1))
    assert sorted(pruner.prune_dead_workers()) == ids
    assert resque.size("proc") == SLOTS
    assert resque.workers() == []
    assert failures(resque) == []


def test_quit_lets_every_slot_finish_its_job(
    resque: Resque, busy_worker: Callable[..., WorkerProcess], notes: Path
) -> None:
    worker = busy_worker(*mixed(0.5), (ProcMark, "left for later"))
    worker.send(signal.SIGQUIT)
    assert worker.wait() == 0, worker.output()
    assert count(notes, "end") == SLOTS
    assert resque.size("proc") == 1
    assert (resque.stat("processed"), failures(resque)) == (SLOTS, [])
    assert resque.workers() == []


def test_term_interrupts_threads_and_cancels_coroutines(
    resque: Resque, busy_worker: Callable[..., WorkerProcess], notes: Path
) -> None:
    worker = busy_worker(*mixed(60))
    started = time.monotonic()
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert time.monotonic() - started < 3
    assert (count(notes, "term sync"), count(notes, "cancelled async"), count(notes, "end")) == (2, 2, 0)
    records = failures(resque)
    assert (
        sorted((record["exception"], record["error"]) for record in records)
        == [("Resque::TermException", "SIGTERM")] * SLOTS
    )
    assert resque.workers() == []


def test_term_requeues_a_job_stuck_in_a_call_it_cannot_leave(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 60)  # one time.sleep(60): not interruptible from another thread
    worker = spawn("--concurrency", "2", env={"RESQUE_TERM_TIMEOUT": "0.5"})
    wait_for(lambda: count(notes, "start") == 1, "the job to start")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert "did not stop within 0.5 s" in worker.output()
    assert resque.size("proc") == 1
    assert failures(resque) == []
    assert resque.workers() == []
    # Requeued as in-flight jobs of dead workers are (counted, in case it keeps happening).
    assert client.keys("resque:inflight:*") == [b"resque:inflight:recoveries"]


def test_usr2_pauses_every_slot_and_cont_resumes_them(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    worker = spawn("--concurrency", str(SLOTS), "--interval", "0.1")
    wait_for(lambda: len(resque.workers()) == SLOTS, "the slots to register")
    worker.send(signal.SIGUSR2)
    wait_for(lambda: "paused: taking no new jobs" in worker.output(), "the slots to pause")
    time.sleep(0.2)
    for n in range(SLOTS):
        resque.enqueue(ProcMark, str(notes), f"after resume {n}")
    time.sleep(0.5)
    assert resque.size("proc") == SLOTS
    worker.send(signal.SIGCONT)
    wait_for(lambda: len(lines(notes)) == SLOTS, "the jobs after CONT")
    worker.send(signal.SIGQUIT)
    assert worker.wait() == 0


def test_job_timeout_stops_a_slots_thread_or_coroutine(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSteps, str(notes), "sync", 30)
    resque.enqueue(ProcAsync, str(notes), "async", 30)
    resque.enqueue(ProcSteps, str(notes), "quick", 0.05)
    worker = spawn("--concurrency", "3", "--burst", "--job-timeout", "0.5")
    assert worker.wait(10) == 0, worker.output()
    assert "end quick" in lines(notes)
    records = failures(resque)
    assert sorted(record["exception"] for record in records) == ["Resque::JobTimeoutError"] * 2
    assert all("0.5 s timeout" in record["error"] for record in records)


def test_an_async_job_runs_with_one_slot_forked_or_not(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcAsync, str(notes), "forked", 0.01)
    resque.enqueue(ProcAsync, str(notes), "here", 0.01)
    assert spawn("--burst", "--max-jobs", "1").wait() == 0
    assert spawn("--burst", "--no-fork").wait() == 0
    assert lines(notes) == ["start forked", "end forked", "start here", "end here"]
    assert failures(resque) == []


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", "redis://127.0.0.1:1/0", "work", "-q", "x", *args]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=30, check=False)


def test_bad_concurrency_and_forking_with_slots_are_refused_at_start() -> None:
    for bad in ("0", "many"):
        done = run_cli("--concurrency", bad)
        assert done.returncode == 2
        assert "--concurrency" in done.stderr
    assert run_cli(env={"RESQUE_CONCURRENCY": "-1"}).returncode == 2
    for done in (run_cli("--concurrency", "2", "--fork"), run_cli("--concurrency", "2", env={"FORK_PER_JOB": "1"})):
        assert done.returncode == 2, done.stderr
        assert "--no-fork" in done.stderr, done.stderr


def test_max_memory_is_the_processes_limit_checked_by_each_slot_after_its_job(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    for n in range(2 * SLOTS):
        resque.enqueue(ProcSteps, str(notes), str(n), 0.3)
    worker = spawn("--concurrency", str(SLOTS), "--max-memory", "1")  # any process is over 1 MB
    assert worker.wait() == 0, worker.output()
    # Every slot's job finished (none interrupted), then the process stopped for a fresh one.
    assert (count(notes, "start"), count(notes, "end")) == (SLOTS, SLOTS)
    assert (resque.size("proc"), failures(resque)) == (SLOTS, [])
    assert resque.workers() == []


def test_idle_slots_share_one_subscription_and_wake_on_a_push(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    worker = spawn("--interval", "3600", "--concurrency", str(SLOTS))
    wait_for(lambda: "Waiting for" in worker.title(), "the slots to wait")
    channel = resque.store.keys.notify_channel
    wait_for(lambda: dict(client.pubsub_numsub(channel))[channel.encode()] == 1, "the one subscription")
    for n in range(SLOTS):
        resque.enqueue(ProcMark, str(tmp_path / "notes"), f"woken {n}")
    wait_for(lambda: len(lines(tmp_path / "notes")) == SLOTS, "the notified jobs")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0
    assert dict(client.pubsub_numsub(channel))[channel.encode()] == 0
