"""Real processes for the reliability suite: the CLI commands an operator runs, each in its own session.

Every process is started through :class:`Procs`, which the ``procs`` fixture stops (TERM, then KILL of
the whole process group, so forked children and orphans go too) when the test ends, however it ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from resque_impl.testing import RedisServer
from resque_impl.testing.redis_server import INSTALL_HINT

ROOT = Path(__file__).resolve().parents[2]
JOBS_MODULE = "tests.chaos.chaos_jobs"
#: Variables of the test's own environment that would change how a worker command behaves.
_WORKER_VARIABLES = ("INTERVAL", "QUEUES", "QUEUE", "COUNT", "FORK_PER_JOB", "RESQUE_JOBS", "REDIS_URL")


@contextlib.contextmanager
def durable_redis() -> Iterator[RedisServer]:
    """A private ``redis-server`` on a free loopback port, in a temporary directory, that writes and
    fsyncs every change to its append-only file before answering (``--appendfsync always``)."""
    if not RedisServer.available():
        message = f"redis-server is not installed; {INSTALL_HINT}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    server = RedisServer(["--appendonly", "yes", "--appendfsync", "always"]).start()
    try:
        yield server
    finally:
        server.close()


def wait_for(condition: Callable[[], Any], what: str, timeout: float, poll: float = 0.05) -> Any:
    """Poll ``condition`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(poll)


def settle(client: Any, queue: str, timeout: float) -> bool:
    """Wait until ``queue`` and every in-flight list are empty (nothing left to run); ``False`` if they
    are not after ``timeout`` seconds (the ledger then shows what was lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.llen(f"resque:queue:{queue}") == 0 and not list(client.scan_iter("{resque:queue:*}:inflight:*")):
            return True
        time.sleep(0.2)
    return False


def children_of(pid: int) -> list[int]:
    """Live (not zombie) children of ``pid``, read from ``/proc``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def is_fork_server(pid: int) -> bool:
    """Whether ``pid`` is a worker's fork server (by its process title)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").endswith(b"Fork server")
    except OSError:
        return False


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


class Proc:
    """One command in its own session, output to a log file."""

    def __init__(self, name: str, command: list[str], log: Path, env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.pid = self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """SIGKILL this process (not its group) and reap it."""
        self.signal(signal.SIGKILL)
        self.process.wait(10)

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} did not exit in {timeout:g} s; its log ends:\n{self.tail()}") from None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def stop_group(self, grace: float = 5.0) -> None:
        """TERM the process, then KILL its whole process group (children and orphans included)."""
        if self.running():
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(grace)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)


class Procs:
    """Starts CLI processes for one test and stops every one of them at the end."""

    def __init__(self, logs: Path, env: dict[str, str]) -> None:
        self.logs = logs
        self.env = {key: value for key, value in os.environ.items() if key not in _WORKER_VARIABLES}
        self.env.update(env)
        self.started: list[Proc] = []

    def cli(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        """``resque-impl <args>`` as a new process."""
        command = [sys.executable, "-m", "resque_impl.cli", *args]
        proc = Proc(name, command, self.logs / f"{name}.log", {**self.env, **(env or {})})
        self.started.append(proc)
        return proc

    def worker(self, name: str, url: str, queues: str, *options: str, env: dict[str, str] | None = None) -> Proc:
        """``resque-impl work`` on ``queues`` with the chaos jobs, JSON logs at info level."""
        args = ["--redis", url, "work", "-q", queues, "--jobs", JOBS_MODULE, "--log-format", "json", "-v"]
        return self.cli(name, *args, *options, env=env)

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop_group()

    def __enter__(self) -> Procs:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop_all()
