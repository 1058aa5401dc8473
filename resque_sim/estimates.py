"""Across replications: Student-t confidence intervals, SLO values and verdicts, and the smallest swept
value that meets every SLO (summary.json's ``slo`` and ``recommended``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from resque_sim.metrics import RunStats
from resque_sim.scenario import Slo

__all__ = [
    "Estimate",
    "SloResult",
    "SweepPoint",
    "estimate",
    "evaluate_slos",
    "merge_counts",
    "recommended",
    "slo_value",
    "student_t_quantile",
]


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
