"""What a deployment's workers recorded in Redis, gathered for a capacity plan.

:func:`observe` reads, over a window ending now (on the Redis clock): the per-class job metrics
(minute hashes for windows up to six hours, day hashes beyond), the per-queue minute hashes (arrivals
and depths), the deploy markers, the workers registered now and the queues they serve, and every
queue Resque knows. Nothing is guessed: a queue no job was recorded from (one Ruby workers serve
records nothing) is listed as unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from resque_impl.job_metrics import (
    MAX_MINUTES,
    ArrivalSeries,
    ClassMetrics,
    Deploy,
    QueueActivity,
    read_deploys,
    read_job_metrics,
    read_job_metrics_days,
    read_queue_activity,
)
from resque_impl.store import StoreProtocol

__all__ = ["NothingRecordedError", "Observed", "Pool", "observe"]


class NothingRecordedError(RuntimeError):
    """The window holds no recorded job; the message says how to turn recording on."""


@dataclass(frozen=True)
class Pool:
    """Workers registered now with the same queue list (``queues`` as they registered it)."""

    queues: tuple[str, ...]
    count: int


@dataclass(frozen=True)
class Observed:
    """Everything :func:`observe` read; ``start``/``now`` are epoch seconds on the Redis clock."""

    now: float
    start: float
    since_deploy: Deploy | None
    deploys: tuple[Deploy, ...]
    classes: tuple[ClassMetrics, ...]
    activity: QueueActivity
    arrivals: dict[str, ArrivalSeries]
    pools: tuple[Pool, ...]
    known_queues: tuple[str, ...]
    skipped: dict[str, int] = field(default_factory=dict)

    def queue_of(self, class_name: str) -> str | None:
        """The queue most of ``class_name``'s recorded jobs came from (``None`` if none was recorded)."""
        counts = {queue: mix[class_name] for queue, mix in self.activity.classes_by_queue.items() if class_name in mix}
        return max(sorted(counts), key=lambda queue: counts[queue]) if counts else None

    def unknown_queues(self) -> list[str]:
        """Queues Resque knows (or workers serve) from which no job was recorded: Ruby-run or idle."""
        recorded = set(self.activity.classes_by_queue)
        served = {queue for pool in self.pools for queue in pool.queues if queue != "*"}
        return sorted((set(self.known_queues) | served) - recorded)


def _pools(worker_ids: list[str]) -> tuple[Pool, ...]:
    counts: dict[tuple[str, ...], int] = {}
    for worker_id in worker_ids:
        parts = worker_id.split(":", 2)
        if len(parts) == 3 and parts[2]:
            queues = tuple(queue for queue in parts[2].split(",") if queue)
            counts[queues] = counts.get(queues, 0) + 1
    return tuple(Pool(queues, count) for queues, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def observe(store: StoreProtocol, window: float, *, since_deploy: bool = False) -> Observed:
    """Read the recorded history of the last ``window`` seconds (after the last deploy marker, if
    ``since_deploy`` and there is one). Raises :class:`NothingRecordedError` when it holds no job."""
    now = store.server_time()
    start = now - window
    deploys, skipped_deploys = read_deploys(store)
    last = deploys[0] if since_deploy and deploys else None
    if last is not None and last.at > start:
        start = last.at
    minutes = max(1, math.ceil((now - start) / 60))
    if minutes <= MAX_MINUTES:
        report = read_job_metrics(store, now, minutes)
    else:
        report = read_job_metrics_days(store, now, math.ceil((now - start) / 86400) + 1)
    activity = read_queue_activity(store, start, now)
    namespace = store.keys.namespace
    if not report.classes and not activity.classes_by_queue:
        after = f" after deploy {last.label!r}" if last is not None else ""
        raise NothingRecordedError(
            f"nothing recorded in namespace {namespace!r} over the last {_span(now - start)}{after}: "
            "resque-impl workers record job metrics unless started with --no-job-metrics "
            "(or RESQUE_JOB_METRICS=false); run them with recording on for a while, then plan again"
        )
    return Observed(
        now=now,
        start=start,
        since_deploy=last,
        deploys=tuple(deploys),
        classes=report.classes,
        activity=activity,
        arrivals=activity.arrivals(),
        pools=_pools(store.worker_ids()),
        known_queues=tuple(sorted(store.queue_names())),
        skipped={"job_metrics": report.skipped, "queue_metrics": activity.skipped, "deploys": skipped_deploys},
    )


def _span(seconds: float) -> str:
    if seconds >= 86400:
        return f"{seconds / 86400:g}d"
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m"
