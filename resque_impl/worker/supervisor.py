"""``--count N``: one supervising process running N workers, restarting any that exit.

Each worker is a forked child running ``start(slot)`` (which builds a :class:`Worker` and returns its
exit code). TERM, INT and QUIT are passed on to every worker and stop the supervisor once they have
all exited; USR1, USR2 and CONT are passed on. A worker that exits while the supervisor is not stopping
is started again, except in burst mode, where a worker that exits cleanly has drained its queues.

A slot whose worker keeps dying within seconds of starting (a crash loop) is restarted after a delay
that doubles each time, up to 10 s; the other slots are not held up meanwhile. A worker killed with
SIGKILL is restarted at once: that signal comes from outside (the OOM killer, an operator), and the new
worker's first act is to recover the job the killed one held.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from resque_impl.worker.titles import set_title

__all__ = ["supervise"]

logger = logging.getLogger("resque_impl.worker")

_STOPPING = ("TERM", "INT", "QUIT")
_PASSED_ON = ("USR1", "USR2", "CONT")
#: A worker that lived less than this many seconds is restarted after a delay.
_QUICK_DEATH = 2.0
_MAX_DELAY = 10.0
#: Seconds between checks for exited workers while a restart is pending.
_POLL = 0.05


def _spawn(start: Callable[[int], int], slot: int) -> int:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        for name in (*_STOPPING, *_PASSED_ON):
            signal.signal(signal.Signals[f"SIG{name}"], signal.SIG_DFL)
        code = start(slot)
    except BaseException:
        logger.exception("worker %d failed to run", slot)
    finally:
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _reap(timeout: float | None) -> tuple[int, int] | None:
    """The next child to exit, as ``(pid, wait status)``; ``None`` if none did within ``timeout``
    seconds (``None``: wait as long as it takes) or there are no children."""
    if timeout is None:
        try:
            return os.waitpid(-1, 0)
        except ChildProcessError:
            return None
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pid, status = 0, 0
        if pid:
            return pid, status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        time.sleep(min(remaining, _POLL))


def supervise(count: int, start: Callable[[int], int], *, burst: bool = False) -> int:
    """Run ``count`` workers until stopped by a signal (or, in ``burst`` mode, until all are done)."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)
    delays = [0.0] * count  # each slot's current restart delay
    due: dict[int, float] = {}  # slot -> when to start its next worker
    stopping = False

    def pass_on(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        if signal.Signals(signum).name[3:] in _STOPPING:
            stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    previous = {
        signal.Signals[f"SIG{name}"]: signal.signal(signal.Signals[f"SIG{name}"], pass_on)
        for name in (*_STOPPING, *_PASSED_ON)
    }
    try:
        set_title(f"Supervising {count} workers")
        for slot in range(count):
            children[_spawn(start, slot)] = (slot, time.monotonic())
        while children or (due and not stopping):
            pending = bool(due) and not stopping
            reaped = _reap(max(0.0, min(due.values()) - time.monotonic()) if pending else None)
            if reaped is None and not pending:
                break  # no children left to wait for
            if reaped is not None:
                pid, status = reaped
                slot, started = children.pop(pid, (-1, 0.0))
                code = os.waitstatus_to_exitcode(status)
                if slot >= 0 and not stopping and not (burst and code == 0):
                    quick = time.monotonic() - started < _QUICK_DEATH and code != -signal.SIGKILL
                    delays[slot] = min(max(delays[slot] * 2, 0.5), _MAX_DELAY) if quick else 0.0
                    logger.warning("worker %d (pid %d) exited with %d; starting another", slot, pid, code)
                    due[slot] = time.monotonic() + delays[slot]
            if stopping:
                due.clear()
                continue
            now = time.monotonic()
            for slot, when in sorted(due.items()):
                if when <= now:
                    del due[slot]
                    children[_spawn(start, slot)] = (slot, now)
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
