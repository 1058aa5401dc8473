"""Moving virtual time: every moment at which something falls due, in order, with the real scheduler.

When a test moves the :class:`~resque_impl.testing.VirtualClock` forward, :class:`Timeline` stops at
each second at which a delayed job (``enqueue_in``/``enqueue_at``, a retry's backoff) or a recurring
schedule's tick falls due, sets the clock there, and has a :class:`~resque_impl.scheduler.Scheduler`
poll, exactly as the ``resque-impl scheduler`` process would at that moment: due delayed jobs move to
their queues (their ``before_delayed_enqueue``/``before_enqueue`` hooks run), recurring ticks enqueue
their jobs. So jobs reach their queues in due order, each stamped with its own time, and a job that
schedules another (a retry) within the span is moved as well. Nothing waits in wall-clock time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from resque_impl.scheduler import Scheduler
from resque_impl.testing.clock import VirtualClock
from resque_impl.testing.errors import TimelineLimitError

__all__ = ["MAX_STEPS", "Timeline"]

#: Moments one move may stop at before it is taken for a runaway (a job rescheduling itself for 0 s).
MAX_STEPS = 100_000


class Timeline:
    """Steps ``clock`` forward through due moments, polling the schedulers ``schedulers()`` returns."""

    def __init__(self, clock: VirtualClock, schedulers: Callable[[], Sequence[Scheduler]]) -> None:
        self.clock = clock
        self.schedulers = schedulers

    def poll(self) -> None:
        """Have every scheduler do one poll at the current time."""
        for scheduler in self.schedulers():
            scheduler.poll()

    def _next_due(self, now: float, until: float) -> float | None:
        moments: list[float] = []
        for scheduler in self.schedulers():
            delayed = scheduler.resque.next_delayed_timestamp()
            if delayed is not None:
                moments.append(delayed)
            tick = scheduler.recurring.next_due(now)
            if tick is not None:
                moments.append(tick)
        return min((moment for moment in moments if now < moment <= until), default=None)

    def step_to(self, target: float) -> None:
        """Move the clock to ``target`` through every moment that falls due on the way."""
        self.poll()
        for _ in range(MAX_STEPS):
            due = self._next_due(self.clock.time(), target)
            if due is None:
                break
            self.clock.set(due)
            self.poll()
        else:
            raise TimelineLimitError(MAX_STEPS, target)
        self.clock.set(target)
        self.poll()
