"""``recommended_workers`` per queue, the autoscaling signal on ``/metrics``.

From the last plan ``resque-sim plan --publish`` stored (:func:`publish_recommendation`), while it is
younger than :data:`PLAN_MAX_AGE`; otherwise an Erlang-C estimate (:func:`erlang_c_workers`) from the
last :data:`RECENT_MINUTES` minutes the workers recorded: each queue's arrival rate and its classes'
mean run time, sized so that at most 5 % of jobs wait longer than a target (:data:`WAIT_TARGET`
seconds unless ``resque-impl metrics --recommend-wait`` says otherwise), as in M/M/c: Poisson
arrivals, exponential run times, one queue per pool of workers.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from resque_impl.job_metrics.activity import read_queue_activity
from resque_impl.job_metrics.layout import DAY_TTL
from resque_impl.job_metrics.report import read_job_metrics
from resque_impl.store import StoreProtocol

__all__ = [
    "PLAN_MAX_AGE",
    "RECENT_MINUTES",
    "WAIT_TARGET",
    "Recommendation",
    "erlang_c",
    "erlang_c_workers",
    "publish_recommendation",
    "recommended_workers",
]

#: A published plan older than this (seconds) gives way to the Erlang-C estimate.
PLAN_MAX_AGE = 7 * 86400
#: Minutes of recent history the estimate reads.
RECENT_MINUTES = 15
#: The estimate's default target: at most 5 % of jobs wait longer than this many seconds.
WAIT_TARGET = 2.0
_WAIT_QUANTILE = 0.95
_KEEP_PLANS = 10


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Workers recommended for ``queue``, and where the figure came from (``plan`` or ``erlang_c``)."""

    queue: str
    workers: int
    source: str


def erlang_c(servers: int, load: float) -> float:
    """The probability that a job waits in an M/M/c queue with ``servers`` workers and offered ``load``
    (arrival rate x mean run time, in workers); 1 when ``load >= servers``."""
    if load >= servers:
        return 1.0
    blocking = 1.0  # Erlang B by its recursion, which stays finite for large c
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return servers * blocking / (servers - load * (1 - blocking))


def erlang_c_workers(rate: float, mean_run: float, wait_target: float = WAIT_TARGET) -> int:
    """The fewest workers for which at most 5 % of jobs wait longer than ``wait_target`` seconds, with
    Poisson arrivals at ``rate``/s and exponential run times of mean ``mean_run`` s (0 for no load)."""
    load = rate * mean_run
    if load <= 0:
        return 0
    servers = max(1, math.ceil(load))
    while True:
        if load < servers:
            tail = erlang_c(servers, load) * math.exp(-(servers - load) * wait_target / mean_run)
            if tail <= 1 - _WAIT_QUANTILE:
                return servers
        servers += 1


def publish_recommendation(store: StoreProtocol, at: float, workers: dict[str, int], detail: dict[str, Any]) -> None:
    """Store a plan's recommendation: workers per queue, made at ``at`` (epoch seconds), with ``detail``."""
    item = json.dumps({"at": at, "queues": workers, **detail}, separators=(",", ":"))
    store.push_capped(store.keys.plans, item, _KEEP_PLANS, DAY_TTL)


def _published(store: StoreProtocol, now: float) -> dict[str, int] | None:
    for item in store.list_items(store.keys.plans) or []:
        try:
            data = json.loads(item)
            queues = {str(queue): int(count) for queue, count in data["queues"].items()}
            if now - float(data["at"]) <= PLAN_MAX_AGE:
                return queues
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
        return None
    return None


def recommended_workers(store: StoreProtocol, now: float, wait_target: float = WAIT_TARGET) -> list[Recommendation]:
    """Per queue, from the last published plan, else estimated from the recent recording so that at
    most 5 % of jobs wait longer than ``wait_target`` seconds."""
    if not (math.isfinite(wait_target) and wait_target > 0):
        raise ValueError(f"wait_target must be a positive number of seconds, got {wait_target!r}")
    published = _published(store, now)
    if published is not None:
        return [Recommendation(queue, workers, "plan") for queue, workers in sorted(published.items())]
    activity = read_queue_activity(store, now - 60 * RECENT_MINUTES, now)
    means = {metrics.name: metrics.mean for metrics in read_job_metrics(store, now, RECENT_MINUTES).classes}
    found = []
    for queue, series in sorted(activity.arrivals().items()):
        mix = activity.classes_by_queue.get(queue, {})
        timed = {name: count for name, count in mix.items() if means.get(name) is not None}
        if not timed or series.seconds <= 0:
            continue
        mean = sum(count * (means[name] or 0.0) for name, count in timed.items()) / sum(timed.values())
        found.append(Recommendation(queue, erlang_c_workers(series.mean_rate, mean, wait_target), "erlang_c"))
    return found
