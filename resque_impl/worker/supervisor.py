"""``--count N``: one supervising process running N workers, restarting any that exit.

Each worker is a forked child running ``start(slot)`` (which builds a :class:`Worker` and returns its
exit code). TERM, INT and QUIT are passed on to every worker and stop the supervisor once they have
all exited; USR1, USR2 and CONT are passed on. A worker that exits while the supervisor is not stopping
is started again (after a growing delay if it keeps dying quickly), except in burst mode, where a
worker that exits cleanly has drained its queues.
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


def supervise(count: int, start: Callable[[int], int], *, burst: bool = False) -> int:
    """Run ``count`` workers until stopped by a signal (or, in ``burst`` mode, until all are done)."""
    children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)
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
        delay = 0.0
        while children:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            slot, started = children.pop(pid, (-1, 0.0))
            if slot < 0:
                continue
            code = os.waitstatus_to_exitcode(status)
            if stopping or (burst and code == 0):
                continue
            lived = time.monotonic() - started
            delay = min(max(delay * 2, 0.5), _MAX_DELAY) if lived < _QUICK_DEATH else 0.0
            logger.warning("worker %d (pid %d) exited with %d; starting another", slot, pid, code)
            if delay:
                time.sleep(delay)
            if not stopping:
                children[_spawn(start, slot)] = (slot, time.monotonic())
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
