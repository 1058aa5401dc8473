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
from collections.abc import Mapping
from typing import Any

from resque_impl.clock import Clock
from resque_impl.errors import ResqueError
from resque_impl.events import JOB_FAILED, JOB_FINISHED, WORKER_STOPPED, EventBus
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
        # Per minute (YYYYMMDDHHMM) not yet written: jobs per (class, bucket index, failed), and run
        # time per class. Expanded into hash fields only when written, to keep the per-job work small.
        self._pending: dict[str, tuple[dict[tuple[str, int, bool], int], dict[str, float]]] = {}
        self._next_flush = clock.time() + flush_interval
        self._minute_start = 0.0
        self._minute_end = 0.0
        self._counts: dict[tuple[str, int, bool], int] = {}
        self._seconds: dict[str, float] = {}
        self._bus: EventBus | None = None

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

    def handle(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        """The subscriber: count a finished or failed job; flush on ``worker.stopped`` or when due."""
        now = self.clock.time()
        if name == WORKER_STOPPED:
            self.flush()
            return
        if not self._minute_start <= now < self._minute_end:
            self._start_minute(now)
        # Two dictionary updates a job: this runs on the worker's hot path.
        class_name = metadata.get("class", "")
        seconds = measurements.get("run_time", 0.0)
        key = (class_name, bisect_left(BUCKETS, seconds), name == JOB_FAILED)
        counts, sums = self._counts, self._seconds
        counts[key] = counts.get(key, 0) + 1
        sums[class_name] = sums.get(class_name, 0.0) + seconds
        if now >= self._next_flush:
            self.flush()

    def _start_minute(self, now: float) -> None:
        self._minute_start = now - now % 60
        self._minute_end = self._minute_start + 60
        self._counts, self._seconds = self._pending.setdefault(minute_of(now), ({}, {}))

    def flush(self) -> None:
        """Write the pending counts to their minute and day hashes, in one round trip. If Redis cannot
        be reached they are kept for the next flush (the last hour of them)."""
        self._next_flush = self.clock.time() + self.flush_interval
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self._minute_start = self._minute_end = 0.0  # the next job starts a fresh minute entry
        keys = self.store.keys
        increments: dict[str, dict[str, int | float]] = {}
        ttl: dict[str, int] = {}
        for minute, (counts, sums) in pending.items():
            if not counts:
                continue
            minute_key, day_key = keys.job_metrics_minute(minute), keys.job_metrics_day(minute[:8])
            fields = increments[minute_key] = _fields(counts, sums)
            day = increments.setdefault(day_key, {})
            for field, amount in fields.items():
                _add(day, field, amount)
            ttl[minute_key], ttl[day_key] = MINUTE_TTL, DAY_TTL
        if not increments:
            return
        try:
            self.store.add_to_hashes(increments, set_fields={"v": VERSION}, ttl=ttl)
        except ResqueError as error:
            logger.warning("could not record job metrics (kept for the next try): %s", error)
            for minute, (counts, sums) in pending.items():
                kept_counts, kept_sums = self._pending.setdefault(minute, ({}, {}))
                for key, count in counts.items():
                    kept_counts[key] = kept_counts.get(key, 0) + count
                for class_name, seconds in sums.items():
                    kept_sums[class_name] = kept_sums.get(class_name, 0.0) + seconds
            for minute in sorted(self._pending)[:-_MAX_PENDING_MINUTES]:
                del self._pending[minute]


def _fields(counts: dict[tuple[str, int, bool], int], sums: dict[str, float]) -> dict[str, int | float]:
    """One minute's counts as the hash fields of :mod:`.layout`."""
    labels = bucket_labels()
    fields: dict[str, int | float] = {}
    for (name, bucket, failed), count in counts.items():
        _add(fields, "processed", count)
        _add(fields, f"executions:{name}", count)
        _add(fields, f"{labels[bucket]}:{name}", count)
        if failed:
            _add(fields, "failed", count)
            _add(fields, f"failures:{name}", count)
    for name, seconds in sums.items():
        _add(fields, f"seconds:{name}", seconds)
    return fields


def _add(fields: dict[str, int | float], field: str, amount: int | float) -> None:
    fields[field] = fields.get(field, 0) + amount
