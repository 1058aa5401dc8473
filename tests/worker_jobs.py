"""Job classes for tests that run real worker processes (``resque-impl work --jobs tests.worker_jobs``).

They coordinate with the test through files: each appends lines to the path it is given.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import resque_impl
from resque_impl import Job, TermException


def note(path: str, text: str) -> None:
    with open(path, "a") as file:
        file.write(f"{text}\n")


class ProcMark(Job):
    """Appends ``text`` to ``path``."""

    queue = "proc"

    @staticmethod
    def perform(path: str, text: str) -> None:
        note(path, text)


class ProcSlow(Job):
    """Notes ``start <pid>``, sleeps ``seconds``, notes ``end``."""

    queue = "proc"

    @staticmethod
    def perform(path: str, seconds: float) -> None:
        note(path, f"start {os.getpid()}")
        time.sleep(seconds)
        note(path, "end")


class ProcCrashOnce(Job):
    """The first run notes ``first`` and hangs (its worker is killed meanwhile); later runs note ``again``."""

    queue = "proc"

    @staticmethod
    def perform(path: str) -> None:
        if Path(path).exists():
            note(path, "again")
            return
        note(path, "first")
        time.sleep(60)


class ProcKillSelf(Job):
    queue = "proc"

    @staticmethod
    def perform() -> None:
        os.kill(os.getpid(), signal.SIGKILL)


class ProcExit(Job):
    queue = "proc"

    @staticmethod
    def perform(code: int) -> None:
        os._exit(code)


class ProcTermAware(Job):
    """Notes ``started``; on the worker's TermException notes ``cleaning up`` and lets it through."""

    queue = "proc"

    @staticmethod
    def perform(path: str) -> None:
        note(path, "started")
        try:
            time.sleep(60)
        except TermException:
            note(path, "cleaning up")
            raise


class ProcIgnoresTerm(Job):
    queue = "proc"

    @staticmethod
    def perform(path: str) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        note(path, "started")
        time.sleep(60)


class ProcTimeout(Job):
    """Declares its own timeout."""

    queue = "proc"
    job_timeout = 0.3

    @staticmethod
    def perform(seconds: float, *rest: Any) -> None:
        time.sleep(seconds)


class ProcSteps(Job):
    """Notes ``start <text>``, sleeps ``seconds`` in short steps (so a thread can be interrupted between
    them), notes ``end <text>``; on the worker's TermException notes ``term <text>`` and lets it through."""

    queue = "proc"

    @staticmethod
    def perform(path: str, text: str, seconds: float) -> None:
        note(path, f"start {text}")
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                time.sleep(0.02)
        except TermException:
            note(path, f"term {text}")
            raise
        note(path, f"end {text}")


class ProcAsync(Job):
    """``async def perform``: notes ``start <text>``, awaits ``seconds``, notes ``end <text>``; notes
    ``cancelled <text>`` if cancelled."""

    queue = "proc"

    @staticmethod
    async def perform(path: str, text: str, seconds: float) -> None:
        note(path, f"start {text}")
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            note(path, f"cancelled {text}")
            raise
        note(path, f"end {text}")


class ProcEnqueue(Job):
    """Enqueues ``ProcMark(path, text)`` through the process default (``resque_impl.enqueue``), as job
    code that knows no :class:`~resque_impl.Resque` of its own does."""

    queue = "proc"

    @staticmethod
    def perform(path: str, text: str) -> None:
        resque_impl.enqueue(ProcMark, path, text)
