"""Firing recurring schedules: each tick enqueues its job once, however many schedulers run.

The master scheduler asks :meth:`Recurring.fire_due` on every poll for the ticks that came due since
its last poll. A tick is pushed by one Lua script that also records it (``schedule_ticks``), so a
second process that also believes it is master (a lock that expired under a stalled process) finds
the tick taken. Ticks that fell due while no process was master are skipped, as in resque-scheduler;
if a poll comes late, the latest due tick fires once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from resque_impl.clock import format_started
from resque_impl.codec import Payload
from resque_impl.errors import ScheduleError
from resque_impl.hooks import run_after_enqueue, run_before_delayed_enqueue, run_before_enqueue
from resque_impl.instrumentation import sending
from resque_impl.job import queue_of
from resque_impl.scheduler.schedule import EveryTrigger, ScheduleEntry

if TYPE_CHECKING:
    from resque_impl.client import Resque

__all__ = ["Recurring", "enqueue_entry", "queue_for"]

log = logging.getLogger(__name__)


def queue_for(resque: Resque, entry: ScheduleEntry) -> str:
    """The queue ``entry`` enqueues to: its own, else its class's; :class:`ScheduleError` if neither
    is known in this process."""
    if entry.queue:
        return entry.queue
    cls = resque.registry.get(entry.class_name)
    queue = queue_of(cls) if cls is not None else None
    if queue is None:
        raise ScheduleError(
            f"schedule entry {entry.name!r}: no queue for class {entry.class_name}; set queue: in the "
            "entry, or load the module defining the class (--jobs) so its queue is known"
        )
    return queue


def enqueue_entry(resque: Resque, entry: ScheduleEntry) -> bool:
    """Enqueue ``entry``'s job now, outside its schedule, as resque-scheduler's ``enqueue_from_config``
    does for resque-web's "Queue now": ``before_delayed_enqueue`` and the enqueue hooks run when this
    process knows the class. Records no tick and no ``last_enqueued_at``, so the schedule keeps its
    rhythm. ``False`` if a hook vetoed it; :class:`ScheduleError` if no queue is known."""
    queue = queue_for(resque, entry)
    cls = resque.registry.get(entry.class_name)
    if cls is None:
        return resque.enqueue_to(queue, entry.class_name, *entry.args)
    run_before_delayed_enqueue(cls, entry.args)
    return resque.enqueue_to(queue, cls, *entry.args)


class Recurring:
    """The recurring entries of one schedule, bound to a :class:`~resque_impl.client.Resque`.

    Raises :class:`ScheduleError` for an entry without a queue whose class this process does not know.
    """

    def __init__(self, resque: Resque, entries: Sequence[ScheduleEntry], *, worker: str = "") -> None:
        self.resque = resque
        self.worker = worker
        self.entries = [entry for entry in entries if entry.trigger is not None]
        self._queues = {entry.name: queue_for(resque, entry) for entry in entries}
        self._last: dict[str, float | None] = {}

    def queue_of(self, entry: ScheduleEntry) -> str:
        """The queue ``entry`` enqueues to."""
        return self._queues[entry.name]

    def fire_due(self, since: float, now: float) -> list[str]:
        """Fire each schedule's latest tick in ``(since, now]`` not yet fired; returns the names fired."""
        if not self.entries:
            return []
        store = self.resque.store
        self._last = store.schedule_ticks([entry.name for entry in self.entries])
        fired = []
        for entry in self.entries:
            last = self._last[entry.name]
            trigger = entry.trigger
            if isinstance(trigger, EveryTrigger):
                if last is None:
                    last = self._last[entry.name] = store.schedule_anchor(entry.name, trigger.anchor(now))
                tick = trigger.latest(now, last)
            elif trigger is not None:
                tick = trigger.latest(now)
            if trigger is None or tick is None or tick <= since or (last is not None and tick <= last):
                continue
            if self._fire(entry, tick, now):
                self._last[entry.name] = tick
                fired.append(entry.name)
        return fired

    def next_due(self, now: float) -> float | None:
        """When the next tick after ``now`` falls, as far as the last :meth:`fire_due` knew."""
        upcoming = []
        for entry in self.entries:
            if isinstance(entry.trigger, EveryTrigger):
                last = self._last.get(entry.name)
                if last is not None:
                    upcoming.append(entry.trigger.next_after(now, last))
            elif entry.trigger is not None and (tick := entry.trigger.next_after(now)) is not None:
                upcoming.append(tick)
        return min(upcoming, default=None)

    def _fire(self, entry: ScheduleEntry, tick: float, now: float) -> bool:
        resque = self.resque
        queue = self._queues[entry.name]
        cls = resque.registry.get(entry.class_name)
        stamp = format_started(now)
        # A tick is a push: a tracer's push span wraps it (whether or not a hook vetoes it).
        with sending(queue, entry.class_name, entry.args):
            return self._fire_tick(entry, tick, queue, cls, stamp)

    def _fire_tick(self, entry: ScheduleEntry, tick: float, queue: str, cls: type | None, stamp: str) -> bool:
        resque = self.resque
        try:
            push: tuple[str, bytes] | None = None
            if cls is None:
                push = (queue, resque.encode(entry.class_name, entry.args))
            else:
                run_before_delayed_enqueue(cls, entry.args)
                if run_before_enqueue(cls, entry.args):
                    push = (queue, resque.encode(cls, entry.args))
        except Exception as error:  # a bad payload or a raising hook: the tick is spent, the failure recorded
            log.exception("schedule %r: could not enqueue %s", entry.name, entry.class_name)
            fired = resque.store.schedule_fire(entry.name, tick, stamp, None)
            if fired:
                resque.record_failure(queue, Payload(entry.class_name, entry.args), error, worker=self.worker)
            return fired
        fired = resque.store.schedule_fire(entry.name, tick, stamp, push)
        if fired:
            log.info("queueing %s (%s)%s", entry.class_name, entry.name, "" if push else ": vetoed by a hook")
            if push is not None and cls is not None:
                run_after_enqueue(cls, entry.args)
        return fired
