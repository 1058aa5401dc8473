"""Run-time distributions fitted to what the workers recorded: a histogram (the bucket counts of
:data:`resque_impl.job_metrics.BUCKETS`) and the exact total, so the exact mean.

Each candidate family is fixed to the recorded mean, and its one free shape parameter (if any) is
chosen by maximum likelihood on the binned counts (interval-censored data: a job's run time is known
only to lie in its bucket). Its goodness of fit is the largest gap between its distribution function
and the recorded one at the bucket bounds (a binned Kolmogorov-Smirnov distance, ``D``); a family fits
when ``D`` is at most the 95 % critical value ``1.36 / sqrt(n)`` plus :data:`D_SLACK` (the recorded
run times include the worker's own per-job overhead, which no family models). The best fitting family
wins; when none fits, the empirical distribution (quantiles read off the histogram, scaled to the
recorded mean) is used instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from resque_impl.job_metrics import BUCKETS

__all__ = ["D_SLACK", "MIN_SAMPLES", "RunTimeFit", "empirical_samples", "fit_run_times", "gamma_cdf"]

#: Fewer jobs than this and a class's fit is reported as uncertain.
MIN_SAMPLES = 30
#: Added to the critical distance: a bucketed, overhead-shifted record never matches a family exactly.
D_SLACK = 0.03
_Z99 = 2.3263478740408408  # the standard normal's 99th percentile
_PARSIMONY = 0.005
_SHAPES = np.geomspace(0.05, 4.0, 80)  # lognormal sigma and gamma cv candidates


@dataclass(frozen=True)
class RunTimeFit:
    """The distribution chosen for one class: ``family`` (constant, exponential, lognormal, gamma or
    empirical), the scenario ``duration:`` mapping (``empirical`` refers to a CSV column the caller
    writes from :func:`empirical_samples`), its distance ``d`` and the critical one, and the sample count."""

    family: str
    spec: dict[str, Any]
    mean: float
    samples: int
    d: float | None
    d_critical: float
    candidates: dict[str, float]

    @property
    def uncertain(self) -> bool:
        return self.samples < MIN_SAMPLES


def _cdf_bounds() -> npt.NDArray[np.float64]:
    return np.asarray(BUCKETS, dtype=float)


def gamma_cdf(x: npt.NDArray[np.float64], shape: float, scale: float) -> npt.NDArray[np.float64]:
    """The gamma distribution function: the regularized lower incomplete gamma P(shape, x/scale), by its
    power series below ``shape + 1`` and by Lentz's continued fraction for the upper part above."""
    out = np.empty_like(x)
    for index, value in enumerate(x / scale):
        out[index] = _regularized_gamma(shape, float(value))
    return out


def _regularized_gamma(a: float, x: float) -> float:
    if x <= 0:
        return 0.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        n = a
        for _ in range(500):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-14:
                break
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 500):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-14:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def _lognormal_cdf(x: npt.NDArray[np.float64], median: float, sigma: float) -> npt.NDArray[np.float64]:
    z = (np.log(x) - math.log(median)) / (sigma * math.sqrt(2))
    return np.asarray(0.5 * (1 + np.vectorize(math.erf)(z)), dtype=float)


def _binned_log_likelihood(cdf: npt.NDArray[np.float64], counts: npt.NDArray[np.float64]) -> float:
    """Log-likelihood of bucket ``counts`` (+Inf last) under a distribution function at the bounds."""
    edges = np.concatenate(([0.0], cdf, [1.0]))
    probabilities = np.clip(np.diff(edges), 1e-12, None)
    return float(np.sum(counts * np.log(probabilities)))


def _distance(cdf: npt.NDArray[np.float64], counts: npt.NDArray[np.float64]) -> float:
    recorded = np.cumsum(counts)[:-1] / counts.sum()
    return float(np.max(np.abs(recorded - cdf)))


def _best_shape(
    family: str, mean: float, counts: npt.NDArray[np.float64], bounds: npt.NDArray[np.float64]
) -> tuple[dict[str, Any], npt.NDArray[np.float64]]:
    best: tuple[float, dict[str, Any], npt.NDArray[np.float64]] | None = None
    for shape in _SHAPES:
        if family == "lognormal":
            median = mean * math.exp(-(shape**2) / 2)
            cdf = _lognormal_cdf(bounds, median, shape)
            spec: dict[str, Any] = {"dist": "lognormal", "median": median, "p99": median * math.exp(_Z99 * shape)}
        else:
            k = 1 / shape**2
            cdf = gamma_cdf(bounds, k, mean / k)
            spec = {"dist": "gamma", "mean": mean, "cv": float(shape)}
        likelihood = _binned_log_likelihood(cdf, counts)
        if best is None or likelihood > best[0]:
            best = (likelihood, spec, cdf)
    assert best is not None
    return best[1], best[2]


def fit_run_times(buckets: tuple[int, ...], mean: float) -> RunTimeFit:
    """The best-fitting family for a class whose run times fell in ``buckets`` and averaged ``mean`` s."""
    counts = np.asarray(buckets, dtype=float)
    n = int(counts.sum())
    critical = 1.36 / math.sqrt(max(n, 1)) + D_SLACK
    bounds = _cdf_bounds()
    if n == 0 or mean <= 0:
        return RunTimeFit(
            "constant", {"dist": "constant", "value": max(mean, 0.0)}, max(mean, 0.0), n, None, critical, {}
        )
    occupied = np.flatnonzero(counts)
    if len(occupied) == 1 and occupied[0] < len(BUCKETS):
        # every run in one bucket: nothing tells the shape apart from a constant
        return RunTimeFit("constant", {"dist": "constant", "value": mean}, mean, n, 0.0, critical, {"constant": 0.0})
    fitted: dict[str, tuple[dict[str, Any], float]] = {}
    exponential = 1 - np.exp(-bounds / mean)
    fitted["exponential"] = ({"dist": "exponential", "mean": mean}, _distance(exponential, counts))
    for family in ("lognormal", "gamma"):
        spec, cdf = _best_shape(family, mean, counts, bounds)
        fitted[family] = (spec, _distance(cdf, counts))
    candidates = {family: distance for family, (_, distance) in fitted.items()}
    family = min(fitted, key=lambda name: fitted[name][1])
    if fitted["exponential"][1] <= fitted[family][1] + _PARSIMONY:
        family = "exponential"  # as good, with no shape parameter
    spec, distance = fitted[family]
    if distance > critical:
        return RunTimeFit("empirical", {"dist": "empirical"}, mean, n, distance, critical, candidates)
    return RunTimeFit(family, spec, mean, n, distance, critical, candidates)


def empirical_samples(buckets: tuple[int, ...], mean: float, size: int = 1000) -> npt.NDArray[np.float64]:
    """``size`` run times spread as the histogram says (quantiles interpolated inside each bucket, the
    +Inf bucket at the largest bound), scaled so their mean is the recorded ``mean``."""
    counts = np.asarray(buckets, dtype=float)
    total = counts.sum()
    if total == 0:
        return np.full(size, mean)
    lower = np.concatenate(([0.0], np.asarray(BUCKETS, dtype=float)))
    upper = np.concatenate((np.asarray(BUCKETS, dtype=float), [BUCKETS[-1]]))
    cumulative = np.concatenate(([0.0], np.cumsum(counts) / total))
    ranks = (np.arange(size) + 0.5) / size
    index = np.clip(np.searchsorted(cumulative, ranks, side="right") - 1, 0, len(counts) - 1)
    within = (ranks - cumulative[index]) / np.where(counts[index] > 0, counts[index] / total, 1.0)
    samples = lower[index] + (upper[index] - lower[index]) * np.clip(within, 0.0, 1.0)
    average = float(samples.mean())
    return samples * (mean / average) if average > 0 else np.full(size, mean)
