"""The scenario a plan writes: what was observed, as an ordinary scenario file a user can edit and rerun.

Each recorded queue becomes a Poisson arrival at its peak rate times the growth factor, with the mix of
classes recorded from it; each class its fitted run-time distribution (an ``empirical`` one reads
``runtimes.csv`` beside the file) and its failure probability; the pools are the workers registered now
(or one pool on ``*`` when none is), and the sweep varies the largest pool's count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from resque_sim.plan.fit import MIN_SAMPLES, RunTimeFit, empirical_samples, fit_run_times
from resque_sim.plan.observed import Observed

__all__ = [
    "DEFAULT_SLO",
    "PEAK_MINUTES",
    "Fitted",
    "PlanSettings",
    "fit_observed",
    "scenario_document",
    "sweep_values",
    "write_scenario",
]

#: Used when no --slo is given.
DEFAULT_SLO = "wait.p95<2s"
#: The peak is the busiest run of this many minutes (one minute for spans under half an hour).
PEAK_MINUTES = 5
_TARGET_JOBS = 20_000  # jobs a simulated run should hold, for stable tail percentiles
_MIN_DURATION, _MAX_DURATION = 300.0, 7200.0
_MAX_SWEEP = 16
RUNTIMES_CSV = "runtimes.csv"


@dataclass(frozen=True)
class PlanSettings:
    """How to turn observations into a scenario: the load multiple, SLO entries, pool settings."""

    growth: float = 1.5
    slo: tuple[dict[str, Any], ...] = ()
    interval: str = "5s"
    fork_per_job: bool = True
    duration: float | None = None
    seed: int = 1


@dataclass(frozen=True)
class QueueFit:
    queue: str
    mean_rate: float
    peak_rate: float
    arrivals: int
    seconds: float
    mix: dict[str, float]


@dataclass(frozen=True)
class ClassFit:
    name: str
    queue: str | None
    run_time: RunTimeFit
    executions: int
    failures: int
    p95: float | None

    @property
    def failure_rate(self) -> float:
        return self.failures / self.executions if self.executions else 0.0


@dataclass(frozen=True)
class Fitted:
    """The fits behind a plan, with what is unknown and what is uncertain (and why)."""

    queues: tuple[QueueFit, ...]
    classes: tuple[ClassFit, ...]
    unknown: tuple[str, ...]
    uncertain: tuple[str, ...]
    peak_minutes: int
    notes: tuple[str, ...] = field(default_factory=tuple)

    def offered_load(self, growth: float) -> float:
        """Workers kept busy on average at the peak times ``growth`` (rate x mean run time, summed)."""
        return sum(self.queue_loads(growth).values())

    def queue_loads(self, growth: float) -> dict[str, float]:
        """Each queue's share of :meth:`offered_load`."""
        means = {fit.name: fit.run_time.mean for fit in self.classes}
        return {
            queue.queue: queue.peak_rate
            * growth
            * sum(share * means.get(name, 0.0) for name, share in queue.mix.items())
            for queue in self.queues
        }


def fit_observed(observed: Observed) -> Fitted:
    """Fit arrival rates and run-time distributions to ``observed``."""
    span = sum(series.seconds for series in observed.arrivals.values()) / max(1, len(observed.arrivals))
    peak_minutes = PEAK_MINUTES if span >= 1800 else 1
    unknown: list[str] = []
    uncertain: list[str] = []
    notes: list[str] = []
    classes: list[ClassFit] = []
    for metrics in observed.classes:
        queue = observed.queue_of(metrics.name)
        fit = fit_run_times(metrics.buckets, metrics.mean or 0.0)
        classes.append(ClassFit(metrics.name, queue, fit, metrics.executions, metrics.failures, metrics.percentile(95)))
        if queue is None:
            unknown.append(f"class {metrics.name}: run times recorded, but not the queue it came from")
        if fit.uncertain:
            uncertain.append(
                f"class {metrics.name}: run-time distribution and failure rate from {metrics.executions} jobs "
                f"(fewer than {MIN_SAMPLES})"
            )
        spread = [q for q, mix in observed.activity.classes_by_queue.items() if metrics.name in mix and q != queue]
        if queue is not None and spread:
            notes.append(f"class {metrics.name} also ran from {', '.join(sorted(spread))}; planned on {queue} only")
    known = {fit.name for fit in classes if fit.queue is not None}
    queues: list[QueueFit] = []
    for queue, series in sorted(observed.arrivals.items()):
        mix = {
            name: count for name, count in observed.activity.classes_by_queue.get(queue, {}).items() if name in known
        }
        if not mix:
            continue
        total = sum(mix.values())
        shares = {name: count / total for name, count in sorted(mix.items())}
        queues.append(
            QueueFit(queue, series.mean_rate, series.peak_rate(peak_minutes), series.arrivals, series.seconds, shares)
        )
        if series.arrivals < MIN_SAMPLES:
            uncertain.append(f"queue {queue}: arrival rate from {series.arrivals} jobs (fewer than {MIN_SAMPLES})")
        if series.seconds < 600:
            uncertain.append(f"queue {queue}: peak from {series.seconds:.0f} s of history (under 10 minutes)")
    for queue in observed.unknown_queues():
        unknown.append(
            f"queue {queue}: no job recorded from it (served by Ruby workers, which record nothing, or idle)"
        )
    return Fitted(tuple(queues), tuple(classes), tuple(unknown), tuple(uncertain), peak_minutes, tuple(notes))


def sweep_values(load: float, current: int, floor_load: float | None = None) -> list[int]:
    """Worker counts to sweep for an offered ``load`` (workers) and ``current`` count: from the load
    (or ``floor_load``, when other pools share the load) to well above it, at most 16 values."""
    low = max(1, math.floor(load if floor_load is None else floor_load))
    high = max(math.ceil(load * 1.6) + 3, current + 1, low + 4)
    if high - low + 1 <= _MAX_SWEEP:
        values = set(range(low, high + 1))
    else:
        values = {round(value) for value in np.geomspace(low, high, _MAX_SWEEP)}
    if current:
        values.add(current)
    return sorted(values)


def scenario_document(
    observed: Observed, fitted: Fitted, settings: PlanSettings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The scenario mapping, and the empirical run-time columns it refers to (column -> samples)."""
    total_rate = sum(queue.peak_rate for queue in fitted.queues) * settings.growth
    longest = max((fit.run_time.mean for fit in fitted.classes), default=1.0)
    duration = settings.duration or min(
        _MAX_DURATION, max(_MIN_DURATION, _TARGET_JOBS / max(total_rate, 1e-9), 200 * longest)
    )
    columns: dict[str, Any] = {}
    jobs: dict[str, Any] = {}
    for index, fit in enumerate(fit for fit in fitted.classes if fit.queue is not None):
        spec = dict(fit.run_time.spec)
        if fit.run_time.family == "empirical":
            column = f"c{index + 1}"
            metrics = next(item for item in observed.classes if item.name == fit.name)
            columns[column] = empirical_samples(metrics.buckets, fit.run_time.mean)
            spec = {"dist": "empirical", "csv": RUNTIMES_CSV, "column": column}
        job: dict[str, Any] = {"queue": fit.queue, "duration": _rounded(spec)}
        if fit.failures:
            job["failure"] = {"probability": round(fit.failure_rate, 6)}
        jobs[fit.name] = job
    arrivals = [
        {
            "name": f"queue-{queue.queue}",
            "process": {"type": "poisson", "rate": f"{queue.peak_rate * settings.growth:.6g}/s"},
            "mix": {name: round(share, 6) for name, share in queue.mix.items()},
        }
        for queue in fitted.queues
        if queue.peak_rate > 0
    ]
    pools = list(observed.pools) or []
    workers = []
    for index, pool in enumerate(pools):
        workers.append(_pool("default" if index == 0 else f"pool{index + 1}", pool.count, list(pool.queues), settings))
    if not workers:
        workers.append(_pool("default", 1, ["*"], settings))
    current = pools[0].count if pools else 0
    load = fitted.offered_load(settings.growth)
    document: dict[str, Any] = {
        "version": 1,
        "name": "plan",
        "seed": settings.seed,
        "duration": f"{duration:.0f}s",
        "warmup": f"{duration * 0.1:.0f}s",
        "arrivals": arrivals,
        "jobs": jobs,
        "workers": workers,
        "slo": list(settings.slo),
        "sweep": {"param": "workers.default.count", "values": sweep_values(load, current)},
    }
    return document, columns


def _pool(name: str, count: int, queues: list[str], settings: PlanSettings) -> dict[str, Any]:
    return {
        "pool": name,
        "count": count,
        "queues": queues,
        "interval": settings.interval,
        "fork_per_job": settings.fork_per_job,
    }


def _rounded(spec: dict[str, Any]) -> dict[str, Any]:
    return {key: float(f"{value:.6g}") if isinstance(value, float) else value for key, value in spec.items()}


def write_scenario(out_dir: Path, document: dict[str, Any], columns: dict[str, Any]) -> Path:
    """Write ``plan.yaml`` (and ``runtimes.csv`` when a class's run times are empirical) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if columns:
        names = sorted(columns)
        rows = zip(*(columns[name] for name in names), strict=True)
        lines = [",".join(names), *(",".join(f"{value:.6g}" for value in row) for row in rows)]
        (out_dir / RUNTIMES_CSV).write_text("\n".join(lines) + "\n", encoding="utf-8")
    header = (
        "# Fitted by resque-sim plan from what the workers recorded; edit and rerun with resque-sim plan.yaml.\n"
        "# Arrival rates are each queue's peak times the growth factor.\n"
    )
    path = out_dir / "plan.yaml"
    path.write_text(header + yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path
