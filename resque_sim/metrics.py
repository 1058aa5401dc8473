"""From a run's records to numbers: DataFrames and summary statistics (over time in
:mod:`resque_sim.timeseries`; across replications, SLO verdicts and sweeps in :mod:`resque_sim.estimates`).

What a caller needs::

    frame = jobs_frame(run)                  # one row per attempt, the jobs.csv columns (+ reserved_at)
    stats = run_stats(run)                   # RunStats: counts, wait/latency percentiles, per queue, ...
    series = timeseries(run)                 # (timeseries) per time bucket: rates, depth, busy workers, waits
    values = [slo_value(stats, slo) for slo in scenario.slo]     # (estimates) per replication
    results = evaluate_slos(scenario.slo, [values, ...])         # (estimates) one SloResult per SLO, 95% CI
    best = recommended(sweep_points)         # (estimates) the smallest swept value meeting every SLO

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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from resque_sim.records import COMPLETED, DOWN_REASONS, FAILED, OUTCOMES, PENDING, RETRIED, RUNNING, RunRecord

__all__ = [
    "JOB_COLUMNS",
    "QUANTILES",
    "Floats",
    "Percentiles",
    "QueueStats",
    "RunStats",
    "censored",
    "depth_steps",
    "jobs_frame",
    "run_stats",
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
QUANTILES = (0.5, 0.95, 0.99)


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
        p50, p95, p99 = np.quantile(values, QUANTILES).tolist()
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


def censored(start: Floats, end: Floats, cap: float) -> Floats:
    """``end - start``, with a missing ``end`` replaced by ``cap`` (the end of the run)."""
    return np.where(np.isnan(end), cap, end) - start


def depth_steps(enqueued: Floats, reserved: Floats) -> tuple[Floats, npt.NDArray[np.int64]]:
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
    times, depth = depth_steps(enqueued, reserved)
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
    waits_all = censored(enqueued_at, started_at, end)
    latencies_all = censored(enqueued_at, finished_at, end)
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
