"""Signal handling for the work loop: Ruby Resque's signals, and a wake-up pipe.

======  ==============================================================================================
TERM    shut down now: kill the child (``TERM_CHILD``: TERM it, KILL after ``RESQUE_TERM_TIMEOUT``);
        with ``GRACEFUL_TERM``, like QUIT
INT     shut down now, as TERM without ``GRACEFUL_TERM``
QUIT    finish the current job, then shut down
USR1    kill the current child (as TERM does), keep working
USR2    pause: finish the current job, take no new ones
CONT    resume after USR2
======  ==============================================================================================

Handlers only set flags and signal the child; the loop acts on the flags. Every signal also writes to a
wake-up pipe (:func:`signal.set_wakeup_fd`), and SIGCHLD gets a no-op handler for that purpose, so a
loop waiting in ``select`` on the pipe wakes at once when a signal arrives or the child exits.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = ["HANDLED", "WakeupPipe", "installed_handlers", "reset_in_child"]

#: The signals the work loop handles, by name.
HANDLED = ("TERM", "INT", "QUIT", "USR1", "USR2", "CONT")


class WakeupPipe:
    """A non-blocking pipe the C signal handler writes to; :attr:`fd` is what to ``select`` on."""

    def __init__(self) -> None:
        self.fd, self._write = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._write, False)

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self.fd, 4096):
                pass

    def poke(self) -> None:
        """Wake a waiting loop from code (not a signal)."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, b"\0")

    @property
    def write_fd(self) -> int:
        return self._write

    def close(self) -> None:
        for fd in (self.fd, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)


def _signal(name: str) -> signal.Signals:
    return signal.Signals[f"SIG{name}"]


@contextlib.contextmanager
def installed_handlers(handlers: dict[str, Callable[[], None]], wakeup: WakeupPipe) -> Iterator[bool]:
    """Install ``handlers`` (by signal name) and the wake-up pipe for the duration; yields whether it
    could (only the main thread may handle signals). Previous handlers are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous: dict[signal.Signals, Any] = {}

    def call(function: Callable[[], None]) -> Callable[[int, FrameType | None], None]:
        def handler(signum: int, frame: FrameType | None) -> None:
            function()

        return handler

    old_wakeup = signal.set_wakeup_fd(wakeup.write_fd, warn_on_full_buffer=False)
    try:
        for name, function in handlers.items():
            previous[_signal(name)] = signal.signal(_signal(name), call(function))
        previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        yield True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(old_wakeup)


def _plain_set_handler() -> Callable[[int, Any], Any]:
    """CPython's C ``signal`` function, which ``signal.signal`` wraps with enum conversions: in a forked
    child those conversions touch, and so copy, some 40 pages of the parent's memory (a tenth of a
    millisecond per job)."""
    try:
        plain: Callable[[int, Any], Any] = importlib.import_module("_signal").signal
    except (ImportError, AttributeError):  # pragma: no cover - other Pythons
        return signal.signal
    return plain


_set_handler = _plain_set_handler()

#: What a child does on the signals meant for its worker, as plain numbers (see :func:`reset_in_child`).
_CHILD_DISPOSITIONS = tuple(
    (int(_signal(name)), int(signal.SIG_IGN if name in ("QUIT", "USR1", "USR2") else signal.SIG_DFL))
    for name in ("INT", "CHLD", "CONT", "QUIT", "USR1", "USR2")
)
_SIGTERM, _SIG_DFL = int(signal.SIGTERM), int(signal.SIG_DFL)


def reset_in_child(term: Callable[[int, FrameType | None], None] | None) -> None:
    """In a forked child: forget the parent's wake-up pipe and handlers. TERM and INT take their
    default action (or ``term`` for TERM); QUIT, USR1 and USR2 are ignored, since they are meant for the
    parent (e.g. systemd sending them to the whole control group)."""
    signal.set_wakeup_fd(-1)
    _set_handler(_SIGTERM, term if term is not None else _SIG_DFL)
    for number, handler in _CHILD_DISPOSITIONS:
        _set_handler(number, handler)
