"""A run's records over time: per bucket of simulated time, rates, queue depths, busy and serving
workers, wait percentiles and memory (``timeseries.csv`` and the charts)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from resque_sim.metrics import QUANTILES, Floats, censored, depth_steps
from resque_sim.records import COMPLETED, FAILED, RETRIED, RunRecord

__all__ = ["bucket_width", "timeseries"]


_NICE_WIDTHS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)


def bucket_width(duration: float, buckets: int = 400) -> float:
    """A round bucket width (seconds) giving at most about ``buckets`` buckets over ``duration``."""
    wanted = duration / buckets
    for width in _NICE_WIDTHS:
        if width >= wanted:
            return float(width)
    return float(math.ceil(wanted / 86400) * 86400)


def _step_average(times: Floats, deltas: npt.NDArray[np.int64], initial: int, edges: Floats) -> Floats:
    """The time-average over each [edges[i], edges[i+1]) of a step function that starts at ``initial`` at
    time 0 and changes by ``deltas`` at ``times`` (non-negative, any order)."""
    order = np.argsort(times, kind="stable")
    knots = np.concatenate([[0.0], times[order]])
    levels = np.concatenate([[initial], initial + np.cumsum(deltas[order])])  # the level from each knot on
    integral_at_knots = np.concatenate([[0.0], np.cumsum(levels[:-1] * np.diff(knots))])
    k = np.searchsorted(knots, edges, side="right") - 1
    integral: Floats = integral_at_knots[k] + levels[k] * (edges - knots[k])
    averages: Floats = np.diff(integral) / np.diff(edges)
    return averages


def timeseries(run: RunRecord, width: float | None = None) -> pd.DataFrame:
    """Per bucket of ``width`` seconds (default :func:`bucket_width`): one row per bucket.

    Columns: ``time`` (bucket start), ``arrivals_per_s``, ``completed_per_s``, ``failed_per_s`` and
    ``failed_per_s:<exception>``, ``depth:<queue>`` (time-average jobs waiting), ``busy`` and ``workers``
    (time-average busy and serving workers), ``restarts`` (workers going down in the bucket),
    ``wait_p50:<queue>`` / ``wait_p95:<queue>`` / ``wait_p99:<queue>`` (of the attempts enqueued in the
    bucket, censored as in :func:`run_stats`), ``rss_max_mb`` (largest worker memory sample) and, on the
    redis backend, ``redis_used_memory_mb``.
    """
    width = width or bucket_width(run.duration)
    count = max(1, math.ceil(run.duration / width - 1e-9))
    edges = np.arange(count + 1, dtype=np.float64) * width
    edges[-1] = max(edges[-1], run.duration)
    jobs = run.jobs
    columns: dict[str, Any] = {"time": edges[:-1]}

    def per_second(times: Floats) -> Floats:
        counted, _ = np.histogram(times, bins=edges)
        return counted / np.diff(edges)

    outcome = jobs["outcome"]
    failed = (outcome == FAILED) | (outcome == RETRIED)
    columns["arrivals_per_s"] = per_second(jobs["enqueued_at"])
    columns["completed_per_s"] = per_second(jobs["finished_at"][outcome == COMPLETED])
    columns["failed_per_s"] = per_second(jobs["finished_at"][failed])
    for code, name in enumerate(run.exceptions):
        columns[f"failed_per_s:{name}"] = per_second(jobs["finished_at"][failed & (jobs["exception"] == code)])

    for code, name in enumerate(run.queues):
        mine = jobs["queue"] == code
        times, depth = depth_steps(jobs["enqueued_at"][mine], jobs["reserved_at"][mine])
        deltas = np.diff(np.concatenate([[0], depth]))
        columns[f"depth:{name}"] = _step_average(times, deltas, 0, edges)

    taken = ~np.isnan(jobs["reserved_at"])
    ends = jobs["finished_at"][taken]
    ends = ends[~np.isnan(ends)]
    busy_times = np.concatenate([jobs["reserved_at"][taken], ends])
    busy_deltas = np.concatenate([np.ones(np.count_nonzero(taken), np.int64), -np.ones(len(ends), np.int64)])
    columns["busy"] = _step_average(busy_times, busy_deltas, 0, edges)
    worker_times = np.concatenate([run.downs["at"], run.ups["at"]])
    worker_deltas = np.concatenate([-np.ones(len(run.downs["at"]), np.int64), np.ones(len(run.ups["at"]), np.int64)])
    columns["workers"] = _step_average(worker_times, worker_deltas, len(run.workers), edges)
    columns["restarts"], _ = np.histogram(run.downs["at"], bins=edges)

    frame = pd.DataFrame(columns)
    wait_columns = _wait_percentiles_by_bucket(run, edges)
    if not wait_columns.empty:
        frame = frame.join(wait_columns, how="left")
    frame["rss_max_mb"] = _bucket_max(run.rss["at"], run.rss["mb"].astype(np.float64), edges)
    if len(run.store_memory["at"]):
        frame["redis_used_memory_mb"] = _bucket_max(
            run.store_memory["at"], run.store_memory["bytes"].astype(np.float64) / 2**20, edges
        )
    return frame


def _bucket_max(times: Floats, values: Floats, edges: Floats) -> Floats:
    """The largest value sampled in each bucket (NaN where none was)."""
    result = np.full(len(edges) - 1, np.nan)
    if len(times):
        index = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, len(edges) - 2)
        np.fmax.at(result, index, values)
    return result


def _wait_percentiles_by_bucket(run: RunRecord, edges: Floats) -> pd.DataFrame:
    jobs = run.jobs
    if not len(jobs["enqueued_at"]):
        return pd.DataFrame()
    waits = censored(jobs["enqueued_at"], jobs["started_at"], run.duration)
    bucket = np.clip(np.searchsorted(edges, jobs["enqueued_at"], side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame({"queue": jobs["queue"], "bucket": bucket, "wait": waits})
    quantiles = frame.groupby(["queue", "bucket"], sort=True)["wait"].quantile(list(QUANTILES)).unstack()
    columns: dict[str, pd.Series] = {}
    for code, name in enumerate(run.queues):
        if code not in quantiles.index.get_level_values(0):
            continue
        mine = quantiles.xs(code, level=0)
        for q in QUANTILES:
            columns[f"wait_p{round(q * 100)}:{name}"] = mine[q]
    return pd.DataFrame(columns)
