"""Job classes for the reliability suite; worker processes import them with ``--jobs tests.chaos.chaos_jobs``.

Jobs record every execution in the *ledger* named by ``$CHAOS_LEDGER``, a file outside Redis: a
``begin`` line when an execution starts and a ``done`` line when it finishes, each written by one
``write`` on an ``O_APPEND`` descriptor and fsynced before the job goes on. A killed process leaves its
``begin`` behind; a job run twice leaves two ``done`` lines. Loss and duplication are counted from
these lines, never from Redis.

With ``$CHAOS_IMPORT_LOG`` set, every module a worker process (or its job's child) loads from then on
is appended to that file, through an audit hook: the fuzz test proves no payload made a worker import
anything.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

from resque_impl import Job
from resque_impl.worker import worker_pid

LEDGER_ENV = "CHAOS_LEDGER"
IMPORT_LOG_ENV = "CHAOS_IMPORT_LOG"


def _append(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def record(event: str, job_id: str, **details: Any) -> float:
    """Append one fsynced ledger line for this process's execution of ``job_id``; returns its time."""
    now = time.time()
    entry = {"e": event, "job": job_id, "pid": os.getpid(), "ppid": os.getppid(), "worker": worker_pid(), "t": now}
    entry |= details
    _append(os.environ[LEDGER_ENV], (json.dumps(entry, separators=(",", ":")) + "\n").encode())
    return now


def _log_imports(event: str, args: tuple[Any, ...]) -> None:
    # Only os calls here: anything that imports would re-enter the hook.
    if event == "import":
        _append(os.environ[IMPORT_LOG_ENV], f"{os.getpid()} {args[0]}\n".encode())


if os.environ.get(IMPORT_LOG_ENV):
    sys.addaudithook(_log_imports)


class ChaosIntendedFailure(Exception):
    """What a job meant to fail raises."""


class ChaosWork(Job):
    """Sleeps ``sleep_ms``, then finishes (or raises :class:`ChaosIntendedFailure` when ``fail``)."""

    queue = "chaos"

    @staticmethod
    def perform(job_id: str, sleep_ms: int, fail: bool = False) -> None:
        record("begin", job_id)
        time.sleep(sleep_ms / 1000)
        record("done", job_id, failed=fail)
        if fail:
            raise ChaosIntendedFailure(f"job {job_id} was meant to fail")


class ChaosSuicide(Job):
    """SIGKILLs the process it runs in: the child in fork mode, the worker itself without forking."""

    queue = "chaos"

    @staticmethod
    def perform(job_id: str) -> None:
        record("begin", job_id)
        os.kill(os.getpid(), signal.SIGKILL)


class ChaosHang(Job):
    """Never returns."""

    queue = "chaos"

    @staticmethod
    def perform(job_id: str) -> None:
        record("begin", job_id)
        while True:
            time.sleep(0.05)


class ChaosLeak(Job):
    """Allocates (and touches) 8 MB every 10 ms; gives up with an error at ``give_up_mb``, so a memory
    limit that is never enforced fails the test instead of the machine."""

    queue = "chaos"

    @staticmethod
    def perform(job_id: str, give_up_mb: int) -> None:
        record("begin", job_id)
        held: list[bytes] = []
        while len(held) * 8 < give_up_mb:
            held.append(b"\x01" * (8 << 20))
            time.sleep(0.01)
        raise RuntimeError(f"allocated {give_up_mb} MB and nobody stopped the job")


class StrRaises(Exception):
    def __str__(self) -> str:
        raise ValueError("this exception cannot be printed")


class StrRaisesSystemExit(Exception):
    def __str__(self) -> str:
        raise SystemExit(3)


class StrNotText(Exception):
    def __str__(self) -> str:
        return 42  # type: ignore[return-value]  # noqa: PLE0307


HOSTILE: dict[str, BaseException] = {
    "str-raises": StrRaises(),
    "str-raises-system-exit": StrRaisesSystemExit(),
    "str-not-text": StrNotText(),
    "ten-megabyte-message": ValueError("x" * (10 << 20)),
    "lone-surrogate": ValueError("bad text \ud800 here"),
    "nul-and-controls": ValueError("nul \x00 bell \x07 escape \x1b[31m"),
}


class ChaosHostile(Job):
    """Raises the hostile exception named ``kind`` (see :data:`HOSTILE`)."""

    queue = "chaos"

    @staticmethod
    def perform(job_id: str, kind: str) -> None:
        record("begin", job_id)
        raise HOSTILE[kind]


class ChaosModules(Job):
    """Writes the names in this process's ``sys.modules`` to ``path``, one a line."""

    queue = "chaos"

    @staticmethod
    def perform(path: str) -> None:
        with open(path, "w") as file:
            file.write("\n".join(sorted(sys.modules)) + "\n")
