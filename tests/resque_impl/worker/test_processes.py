"""Real worker processes (``resque-impl work``), real signals, real child processes, a real redis-server.

Each test starts the worker as an operator would, coordinates with its jobs through files, and waits
for conditions with deadlines rather than fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.version import __version__
from resque_impl.worker.pruning import local_worker_pids
from tests.worker_jobs import (
    ProcCrashOnce,
    ProcExit,
    ProcIgnoresTerm,
    ProcKillSelf,
    ProcMark,
    ProcSlow,
    ProcTermAware,
    ProcTimeout,
)

ROOT = Path(__file__).resolve().parents[3]
DEADLINE = 15.0
#: Ruby's record of a child killed by SIGKILL: the child's pid, then the signal.
KILLED = r"Child process received unhandled signal pid \d+ SIGKILL \(signal 9\)"


def wait_for(condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class WorkerProcess:
    """``resque-impl work`` in its own session (so the whole process group can be killed)."""

    def __init__(
        self, url: str, tmp: Path, *args: str, queues: str = "proc", env: dict[str, str] | None = None
    ) -> None:
        self.log = tmp / f"worker-{time.monotonic_ns()}.log"
        command = [sys.executable, "-m", "resque_impl.cli", "--redis", url, "work", "-q", queues]
        command += ["--jobs", "tests.worker_jobs", "-vv", *args]
        environment = {k: v for k, v in os.environ.items() if k not in ("INTERVAL", "QUEUES", "QUEUE", "COUNT")}
        environment.update(env or {})
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def wait(self, timeout: float = DEADLINE) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker did not exit; its log:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def title(self) -> str:
        try:
            return Path(f"/proc/{self.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            return ""

    def kill_group(self) -> None:
        """SIGKILL the worker, then everything left in its group (its job's child).

        The worker goes first: a kernel may deliver a group's SIGKILL to the child before the parent,
        and a parent that outlived its child by a moment would record the child's death.
        """
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait(DEADLINE)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)


@pytest.fixture
def server(redis_server: RedisServer) -> RedisServer:
    client = redis_server.client()
    client.flushall()
    client.close()
    return redis_server


@pytest.fixture
def client(server: RedisServer) -> Iterator[redis.Redis]:
    connection = server.client()
    yield connection
    connection.close()


@pytest.fixture
def resque(client: redis.Redis) -> Resque:
    return Resque(client)


@pytest.fixture
def spawn(server: RedisServer, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: str, **kwargs: Any) -> WorkerProcess:
        worker = WorkerProcess(server.url, tmp_path, *args, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.kill_group()


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def failures(resque: Resque) -> list[dict[str, Any]]:
    return [record.data for record in resque.failures.all()]


def started(path: Path) -> Callable[[], bool]:
    return lambda: any(line.startswith(("start", "started", "first")) for line in lines(path))


def test_burst_worker_forks_per_job_drains_and_exits_zero(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    for n in range(3):
        resque.enqueue(ProcMark, str(marks), f"job {n}")
    worker = spawn("--burst")
    assert worker.wait() == 0, worker.output()
    assert lines(marks) == ["job 0", "job 1", "job 2"]
    assert resque.stat("processed") == 3
    keys = sorted(key.decode() for key in client.scan_iter())
    assert [key for key in keys if not key.startswith(("resque:metrics:job:", "resque:metrics:queue:"))] == [
        "resque:pruning_dead_workers_in_progress",
        "resque:queues",
        "resque:stat:processed",
    ]
    # The job metrics the worker recorded (on by default), flushed as it stopped.
    (day,) = [key for key in keys if key.startswith("resque:metrics:job:day:")]
    assert client.hget(day, f"executions:{resque.registry.name_of(ProcMark)}") == b"3"


def test_no_job_metrics_leaves_no_metrics_keys(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    resque.enqueue(ProcMark, str(tmp_path / "marks"), "job")
    worker = spawn("--burst", "--no-job-metrics")
    assert worker.wait() == 0, worker.output()
    assert resque.stat("processed") == 1
    assert list(client.scan_iter("resque:metrics:*")) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_term_and_int_kill_the_child_and_record_a_dirty_exit(
    signum: int, resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 60)
    resque.enqueue(ProcMark, str(notes), "never")
    worker = spawn()
    wait_for(started(notes), "the job to start")
    worker.send(signum)
    assert worker.wait() == 0, worker.output()
    [record] = failures(resque)
    assert record["exception"] == "Resque::DirtyExit"
    assert re.fullmatch(KILLED, record["error"])
    assert resque.size("proc") == 1
    assert resque.workers() == []


def test_graceful_term_lets_the_job_finish(resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 0.5)
    worker = spawn(env={"GRACEFUL_TERM": "1"})
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert lines(notes)[-1] == "end"
    assert failures(resque) == []


def test_quit_finishes_the_current_job_then_exits(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 0.5)
    resque.enqueue(ProcMark, str(notes), "left for later")
    worker = spawn()
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGQUIT)
    assert worker.wait() == 0, worker.output()
    assert lines(notes)[-1] == "end"
    assert resque.size("proc") == 1
    assert (resque.stat("processed"), failures(resque)) == (1, [])


def test_usr1_kills_the_child_and_the_worker_carries_on(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 60)
    resque.enqueue(ProcMark, str(notes), "next job")
    worker = spawn()
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGUSR1)
    wait_for(lambda: "next job" in lines(notes), "the next job")
    assert failures(resque)[0]["exception"] == "Resque::DirtyExit"
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0


def test_usr2_pauses_and_cont_resumes(resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    worker = spawn("--interval", "0.1")
    wait_for(lambda: "Waiting for proc" in worker.title(), "the worker to wait")
    worker.send(signal.SIGUSR2)
    wait_for(lambda: worker.title().endswith(": Paused"), "the worker to pause")
    resque.enqueue(ProcMark, str(notes), "after resume")
    # Paused: even the push notification and several polls leave the job alone.
    time.sleep(0.5)
    assert resque.size("proc") == 1
    worker.send(signal.SIGCONT)
    wait_for(lambda: lines(notes) == ["after resume"], "the job after CONT")
    worker.send(signal.SIGQUIT)
    assert worker.wait() == 0


def test_pause_all_workers_key_pauses_every_worker(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    client.set("resque:pause-all-workers", "true")
    resque.enqueue(ProcMark, str(notes), "after unpause")
    worker = spawn("--interval", "0.1")
    wait_for(lambda: worker.title().endswith(": Paused"), "the worker to pause")
    assert resque.size("proc") == 1
    client.delete("resque:pause-all-workers")
    wait_for(lambda: lines(notes) == ["after unpause"], "the job after unpausing")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0


def test_term_child_raises_term_exception_in_the_job(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcTermAware, str(notes))
    worker = spawn(env={"TERM_CHILD": "1", "RESQUE_TERM_TIMEOUT": "10"})
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert lines(notes) == ["started", "cleaning up"]
    [record] = failures(resque)
    assert (record["exception"], record["error"]) == ("Resque::TermException", "SIGTERM")


def test_term_child_kills_a_child_that_ignores_term_after_the_timeout(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcIgnoresTerm, str(notes))
    worker = spawn(env={"TERM_CHILD": "1", "RESQUE_TERM_TIMEOUT": "0.3"})
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert re.fullmatch(KILLED, failures(resque)[0]["error"])


def test_pre_shutdown_timeout_lets_a_short_job_finish(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 0.5)
    worker = spawn(env={"TERM_CHILD": "1", "RESQUE_PRE_SHUTDOWN_TIMEOUT": "10"})
    wait_for(started(notes), "the job to start")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0, worker.output()
    assert lines(notes)[-1] == "end"
    assert failures(resque) == []


@pytest.mark.parametrize(
    ("job_class", "args", "options", "error"),
    [
        (ProcExit, (3,), (), "Child process exited with status 3 before reporting a result"),
        (ProcKillSelf, (), ("--no-reliable",), KILLED),
    ],
)
def test_a_child_dying_mid_job_is_a_dirty_exit_and_the_worker_goes_on(
    job_class: type,
    args: tuple[Any, ...],
    options: tuple[str, ...],
    error: str,
    resque: Resque,
    spawn: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    resque.enqueue(job_class, *args)
    resque.enqueue(ProcMark, str(tmp_path / "notes"), "still alive")
    assert spawn("--burst", *options).wait() == 0
    [record] = failures(resque)
    assert record["exception"] == "Resque::DirtyExit"
    assert re.fullmatch(error, record["error"])
    assert lines(tmp_path / "notes") == ["still alive"]
    assert (resque.stat("processed"), resque.stat("failed")) == (2, 1)


def test_a_child_killed_from_outside_runs_again_until_it_is_poison(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    # As if the worker had died with it: back to its queue three times, then a poison failure.
    resque.enqueue(ProcKillSelf)
    resque.enqueue(ProcMark, str(tmp_path / "notes"), "still alive")
    worker = spawn("--burst")
    assert worker.wait() == 0
    assert worker.output().count("crashed: ProcKillSelf") == 4
    [record] = failures(resque)
    assert record["exception"] == "Resque::PoisonJobError"
    assert re.fullmatch(
        rf"job was recovered 3 times and its process died again \({KILLED}\); recorded as failed instead of "
        "running it again",
        record["error"],
    )
    assert lines(tmp_path / "notes") == ["still alive"]
    assert (resque.stat("processed"), resque.stat("failed")) == (2, 1)
    assert not [key for key in client.scan_iter() if b"inflight" in key]


def test_a_killed_worker_loses_no_job_another_worker_runs_it(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcCrashOnce, str(notes))
    # A 1 s heartbeat interval makes the pruning lock (held for one interval) and the periodic pruning
    # by live workers quick enough for a test; production uses 60 s.
    doomed = spawn("--heartbeat-interval", "1")
    wait_for(started(notes), "the job to start")
    doomed.kill_group()  # SIGKILL the worker and its child: nobody is left to record anything
    assert resque.size("proc") == 0
    assert client.llen(f"{{resque:queue:proc}}:inflight:{resque.workers()[0]}") == 1

    # A worker on the same host serving the same queues finds the dead pid and recovers the job.
    rescuer = spawn("--heartbeat-interval", "1", "--interval", "0.1")
    wait_for(lambda: lines(notes) == ["first", "again"], "the recovered job to run again")
    rescuer.send(signal.SIGTERM)
    assert rescuer.wait() == 0
    assert failures(resque) == []
    assert not [key for key in client.scan_iter() if b"inflight" in key]


def test_a_killed_supervised_worker_is_replaced_at_once_and_its_job_runs_again(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    # With the default 60 s heartbeat: the replacement recovers the job at startup, not a minute later.
    notes = tmp_path / "notes"
    resque.enqueue(ProcCrashOnce, str(notes))
    spawn("--count", "2", "--interval", "0.1")
    wait_for(started(notes), "the job to start")
    [busy] = resque.working()
    os.kill(int(busy.split(":")[1]), signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: lines(notes) == ["first", "again"], "the recovered job to run again", timeout=5)
    assert time.monotonic() - killed < 5
    assert failures(resque) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_jobs_child_dies_with_its_worker(resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    resque.enqueue(ProcSlow, str(notes), 60)
    worker = spawn()
    wait_for(started(notes), "the job to start")
    child = int(lines(notes)[0].split()[1])
    worker.process.kill()
    worker.process.wait()

    def gone() -> bool:
        try:
            stat = Path(f"/proc/{child}/stat").read_text()
        except OSError:
            return True
        return stat[stat.rfind(")") + 2] == "Z"

    wait_for(gone, "the job's child to die with its worker", timeout=5)


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _state_and_title(pid: int) -> tuple[str, str]:
    stat = Path(f"/proc/{pid}/stat").read_text()
    title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return stat[stat.rfind(")") + 2], title


def test_an_idle_worker_keeps_no_zombie_only_its_fork_server_and_spare(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    # The worker goes on as soon as a child has reported and reaps it later: never so late that an idle
    # worker keeps a zombie. Its one child is its fork server, whose one child is the spare forked for
    # the next job, waiting.
    marks = tmp_path / "marks"
    for n in range(3):
        resque.enqueue(ProcExit, 0)
        resque.enqueue(ProcMark, str(marks), f"job {n}")
    worker = spawn("--interval", "0.1")
    wait_for(lambda: resque.stat("processed") == 6, "six jobs to be processed")
    wait_for(lambda: len(_children(worker.pid)) == 1, "the worker to reap its last child", timeout=2)
    (server,) = _children(worker.pid)
    assert _state_and_title(server) == ("S", "resque-0.1.0: Fork server")
    wait_for(lambda: len(_children(server)) == 1, "the server to reap its last child", timeout=2)
    state, title = _state_and_title(_children(server)[0])
    assert state == "S"
    assert title.endswith("Ready for the next job")
    assert lines(marks) == ["job 0", "job 1", "job 2"]
    assert [record["exception"] for record in failures(resque)] == ["Resque::DirtyExit"] * 3


def test_without_prefork_an_idle_worker_has_no_child(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    resque.enqueue(ProcMark, str(tmp_path / "marks"), "job")
    worker = spawn("--interval", "0.1", "--no-prefork")
    wait_for(lambda: resque.stat("processed") == 1, "the job to be processed")
    wait_for(lambda: not _children(worker.pid), "the worker to reap its child", timeout=2)


def _idle_with_fork_server(
    resque: Resque, spawn: Callable[..., WorkerProcess], marks: Path
) -> tuple[WorkerProcess, int]:
    """A worker that has run one job (noting ``first``) and waits, and its fork server."""
    resque.enqueue(ProcMark, str(marks), "first")
    worker = spawn("--interval", "0.1")
    wait_for(lambda: resque.stat("processed") == 1 and len(_children(worker.pid)) == 1, "a fork server")
    (server,) = _children(worker.pid)
    return worker, server


def test_a_spare_killed_while_waiting_costs_no_job(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    _, server = _idle_with_fork_server(resque, spawn, marks)
    wait_for(lambda: len(_children(server)) == 1, "a spare, waiting")
    os.kill(_children(server)[0], signal.SIGKILL)

    resque.enqueue(ProcMark, str(marks), "second")

    wait_for(lambda: resque.stat("processed") == 2, "the second job to be processed")
    assert lines(marks) == ["first", "second"]
    assert failures(resque) == []


def test_a_fork_server_killed_while_idle_costs_no_job_and_is_replaced(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    worker, server = _idle_with_fork_server(resque, spawn, marks)
    os.kill(server, signal.SIGKILL)

    resque.enqueue(ProcMark, str(marks), "second")

    wait_for(lambda: resque.stat("processed") == 2, "the second job to be processed")
    wait_for(lambda: len(_children(worker.pid)) == 1 and _children(worker.pid) != [server], "a new fork server")
    assert lines(marks) == ["first", "second"]
    assert failures(resque) == []


def test_a_served_child_dies_with_its_worker(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    # The worker's death takes its fork server, and the server's death the job's child: nothing of a
    # SIGKILLed worker runs on beside the job's recovery.
    notes = tmp_path / "notes"
    resque.enqueue(ProcMark, str(tmp_path / "marks"), "first")  # forked by the worker; starts the server
    resque.enqueue(ProcSlow, str(notes), 60)
    worker = spawn("--interval", "0.1")
    wait_for(lambda: lines(notes), "the slow job to start")
    child = int(lines(notes)[0].split()[1])
    (server,) = [pid for pid in _children(worker.pid) if _state_and_title(pid)[1].endswith("Fork server")]
    assert child in _children(server)
    # Titled as Ruby's child is, which inherits what its worker set before forking it.
    assert re.fullmatch(r"resque-\S+: Processing proc since \d+ \[ProcSlow\]", _state_and_title(child)[1])

    worker.send(signal.SIGKILL)
    worker.wait()

    wait_for(lambda: not Path(f"/proc/{child}").exists() and not Path(f"/proc/{server}").exists(), "both to die")


def test_job_timeouts_kill_the_child(resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    resque.enqueue(ProcTimeout, 60)  # the class says 0.3 s
    resque.enqueue(ProcSlow, str(tmp_path / "notes"), 60)
    assert spawn("--burst", "--job-timeout", "0.3").wait() == 0
    records = failures(resque)
    assert [record["exception"] for record in records] == ["Resque::JobTimeoutError"] * 2
    assert records[0]["error"] == "job ran longer than its 0.3 s timeout and was killed"


def test_malformed_payloads_become_failures_and_the_worker_stays_up(
    resque: Resque, client: redis.Redis, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    client.rpush("resque:queue:proc", b"\xff not json", b'{"class":"Missing::Job","args":[]}', b'{"args":[]}')
    resque.enqueue(ProcMark, str(tmp_path / "notes"), "fine")
    worker = spawn("--interval", "0.1")
    wait_for(lambda: lines(tmp_path / "notes") == ["fine"], "the good job")
    assert worker.process.poll() is None
    assert [record["exception"] for record in failures(resque)] == [
        "PayloadDecodeError",
        "NameError",
        "PayloadDecodeError",
    ]
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0


def test_the_worker_survives_a_redis_restart(tmp_path: Path) -> None:
    with RedisServer() as own:
        worker = WorkerProcess(own.url, tmp_path, "--interval", "0.1")
        try:
            client = own.client()
            wait_for(lambda: client.smembers("resque:workers"), "the worker to register")
            own.stop()
            time.sleep(0.3)  # let the worker notice the outage
            own.start()
            client = own.client()
            Resque(client).enqueue(ProcMark, str(tmp_path / "notes"), "after restart")
            wait_for(lambda: lines(tmp_path / "notes") == ["after restart"], "the job after the restart")
            wait_for(lambda: client.smembers("resque:workers"), "the worker to register again")
            assert "lost Redis" in worker.output()
            worker.send(signal.SIGTERM)
            assert worker.wait() == 0
        finally:
            if worker.process.poll() is None:
                worker.kill_group()


def test_max_jobs_exits_cleanly_for_a_restart(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    for n in range(3):
        resque.enqueue(ProcMark, str(tmp_path / "notes"), str(n))
    worker = spawn("--max-jobs", "2", "--no-fork")
    assert worker.wait() == 0
    assert lines(tmp_path / "notes") == ["0", "1"]
    assert resque.size("proc") == 1


def test_an_idle_worker_wakes_on_a_push_long_before_its_interval(
    resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    worker = spawn("--interval", "3600")
    wait_for(lambda: "Waiting for" in worker.title(), "the worker to wait")
    resque.enqueue(ProcMark, str(tmp_path / "notes"), "woken")
    wait_for(lambda: lines(tmp_path / "notes") == ["woken"], "the notified job")
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0


def test_title_and_pid_show_a_live_worker_to_ruby_pruners(spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"
    worker = spawn("--interval", "0.1", "--pidfile", str(pidfile))
    wait_for(lambda: "Waiting for" in worker.title(), "the worker to wait")
    assert worker.title() == f"resque-{__version__}: Waiting for proc"
    assert str(worker.pid) in local_worker_pids()
    assert pidfile.read_text().strip() == str(worker.pid)
    worker.send(signal.SIGTERM)
    assert worker.wait() == 0
    assert not pidfile.exists()


def test_count_runs_supervised_workers_and_replaces_a_dead_one(
    resque: Resque, spawn: Callable[..., WorkerProcess]
) -> None:
    supervisor = spawn("--count", "2", "--interval", "0.1", "--heartbeat-interval", "1")
    first = wait_for(lambda: len(resque.workers()) == 2 and resque.workers(), "two workers")
    victim = int(first[0].split(":")[1])
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: len(resque.workers()) == 2 and str(victim) not in ":".join(resque.workers()),
        "a replacement worker (which prunes the dead one)",
    )
    supervisor.send(signal.SIGTERM)
    assert supervisor.wait() == 0, supervisor.output()
    assert resque.workers() == []


def test_json_logs(resque: Resque, spawn: Callable[..., WorkerProcess], tmp_path: Path) -> None:
    resque.enqueue(ProcMark, str(tmp_path / "notes"), "x")
    worker = spawn("--burst", "--log-format", "json")
    assert worker.wait() == 0
    entries = [json.loads(line) for line in worker.output().splitlines()]
    assert {"time", "level", "pid", "logger", "message"} <= set(entries[0])
    assert any(entry["message"].startswith("done: ProcMark") for entry in entries)


def test_no_fork_mode_times_out_with_an_alarm(resque: Resque, spawn: Callable[..., WorkerProcess]) -> None:
    resque.enqueue(ProcTimeout, 60)
    assert spawn("--burst", "--no-fork").wait() == 0
    [record] = failures(resque)
    assert (record["exception"], record["error"]) == (
        "Resque::JobTimeoutError",
        "job ran longer than its 0.3 s timeout and was interrupted",
    )


def test_no_queues_is_a_usage_error(spawn: Callable[..., WorkerProcess]) -> None:
    worker = spawn(queues="")
    assert worker.wait() == 2
    assert "give the queues" in worker.output()
