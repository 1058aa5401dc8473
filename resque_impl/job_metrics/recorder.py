"""The worker-side subscriber that records per-class job metrics (see :mod:`.layout` for the keys).

It listens for ``job.finished`` and ``job.failed`` in the worker process, adds each job to counts
kept in memory per UTC minute, and writes them to Redis in one round trip every
``flush_interval`` seconds and when the worker stops (``worker.stopped``): a job costs a few
dictionary updates, not a Redis command. Counts not yet written are lost if the worker process is
killed (at most ``flush_interval`` seconds of them).
"""

from __future__ import annotations

import logging
from bisect import bisect_left

from resque_impl.clock import Clock
from resque_impl.errors import ResqueError
from resque_impl.events import JOB_FAILED, JOB_FINISHED, WORKER_STOPPED, Event, EventBus
from resque_impl.job_metrics.layout import BUCKETS, DAY_TTL, MINUTE_TTL, VERSION, bucket_labels, minute_of
from resque_impl.store import StoreProtocol

__all__ = ["JobMetricsRecorder"]

logger = logging.getLogger("resque_impl.job_metrics")

#: Minutes kept in memory while Redis cannot be written; older ones are dropped.
_MAX_PENDING_MINUTES = 60


class JobMetricsRecorder:
    """Records every job its bus announces as finished or failed; :meth:`attach` it to a bus."""

    def __init__(self, store: StoreProtocol, clock: Clock, *, flush_interval: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.flush_interval = flush_interval
        # minute (YYYYMMDDHHMM) -> field -> amount, not yet written
        self._pending: dict[str, dict[str, int | float]] = {}
        self._next_flush = clock.time() + flush_interval
        self._minute_start = -1.0
        self._minute = ""
        self._bus: EventBus | None = None
        self._fields: dict[str, _Fields] = {}

    def attach(self, bus: EventBus) -> JobMetricsRecorder:
        """Subscribe to ``bus``; returns ``self``."""
        bus.subscribe((JOB_FINISHED, JOB_FAILED, WORKER_STOPPED), self.handle)
        self._bus = bus
        return self

    def detach(self) -> None:
        """Unsubscribe, then write what is pending."""
        if self._bus is not None:
            self._bus.unsubscribe(self.handle)
            self._bus = None
        self.flush()

    def handle(self, event: Event) -> None:
        """The subscriber: count a finished or failed job; flush on ``worker.stopped`` or when due."""
        now = self.clock.time()
        if event.name != WORKER_STOPPED:
            self._count(now, event)
        if event.name == WORKER_STOPPED or now >= self._next_flush:
            self.flush()

    def _count(self, now: float, event: Event) -> None:
        if not self._minute_start <= now < self._minute_start + 60:
            self._minute_start = now - now % 60
            self._minute = minute_of(now)
        fields = self._pending.get(self._minute)
        if fields is None:
            fields = self._pending[self._minute] = {}
        name = event.metadata.get("class", "")
        names = self._fields.get(name)
        if names is None:
            names = self._fields[name] = _Fields(name)
        seconds = float(event.measurements.get("run_time", 0.0))
        # Inlined rather than a helper per field: this runs once per job on the worker's hot path.
        get = fields.get
        bucket = names.buckets[bisect_left(BUCKETS, seconds)]
        fields["processed"] = get("processed", 0) + 1
        fields[names.executions] = get(names.executions, 0) + 1
        fields[names.seconds] = get(names.seconds, 0.0) + seconds
        fields[bucket] = get(bucket, 0) + 1
        if event.name == JOB_FAILED:
            fields["failed"] = get("failed", 0) + 1
            fields[names.failures] = get(names.failures, 0) + 1

    def flush(self) -> None:
        """Write the pending counts to their minute and day hashes, in one round trip. If Redis cannot
        be reached they are kept for the next flush (the last hour of them)."""
        self._next_flush = self.clock.time() + self.flush_interval
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        keys = self.store.keys
        increments: dict[str, dict[str, int | float]] = {}
        ttl: dict[str, int] = {}
        for minute, fields in pending.items():
            minute_key = keys.job_metrics_minute(minute)
            day_key = keys.job_metrics_day(minute[:8])
            increments[minute_key] = fields
            day = increments.setdefault(day_key, {})
            for field, amount in fields.items():
                _add(day, field, amount)
            ttl[minute_key], ttl[day_key] = MINUTE_TTL, DAY_TTL
        try:
            self.store.add_to_hashes(increments, set_fields={"v": VERSION}, ttl=ttl)
        except ResqueError as error:
            logger.warning("could not record job metrics (kept for the next try): %s", error)
            for minute, fields in pending.items():
                merged = self._pending.setdefault(minute, {})
                for field, amount in fields.items():
                    _add(merged, field, amount)
            for minute in sorted(self._pending)[:-_MAX_PENDING_MINUTES]:
                del self._pending[minute]


class _Fields:
    """The field names of one class, built once."""

    __slots__ = ("buckets", "executions", "failures", "seconds")

    def __init__(self, name: str) -> None:
        self.executions = f"executions:{name}"
        self.failures = f"failures:{name}"
        self.seconds = f"seconds:{name}"
        self.buckets = tuple(f"{label}:{name}" for label in bucket_labels())


def _add(fields: dict[str, int | float], field: str, amount: int | float) -> None:
    fields[field] = fields.get(field, 0) + amount
