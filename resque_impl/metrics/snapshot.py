"""One consistent reading of everything the exporters report, taken through the store.

Queue latency (``oldest_age``) is read as :mod:`resque_impl.latency` reads it: 0 for an empty queue,
known for a queue whose next job carries ``enqueued_at`` (payloads have it only when their producer
stamps them, ``Resque(enqueued_at=True)``; Ruby producers never do), ``None`` otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from resque_impl.client import Resque
from resque_impl.latency import read_latencies

__all__ = ["Histogram", "QueueStats", "Snapshot", "take_snapshot"]


@dataclass(frozen=True)
class QueueStats:
    depth: int
    #: Seconds the next job has waited: 0 for an empty queue, ``None`` when its payload does not say
    #: when it was enqueued.
    oldest_age: float | None


@dataclass(frozen=True)
class Histogram:
    """Run times of one job class: cumulative ``(upper bound, count)`` pairs ending at +Inf."""

    buckets: list[tuple[float, int]]
    count: int
    total: float


@dataclass(frozen=True)
class Snapshot:
    taken_at: float
    queues: dict[str, QueueStats]
    workers: int
    busy_workers: int
    processed: int
    failed: int
    failed_records: int
    delayed_jobs: int
    delayed_timestamps: int
    #: How long the earliest delayed job has been due (0 when none is due): a stalled scheduler shows here.
    delayed_overdue: float
    scheduler_master: str | None
    durations: dict[str, Histogram] = field(default_factory=dict)


def _histogram(fields: dict[str, str]) -> Histogram:
    counts: dict[float, int] = {}
    for name, value in fields.items():
        if name.startswith("le:"):
            counts[float(name[3:])] = counts.get(float(name[3:]), 0) + int(value)
    total = int(fields.get("count", "0"))
    cumulative, running = [], 0
    for bound in sorted(counts):
        running += counts[bound]
        cumulative.append((bound, running))
    if not cumulative or cumulative[-1][0] != math.inf:
        cumulative.append((math.inf, total))
    return Histogram(cumulative, total, float(fields.get("sum", "0")))


def take_snapshot(resque: Resque) -> Snapshot:
    """Read every figure the exporters report (a handful of round trips)."""
    store = resque.store
    now = resque.clock.time()
    names = store.queue_names()
    depths = store.queue_sizes(names)
    latencies = read_latencies(store, names, now)
    workers = store.worker_ids()
    working = store.working_on(workers)
    earliest = store.next_delayed_timestamp()
    return Snapshot(
        taken_at=now,
        queues={name: QueueStats(depths[name], latencies[name].seconds) for name in names},
        workers=len(workers),
        busy_workers=sum(1 for record in working.values() if record),
        processed=store.stat("processed"),
        failed=store.stat("failed"),
        failed_records=resque.failures.count(),
        delayed_jobs=store.delayed_count(),
        delayed_timestamps=store.delayed_schedule_size(),
        delayed_overdue=max(0.0, now - earliest) if earliest is not None else 0.0,
        scheduler_master=store.lock_owner(resque.keys.scheduler_master_lock),
        durations={name: _histogram(fields) for name, fields in store.durations().items()},
    )
