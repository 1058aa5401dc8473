"""From a run's records to numbers: DataFrames, summary statistics, SLO verdicts, sweep results.

What a caller needs::

    frame = jobs_frame(run)                  # one row per attempt, the jobs.csv columns (+ reserved_at)
    stats = run_stats(run)                   # RunStats: counts, wait/latency percentiles, per queue, ...
    series = timeseries(run)                 # per time bucket: rates, depth, busy workers, wait percentiles
    values = [slo_value(stats, slo) for slo in scenario.slo]     # per replication
    results = evaluate_slos(scenario.slo, [values, ...])         # one SloResult per SLO, t-based 95% CI
    best = recommended(sweep_points)         # the smallest swept value meeting every SLO

Definitions (the same everywhere: summary.json, charts, SLOs):

- Statistics cover the attempts **enqueued at or after the warmup**; ``jobs`` counts cover the whole run.
  Every attempt is a Resque job of its own (a retry is enqueued again), so counts are of attempts.
  ``failed`` counts every attempt that raised, ``retried`` those of them the Retry plugin scheduled again
  (Resque's ``stat:failed`` counts only the others: the plugin swallows what it retries).
- ``wait`` = enqueue to start of ``perform`` (after any fork overhead); ``latency`` = enqueue to finish.
  An attempt not started (or not finished) when the run ends counts with the time it has waited so far,
  a lower bound, so an overloaded run cannot look healthy by leaving its backlog out.
- Percentiles are numpy's default (linear interpolation between order statistics).
- ``failure_rate`` = attempts that raised / finished attempts.
- ``utilization`` = busy worker-seconds (reserve to finish) / (workers x measured seconds).
- ``max_depth`` = the largest number of jobs waiting in a queue (or in all queues together), exactly,
  from every push and reserve.
- Across replications a statistic is the mean of its per-replication values, with a Student-t 95%
  confidence interval when there are at least two.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from resque_sim.records import COMPLETED, DOWN_REASONS, FAILED, OUTCOMES, PENDING, RETRIED, RUNNING, RunRecord
from resque_sim.scenario import Slo

__all__ = [
    "JOB_COLUMNS",
    "Estimate",
    "Percentiles",
    "QueueStats",
    "RunStats",
    "SloResult",
    "SweepPoint",
    "bucket_width",
    "estimate",
    "evaluate_slos",
    "jobs_frame",
    "merge_counts",
    "recommended",
    "run_stats",
    "slo_value",
    "student_t_quantile",
    "timeseries",
    "worker_events_frame",
    "worker_memory_frame",
]

#: The jobs.csv columns, in order (DESIGN.md section 5).
JOB_COLUMNS = (
    "id",
    "class",
    "queue",
    "enqueued_at",
    "started_at",
    "finished_at",
    "wait",
    "run",
    "worker",
    "outcome",
    "exception",
    "attempt",
)

Floats = npt.NDArray[np.float64]
_QUANTILES = (0.5, 0.95, 0.99)


# --------------------------------------------------------------------------------------------------
# DataFrames
# --------------------------------------------------------------------------------------------------


def _categorical(codes: npt.NDArray[Any], names: Sequence[str]) -> pd.Categorical:
    """Codes (-1 = missing) as a categorical: a few bytes per row, however long the names."""
    return pd.Categorical.from_codes(codes.astype(np.int32), categories=pd.Index(list(names), dtype=object))


def jobs_frame(run: RunRecord) -> pd.DataFrame:
    """One row per attempt with the jobs.csv columns (:data:`JOB_COLUMNS`), plus ``reserved_at``.

    Text columns are categoricals; unknown values (a job never started has no worker) are missing.
    """
    jobs = run.jobs
    started, finished = jobs["started_at"], jobs["finished_at"]
    return pd.DataFrame(
        {
            "id": jobs["job_id"],
            "class": _categorical(jobs["job_class"], run.classes),
            "queue": _categorical(jobs["queue"], run.queues),
            "enqueued_at": jobs["enqueued_at"],
            "started_at": started,
            "finished_at": finished,
            "wait": started - jobs["enqueued_at"],
            "run": finished - started,
            "worker": _categorical(jobs["worker"], run.workers),
            "outcome": _categorical(jobs["outcome"].astype(np.int32), OUTCOMES),
            "exception": _categorical(jobs["exception"], run.exceptions),
            "attempt": jobs["attempt"],
            "reserved_at": jobs["reserved_at"],
        },
        copy=False,
    )


def worker_events_frame(run: RunRecord) -> pd.DataFrame:
    """Worker restarts: ``time``, ``worker``, ``event`` (``down`` or ``up``) and the ``reason`` of a down."""
    downs, ups = run.downs, run.ups
    frame = pd.DataFrame(
        {
            "time": np.concatenate([downs["at"], ups["at"]]),
            "worker": [run.workers[i] for i in downs["worker"]] + [run.workers[i] for i in ups["worker"]],
            "event": ["down"] * len(downs["at"]) + ["up"] * len(ups["at"]),
            "reason": [DOWN_REASONS[i] for i in downs["reason"]] + [""] * len(ups["at"]),
        }
    )
    return frame.sort_values(["time", "event"], kind="stable", ignore_index=True)


def worker_memory_frame(run: RunRecord) -> pd.DataFrame:
    """Worker memory samples: ``time``, ``worker``, ``rss_mb`` and ``peak`` (a job's largest size)."""
    rss = run.rss
    return pd.DataFrame(
        {
            "time": rss["at"],
            "worker": _categorical(rss["worker"], run.workers),
            "rss_mb": rss["mb"].astype(np.float64),
            "peak": rss["peak"],
        }
    )


# --------------------------------------------------------------------------------------------------
# Statistics of one run
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Percentiles:
    """Mean, median, 95th and 99th percentiles and maximum of a set of times (seconds; 0 when empty)."""

    mean: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0

    @classmethod
    def of(cls, values: Floats) -> Percentiles:
        if not len(values):
            return cls()
        p50, p95, p99 = np.quantile(values, _QUANTILES).tolist()
        return cls(float(values.mean()), p50, p95, p99, float(values.max()))

    def percentile(self, q: float, values: Floats | None = None) -> float:
        """The ``q``-th percentile: one of those kept, or computed from ``values``."""
        kept = {50.0: self.p50, 95.0: self.p95, 99.0: self.p99}
        if q in kept or values is None:
            return kept[q]
        return float(np.percentile(values, q)) if len(values) else 0.0


@dataclass(frozen=True)
class QueueStats:
    """Statistics of one queue (see the module docstring for definitions)."""

    enqueued: int
    completed: int
    failed: int
    failure_rate: float
    wait: Percentiles
    latency: Percentiles
    max_depth: int


@dataclass(frozen=True)
class RunStats:
    """Statistics of one replication.  ``waits``/``latencies`` (per queue, ``""`` = all) keep the values
    so SLOs at other percentiles can be evaluated; they are left out of pickles and summaries."""

    replication: int
    seed: int
    simulated_seconds: float
    measured_seconds: float
    wall_seconds: float
    enqueued: int
    completed: int
    failed: int
    retried: int
    pending_at_end: int
    wait: Percentiles
    latency: Percentiles
    queues: dict[str, QueueStats]
    failure_rate: float
    failures: dict[str, int]
    throughput: float
    max_depth: int
    utilization: float
    workers: int
    restarts: dict[str, int]
    peak_rss_mb: float
    store_peak_memory_bytes: int | None
    waits: dict[str, Floats] = field(repr=False, compare=False, default_factory=dict)
    latencies: dict[str, Floats] = field(repr=False, compare=False, default_factory=dict)

    @property
    def restart_count(self) -> int:
        return sum(self.restarts.values())


def _censored(start: Floats, end: Floats, cap: float) -> Floats:
    """``end - start``, with a missing ``end`` replaced by ``cap`` (the end of the run)."""
    return np.where(np.isnan(end), cap, end) - start


def _depth_steps(enqueued: Floats, reserved: Floats) -> tuple[Floats, npt.NDArray[np.int64]]:
    """The queue depth as a right-continuous step function: the distinct event times (sorted) and the
    depth once every push and reserve at that time is done (a job pushed and taken at the same instant
    never waited, so it never counts)."""
    taken = reserved[~np.isnan(reserved)]
    times = np.concatenate([enqueued, taken])
    deltas = np.concatenate([np.ones(len(enqueued), np.int64), -np.ones(len(taken), np.int64)])
    order = np.argsort(times, kind="stable")
    times, depth = times[order], np.cumsum(deltas[order])
    last_of_each_time = np.append(times[1:] != times[:-1], True) if len(times) else np.array([], bool)
    return times[last_of_each_time], depth[last_of_each_time]


def _max_depth(enqueued: Floats, reserved: Floats, since: float) -> int:
    times, depth = _depth_steps(enqueued, reserved)
    if not len(times):
        return 0
    before = np.searchsorted(times, since, side="left")
    at_start = int(depth[before - 1]) if before > 0 else 0
    later = depth[before:]
    return max(at_start, int(later.max()) if len(later) else 0)


def run_stats(run: RunRecord) -> RunStats:
    """The statistics of one run (see the module docstring for what each one means)."""
    jobs = run.jobs
    end, warmup = run.duration, run.warmup
    measured = max(end - warmup, 1e-12)
    outcome = jobs["outcome"]
    window = jobs["enqueued_at"] >= warmup
    enqueued_at, started_at, finished_at = jobs["enqueued_at"], jobs["started_at"], jobs["finished_at"]
    waits_all = _censored(enqueued_at, started_at, end)
    latencies_all = _censored(enqueued_at, finished_at, end)
    failed_mask = (outcome == FAILED) | (outcome == RETRIED)
    finished_mask = failed_mask | (outcome == COMPLETED)

    queue_codes = jobs["queue"]
    queues: dict[str, QueueStats] = {}
    waits: dict[str, Floats] = {"": waits_all[window]}
    latencies: dict[str, Floats] = {"": latencies_all[window]}
    for code, name in enumerate(run.queues):
        mine = queue_codes == code
        measured_rows = mine & window
        waits[name] = waits_all[measured_rows]
        latencies[name] = latencies_all[measured_rows]
        finished = int(np.count_nonzero(finished_mask & measured_rows))
        failed = int(np.count_nonzero(failed_mask & measured_rows))
        queues[name] = QueueStats(
            enqueued=int(np.count_nonzero(measured_rows)),
            completed=int(np.count_nonzero((outcome == COMPLETED) & measured_rows)),
            failed=failed,
            failure_rate=failed / finished if finished else 0.0,
            wait=Percentiles.of(waits[name]),
            latency=Percentiles.of(latencies[name]),
            max_depth=_max_depth(enqueued_at[mine], jobs["reserved_at"][mine], warmup),
        )

    finished = int(np.count_nonzero(finished_mask & window))
    failed_in_window = failed_mask & window
    exception_codes, counts = np.unique(jobs["exception"][failed_in_window], return_counts=True)
    failures = {
        (run.exceptions[code] if code >= 0 else "unknown"): int(count)
        for code, count in zip(exception_codes.tolist(), counts.tolist(), strict=True)
    }
    reasons, reason_counts = np.unique(run.downs["reason"], return_counts=True)
    store_memory = run.store_memory["bytes"]
    return RunStats(
        replication=run.replication,
        seed=run.seed,
        simulated_seconds=end,
        measured_seconds=measured,
        wall_seconds=run.wall_seconds,
        enqueued=run.attempts,
        completed=int(np.count_nonzero(outcome == COMPLETED)),
        failed=int(np.count_nonzero(failed_mask)),
        retried=int(np.count_nonzero(outcome == RETRIED)),
        pending_at_end=int(np.count_nonzero((outcome == PENDING) | (outcome == RUNNING))),
        wait=Percentiles.of(waits[""]),
        latency=Percentiles.of(latencies[""]),
        queues=queues,
        failure_rate=int(np.count_nonzero(failed_in_window)) / finished if finished else 0.0,
        failures=dict(sorted(failures.items())),
        throughput=int(np.count_nonzero((outcome == COMPLETED) & window)) / measured,
        max_depth=_max_depth(enqueued_at, jobs["reserved_at"], warmup),
        utilization=_busy_seconds(jobs["reserved_at"], finished_at, warmup, end) / (len(run.workers) * measured)
        if run.workers
        else 0.0,
        workers=len(run.workers),
        restarts={DOWN_REASONS[r]: int(c) for r, c in zip(reasons.tolist(), reason_counts.tolist(), strict=True)},
        peak_rss_mb=float(run.rss["mb"].max()) if len(run.rss["mb"]) else 0.0,
        store_peak_memory_bytes=int(store_memory.max()) if len(store_memory) else None,
        waits=waits,
        latencies=latencies,
    )


def _busy_seconds(reserved: Floats, finished: Floats, start: float, end: float) -> float:
    """Worker-seconds spent on jobs (reserve to finish, or to the end) inside [start, end]."""
    taken = ~np.isnan(reserved)
    begin = np.clip(reserved[taken], start, end)
    stop = np.clip(np.where(np.isnan(finished[taken]), end, finished[taken]), start, end)
    return float((stop - begin).sum())


# --------------------------------------------------------------------------------------------------
# Over time
# --------------------------------------------------------------------------------------------------

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
        times, depth = _depth_steps(jobs["enqueued_at"][mine], jobs["reserved_at"][mine])
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
    waits = _censored(jobs["enqueued_at"], jobs["started_at"], run.duration)
    bucket = np.clip(np.searchsorted(edges, jobs["enqueued_at"], side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame({"queue": jobs["queue"], "bucket": bucket, "wait": waits})
    quantiles = frame.groupby(["queue", "bucket"], sort=True)["wait"].quantile(list(_QUANTILES)).unstack()
    columns: dict[str, pd.Series] = {}
    for code, name in enumerate(run.queues):
        if code not in quantiles.index.get_level_values(0):
            continue
        mine = quantiles.xs(code, level=0)
        for q in _QUANTILES:
            columns[f"wait_p{round(q * 100)}:{name}"] = mine[q]
    return pd.DataFrame(columns)


# --------------------------------------------------------------------------------------------------
# Confidence intervals
# --------------------------------------------------------------------------------------------------


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b), by its continued fraction (Lentz's method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1.0) / (a + b + 2.0):
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)  # the fraction converges fast only on this side
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    fraction = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            fraction *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return math.exp(log_front) * fraction / a


def _student_t_cdf(t: float, df: float) -> float:
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def student_t_quantile(p: float, df: float) -> float:
    """The ``p`` quantile of Student's t distribution with ``df`` degrees of freedom (0 < p < 1)."""
    if not 0.0 < p < 1.0 or df <= 0:
        raise ValueError(f"need 0 < p < 1 and df > 0, got p={p}, df={df}")
    if p < 0.5:
        return -student_t_quantile(1.0 - p, df)
    low, high = 0.0, 1.0
    while _student_t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if _student_t_cdf(middle, df) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-12 * max(1.0, high):
            break
    return (low + high) / 2.0


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its 95% confidence interval (``None`` from a single replication)."""

    mean: float
    low: float | None = None
    high: float | None = None

    @property
    def interval(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


def estimate(values: Sequence[float], confidence: float = 0.95) -> Estimate:
    """The mean of ``values`` with a Student-t ``confidence`` interval (needs two or more values)."""
    data = np.asarray(values, dtype=np.float64)
    if not len(data):
        raise ValueError("no values to estimate from")
    mean = float(data.mean())
    if len(data) < 2 or not np.all(np.isfinite(data)):
        return Estimate(mean)
    half = student_t_quantile(0.5 + confidence / 2.0, len(data) - 1) * float(data.std(ddof=1)) / math.sqrt(len(data))
    return Estimate(mean, mean - half, mean + half)


# --------------------------------------------------------------------------------------------------
# SLOs and sweeps
# --------------------------------------------------------------------------------------------------


def slo_value(stats: RunStats, slo: Slo) -> float:
    """The value of ``slo``'s metric in one run (seconds, a fraction, jobs or MB)."""
    if slo.metric in ("wait", "latency"):
        kept = stats.waits if slo.metric == "wait" else stats.latencies
        values = kept.get(slo.queue or "")
        summary = (
            (stats.wait if slo.metric == "wait" else stats.latency)
            if slo.queue is None
            else (stats.queues[slo.queue].wait if slo.metric == "wait" else stats.queues[slo.queue].latency)
        )
        if slo.percentile is None:
            return summary.mean
        return summary.percentile(slo.percentile, values)
    if slo.metric == "failure_rate":
        return stats.failure_rate if slo.queue is None else stats.queues[slo.queue].failure_rate
    if slo.metric == "max_depth":
        return float(stats.max_depth if slo.queue is None else stats.queues[slo.queue].max_depth)
    if slo.metric == "utilization":
        return stats.utilization
    return stats.peak_rss_mb


@dataclass(frozen=True)
class SloResult:
    """One SLO judged over every replication: ``value`` is the mean of the per-replication ``values``;
    ``ok`` when it is within ``limit``; ``interval`` its 95% confidence interval (two or more
    replications), and ``certain`` whether that interval lies wholly on one side of the limit."""

    slo: Slo
    value: float
    values: tuple[float, ...]
    interval: tuple[float, float] | None

    @property
    def limit(self) -> float:
        return self.slo.max

    @property
    def ok(self) -> bool:
        return self.value <= self.slo.max

    @property
    def certain(self) -> bool | None:
        if self.interval is None:
            return None
        low, high = self.interval
        return high <= self.slo.max or low > self.slo.max

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"metric": self.slo.metric}
        if self.slo.queue is not None:
            out["queue"] = self.slo.queue
        if self.slo.percentile is not None:
            out["percentile"] = self.slo.percentile
        out |= {"limit": self.limit, "value": self.value, "ok": self.ok}
        if self.interval is not None:
            out |= {"ci95": list(self.interval), "certain": self.certain, "replications": list(self.values)}
        return out


def evaluate_slos(slos: Sequence[Slo], values_per_run: Sequence[Sequence[float]]) -> list[SloResult]:
    """Judge each SLO over the replications, given each replication's values (:func:`slo_value`, in the
    order of ``slos``)."""
    results = []
    for index, slo in enumerate(slos):
        values = [float(run[index]) for run in values_per_run]
        result = estimate(values)
        results.append(SloResult(slo, result.mean, tuple(values), result.interval))
    return results


@dataclass(frozen=True)
class SweepPoint:
    """One swept value with its replications' statistics and SLO verdicts."""

    value: Any
    runs: tuple[RunStats, ...]
    slo: tuple[SloResult, ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.slo)


def recommended(points: Sequence[SweepPoint]) -> Any:
    """The smallest swept value (in numeric order when all are numbers, else as listed) meeting every SLO;
    ``None`` when none does."""
    candidates = list(points)
    if all(isinstance(point.value, (int, float)) and not isinstance(point.value, bool) for point in candidates):
        candidates.sort(key=lambda point: point.value)
    return next((point.value for point in candidates if point.ok), None)


def merge_counts(dicts: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Per-key sums of count dictionaries (keys sorted)."""
    total: dict[str, int] = {}
    for counts in dicts:
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return dict(sorted(total.items()))
