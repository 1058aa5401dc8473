"""Virtual time for the test modes: a clock that moves only when the test says so.

Every ``Resque`` uses the active mode's :class:`VirtualClock` (see :mod:`resque_impl.testmode`), so
``enqueue_in(30, ...)``, a retry plugin's backoff and failure timestamps all read it. Moving it with
:meth:`VirtualClock.advance` or :meth:`VirtualClock.travel_to` steps through every moment at which
something falls due (a delayed job, a recurring schedule) in order, as a scheduler polling in real time
would; nothing ever waits in wall-clock time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

from resque_impl.clock import ManualClock

__all__ = ["VirtualClock"]

#: Brings the clock to the given epoch time, running whatever falls due on the way.
Stepper = Callable[[float], None]


class VirtualClock(ManualClock):
    """A :class:`~resque_impl.clock.ManualClock` whose moves run what falls due.

    :param start: the initial time (epoch seconds or an aware datetime); default: the wall-clock time
        now, cut to the whole second, so timestamps look current but stay exact.
    """

    def __init__(self, start: float | datetime | None = None) -> None:
        super().__init__(float(int(time.time())) if start is None else start)
        self._stepper: Stepper | None = None

    def __repr__(self) -> str:
        return f"<VirtualClock {self.now().isoformat()}>"

    def on_move(self, stepper: Stepper | None) -> None:
        """Have ``stepper`` carry out every forward move (the test mode that owns this clock)."""
        self._stepper = stepper

    def now(self) -> datetime:
        """The current virtual time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.time(), tz=timezone.utc)

    def advance(self, seconds: float) -> float:
        """Move forward ``seconds``, running what falls due on the way; returns the new time."""
        if seconds < 0:
            raise ValueError(f"a clock cannot go backwards (advance by {seconds}); use travel_to")
        return self._move_to(self.time() + seconds)

    def travel_to(self, when: float | datetime) -> float:
        """Jump to ``when`` (an aware datetime or epoch seconds). Forward, this runs what falls due on
        the way, like :meth:`advance`; backward, it only sets the time."""
        if isinstance(when, datetime):
            if when.tzinfo is None:
                raise ValueError("pass an aware datetime (e.g. with tzinfo=timezone.utc)")
            when = when.timestamp()
        if when < self.time():
            self.set(when)
            return when
        return self._move_to(float(when))

    def _move_to(self, target: float) -> float:
        if self._stepper is None:
            self.set(target)
        else:
            self._stepper(target)
        return target
