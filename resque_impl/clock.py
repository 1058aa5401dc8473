"""The injectable clock: the library reads time and sleeps only through a :class:`Clock`.

Production uses :data:`SYSTEM_CLOCK`; tests, the fake test mode and the simulator pass a clock they
drive themselves (:class:`ManualClock`, or the simulator's own), so every timestamp the library writes
and every wait it makes follows that clock.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Protocol, runtime_checkable

__all__ = [
    "SYSTEM_CLOCK",
    "Clock",
    "ManualClock",
    "SystemClock",
    "format_failed_at",
    "format_heartbeat",
    "format_run_at",
    "format_started",
]


@runtime_checkable
class Clock(Protocol):
    """Where the library gets the time from."""

    def time(self) -> float:
        """Seconds since the Unix epoch, as :func:`time.time`."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemClock:
    """The real clock."""

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


class ManualClock:
    """A clock that moves only when told to; ``sleep`` advances it instantly.

    Thread-safe, so a worker thread and the test driving it can share one.
    """

    def __init__(self, start: float | datetime = 1_800_000_000.0) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self._lock = threading.Lock()

    def time(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def advance(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds})")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float | datetime) -> None:
        """Jump to ``when`` (an epoch float or an aware datetime), forwards or backwards."""
        if isinstance(when, datetime) and when.tzinfo is None:
            raise ValueError("pass an aware datetime (e.g. with tzinfo=timezone.utc)")
        with self._lock:
            self._now = when.timestamp() if isinstance(when, datetime) else float(when)


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), tz=timezone.utc)


def format_failed_at(epoch: float) -> str:
    """Failure records' ``failed_at`` and ``retried_at``: ``2026/11/27 23:43:29 UTC``."""
    return _utc(epoch).strftime("%Y/%m/%d %H:%M:%S UTC")


def format_run_at(epoch: float) -> str:
    """The working-on record's ``run_at``: ``2026-11-27T23:43:29Z``."""
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_started(epoch: float) -> str:
    """A worker's ``started`` key: ``2026-11-27 23:43:29 +0000``."""
    return _utc(epoch).strftime("%Y-%m-%d %H:%M:%S +0000")


def format_heartbeat(epoch: float) -> str:
    """A worker heartbeat value: ``2026-11-27T23:43:29+00:00``."""
    return _utc(epoch).strftime("%Y-%m-%dT%H:%M:%S+00:00")
