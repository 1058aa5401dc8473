"""The job-event stream: what happens to jobs, announced once, for any number of subscribers.

Every :class:`~resque_impl.Resque` has an :class:`EventBus` (``resque.events``). The client, the worker
and the scheduler emit events on it: a name, ``measurements`` (numbers) and ``metadata`` (what it was
about), as Oban's telemetry does. Metrics, tracing or logging subscribe to the names they care about,
instead of each patching the worker::

    def log_slow(name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        if measurements["run_time"] > 1.0:
            print(metadata["class"], "took", measurements["run_time"])

    subscription = resque.events.subscribe([JOB_FINISHED, JOB_FAILED], log_slow)
    ...
    subscription.detach()           # or resque.events.unsubscribe(log_slow)

Handlers run synchronously, in the process and thread that emits. A handler that raises is logged
and detached from that event name; the job goes on as if nobody had listened. Emitting to a name
nobody subscribed to costs one dictionary look-up, and emitters check :meth:`EventBus.listening`
before they build a payload. :class:`EventLog` is a handler that keeps what it receives (for tests and
debugging). See ``docs/events.md`` for each event's measurements and metadata.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = [
    "ALL_EVENTS",
    "JOB_ENQUEUED",
    "JOB_FAILED",
    "JOB_FINISHED",
    "JOB_RECOVERED",
    "JOB_RESERVED",
    "JOB_RETRIED",
    "JOB_SCHEDULED",
    "JOB_STARTED",
    "WORKER_STOPPED",
    "Event",
    "EventBus",
    "EventLog",
    "Handler",
    "Subscription",
]

logger = logging.getLogger("resque_impl.events")

#: A client pushed a job to a queue (``enqueue``, ``enqueue_to``, ``push``, ``enqueue_many`` per job).
JOB_ENQUEUED = "job.enqueued"
#: A worker took a job from its queue.
JOB_RESERVED = "job.reserved"
#: A worker's process began running a job (emitted in the worker's own process, before any fork).
JOB_STARTED = "job.started"
#: A job ended without failing (``performed``, or ``skipped`` by a hook), acknowledged by its worker.
JOB_FINISHED = "job.finished"
#: A job ended with a failure record, acknowledged by its worker.
JOB_FAILED = "job.failed"
#: Jobs of a dead worker (or of a killed child) went back to their queues.
JOB_RECOVERED = "job.recovered"
#: A failed job was pushed back onto a queue from the failure list (``requeue``, ``retry_and_remove``).
JOB_RETRIED = "job.retried"
#: The scheduler moved a delayed job to its queue.
JOB_SCHEDULED = "job.scheduled"
#: A worker is leaving the registry (subscribers holding buffered data flush it here).
WORKER_STOPPED = "worker.stopped"

ALL_EVENTS: tuple[str, ...] = (
    JOB_ENQUEUED,
    JOB_RESERVED,
    JOB_STARTED,
    JOB_FINISHED,
    JOB_FAILED,
    JOB_RECOVERED,
    JOB_RETRIED,
    JOB_SCHEDULED,
    WORKER_STOPPED,
)


#: A subscriber: called as ``handler(name, measurements, metadata)`` for each event it subscribed to
#: (three arguments rather than one object, so that emitting builds nothing more than the two dicts).
Handler = Callable[[str, Mapping[str, float], Mapping[str, Any]], None]


class Event(NamedTuple):
    """One event as :class:`EventLog` keeps it."""

    name: str
    measurements: Mapping[str, float]
    metadata: Mapping[str, Any]


class EventLog:
    """A handler that keeps each event it receives, in order, in :attr:`events`; subscribe it as any
    handler: ``resque.events.subscribe(ALL_EVENTS, log)``. Safe from several threads (one
    ``list.append`` per event); events from different threads are kept in the order they arrived."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def __call__(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        self.events.append(Event(name, measurements, metadata))

    def names(self) -> list[str]:
        """The names of the events received, in order."""
        return [event.name for event in self.events]


@dataclass(frozen=True, slots=True)
class Subscription:
    """What :meth:`EventBus.subscribe` returns; :meth:`detach` undoes it."""

    bus: EventBus
    names: tuple[str, ...]
    handler: Handler

    def detach(self) -> None:
        self.bus.unsubscribe(self.handler, self.names)


class EventBus:
    """Subscribers by event name, safe to use from several threads (a worker with job slots emits
    from each). Subscribing and detaching replace tuples under a lock, so an emit in progress (in
    another thread, or a handler detaching itself) sees a consistent list without taking it."""

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[Handler, ...]] = {}
        self._changing = threading.Lock()

    def subscribe(self, names: str | Iterable[str], handler: Handler) -> Subscription:
        """Call ``handler`` with every event named in ``names`` (a name or several) from now on."""
        wanted = (names,) if isinstance(names, str) else tuple(names)
        with self._changing:
            for name in wanted:
                current = self._handlers.get(name, ())
                if handler not in current:
                    self._handlers[name] = (*current, handler)
        return Subscription(self, wanted, handler)

    def unsubscribe(self, handler: Handler, names: str | Iterable[str] | None = None) -> None:
        """Stop calling ``handler`` for ``names`` (default: every name it subscribed to)."""
        with self._changing:
            wanted = tuple(self._handlers) if names is None else (names,) if isinstance(names, str) else tuple(names)
            for name in wanted:
                remaining = tuple(h for h in self._handlers.get(name, ()) if h != handler)
                if remaining:
                    self._handlers[name] = remaining
                else:
                    self._handlers.pop(name, None)

    def capture(self) -> list[Event]:
        """Keep every event emitted from now on in the returned list instead of delivering it (only
        events someone subscribed to: emitters still skip the rest). A forked child does this so that
        the events its job announces reach the subscribers in the worker's process, which delivers them
        once the child has reported (:meth:`deliver`)."""
        captured: list[Event] = []

        def keep(name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
            captured.append(Event(name, measurements, metadata))

        with self._changing:
            self._handlers = dict.fromkeys(self._handlers, (keep,))
        return captured

    def deliver(self, events: Iterable[Event]) -> None:
        """Emit events captured elsewhere (see :meth:`capture`), in order."""
        for event in events:
            self.emit(*event)

    def listening(self, name: str) -> bool:
        """Whether anyone subscribed to ``name``: emitters skip building an event when not."""
        return name in self._handlers

    def emit(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        """Hand an event to each subscriber of ``name``; one that raises is logged and detached."""
        handlers = self._handlers.get(name)
        if not handlers:
            return
        for handler in handlers:
            try:
                handler(name, measurements, metadata)
            except Exception:
                logger.exception("event subscriber %r raised on %s; detached from it", handler, name)
                self.unsubscribe(handler, name)
