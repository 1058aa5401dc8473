"""The worker-side subscriber that records per-class job metrics (see :mod:`.layout` for the keys).

It listens for ``job.finished`` and ``job.failed`` in the worker process, adds each job to counts
kept in memory per UTC minute, and writes them to Redis in one round trip every
``flush_interval`` seconds and when the worker stops (``worker.stopped``): a job costs a few
dictionary updates, not a Redis command. Counts not yet written are lost if the worker process is
killed (at most ``flush_interval`` seconds of them). A flush also samples the length of every queue
into the per-queue minute hash a capacity planner reads, at most every :data:`DEPTH_EVERY` seconds (one
more round trip; the list of queues is read again at most once a minute).
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections.abc import Mapping
from typing import Any

from resque_impl.clock import Clock
from resque_impl.errors import ResqueError
from resque_impl.events import JOB_FAILED, JOB_FINISHED, WORKER_STOPPED, EventBus
from resque_impl.job_metrics.layout import (
    BLOCK_TTL,
    BUCKETS,
    DAY_TTL,
    MINUTE_TTL,
    QUEUE_TTL,
    SLOT_SECONDS,
    VERSION,
    block_of,
    bucket_labels,
    minute_of,
)
from resque_impl.store import StoreProtocol

__all__ = ["DEPTH_EVERY", "JobMetricsRecorder"]

logger = logging.getLogger("resque_impl.job_metrics")

# (class, queue, histogram bucket index, failed)
_Key = tuple[str, str, int, bool]
# A minute's pending counts: per _Key, run time per class, jobs per slot of the minute.
_Minute = tuple[dict[_Key, int], dict[str, float], dict[int, int]]

#: Seconds between two samples of the queue depths.
DEPTH_EVERY = 15.0
_QUEUE_LIST_EVERY = 60.0

#: Minutes kept in memory while Redis cannot be written; older ones are dropped.
_MAX_PENDING_MINUTES = 60


class JobMetricsRecorder:
    """Records every job its bus announces as finished or failed; :meth:`attach` it to a bus."""

    def __init__(self, store: StoreProtocol, clock: Clock, *, flush_interval: float = 5.0) -> None:
        self.store = store
        self.clock = clock
        self.flush_interval = flush_interval
        # Per minute (YYYYMMDDHHMM) not yet written: jobs per (class, queue, bucket index, failed), run
        # time per class, and jobs per slot of the minute. Expanded into hash fields only when written,
        # to keep the per-job work small.
        self._pending: dict[str, _Minute] = {}
        self._next_flush = clock.time() + flush_interval
        self._minute_start = 0.0
        self._minute_end = 0.0
        self._counts: dict[_Key, int] = {}
        self._seconds: dict[str, float] = {}
        self._slots: dict[int, int] = {}
        self._next_depths = 0.0
        self._queues: list[str] = []
        self._next_queue_list = 0.0
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
            # a stopping worker writes its counts in one round trip; running ones sample the depths
            self.flush(sample_depths=False)
            return
        if not self._minute_start <= now < self._minute_end:
            self._start_minute(now)
        # Two dictionary updates a job: this runs on the worker's hot path.
        class_name = metadata.get("class", "")
        seconds = measurements.get("run_time", 0.0)
        key = (class_name, metadata.get("queue", ""), bisect_left(BUCKETS, seconds), name == JOB_FAILED)
        counts, sums, slots = self._counts, self._seconds, self._slots
        counts[key] = counts.get(key, 0) + 1
        sums[class_name] = sums.get(class_name, 0.0) + seconds
        slot = int((now - self._minute_start) // SLOT_SECONDS)
        slots[slot] = slots.get(slot, 0) + 1
        if now >= self._next_flush:
            self.flush()

    def _start_minute(self, now: float) -> None:
        self._minute_start = now - now % 60
        self._minute_end = self._minute_start + 60
        self._counts, self._seconds, self._slots = self._pending.setdefault(minute_of(now), ({}, {}, {}))

    def flush(self, *, sample_depths: bool = True) -> None:
        """Write the pending counts to their minute, ten-minute and day hashes, in one round trip (and,
        when ``sample_depths`` and one is due, sample the queue depths). If Redis cannot be reached they
        are kept for the next flush (the last hour of them)."""
        now = self.clock.time()
        self._next_flush = now + self.flush_interval
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self._minute_start = self._minute_end = 0.0  # the next job starts a fresh minute entry
        keys = self.store.keys
        increments: dict[str, dict[str, int | float]] = {}
        ttl: dict[str, int] = {}
        for minute, (counts, sums, slots) in pending.items():
            if not counts:
                continue
            minute_key = keys.job_metrics_minute(minute)
            block_key, day_key = keys.job_metrics_block(block_of(minute)), keys.job_metrics_day(minute[:8])
            queue_key = keys.queue_metrics_minute(minute)
            fields = increments[minute_key] = _fields(counts, sums)
            for summed_key in (block_key, day_key):
                summed = increments.setdefault(summed_key, {})
                for field, amount in fields.items():
                    _add(summed, field, amount)
            increments[queue_key] = _queue_fields(counts, slots)
            ttl[minute_key], ttl[block_key], ttl[day_key], ttl[queue_key] = MINUTE_TTL, BLOCK_TTL, DAY_TTL, QUEUE_TTL
        if not increments:
            return
        try:
            depths = self._depths(now, increments, ttl) if sample_depths else {}
            self.store.add_to_hashes(increments, set_fields={"v": VERSION}, ttl=ttl, set_in=depths)
        except ResqueError as error:
            logger.warning("could not record job metrics (kept for the next try): %s", error)
            for minute, (counts, sums, slots) in pending.items():
                kept_counts, kept_sums, kept_slots = self._pending.setdefault(minute, ({}, {}, {}))
                for key, count in counts.items():
                    kept_counts[key] = kept_counts.get(key, 0) + count
                for class_name, seconds in sums.items():
                    kept_sums[class_name] = kept_sums.get(class_name, 0.0) + seconds
                for slot, count in slots.items():
                    kept_slots[slot] = kept_slots.get(slot, 0) + count
            for minute in sorted(self._pending)[:-_MAX_PENDING_MINUTES]:
                del self._pending[minute]

    def _depths(
        self, now: float, increments: dict[str, dict[str, int | float]], ttl: dict[str, int]
    ) -> dict[str, dict[str, str]]:
        """Every known queue's length now, as ``depth:<queue>`` fields of the current minute's queue
        hash (added to ``increments`` and ``ttl`` if no job of this flush falls in that minute); nothing
        when the last sample is under :data:`DEPTH_EVERY` seconds old."""
        if now < self._next_depths:
            return {}
        if now >= self._next_queue_list:
            self._queues = self.store.queue_names()
            self._next_queue_list = now + _QUEUE_LIST_EVERY
        sizes = self.store.queue_sizes(self._queues)
        self._next_depths = now + DEPTH_EVERY
        key = self.store.keys.queue_metrics_minute(minute_of(now))
        increments.setdefault(key, {})
        ttl[key] = QUEUE_TTL
        return {key: {f"depth:{queue}": str(size) for queue, size in sizes.items()}}


def _fields(counts: dict[_Key, int], sums: dict[str, float]) -> dict[str, int | float]:
    """One minute's counts as the per-class hash fields of :mod:`.layout`."""
    labels = bucket_labels()
    fields: dict[str, int | float] = {}
    for (name, _queue, bucket, failed), count in counts.items():
        _add(fields, "processed", count)
        _add(fields, f"executions:{name}", count)
        _add(fields, f"{labels[bucket]}:{name}", count)
        if failed:
            _add(fields, "failed", count)
            _add(fields, f"failures:{name}", count)
    for name, seconds in sums.items():
        _add(fields, f"seconds:{name}", seconds)
    return fields


def _queue_fields(counts: dict[_Key, int], slots: dict[int, int]) -> dict[str, int | float]:
    """One minute's counts as the per-queue hash fields of :mod:`.layout`."""
    fields: dict[str, int | float] = {}
    for (name, queue, _bucket, _failed), count in counts.items():
        _add(fields, "jobs:" + json.dumps([queue, name], separators=(",", ":")), count)
    for slot, count in slots.items():
        _add(fields, f"slot:{min(max(slot, 0), 60 // SLOT_SECONDS - 1)}", count)
    return fields


def _add(fields: dict[str, int | float], field: str, amount: int | float) -> None:
    fields[field] = fields.get(field, 0) + amount
