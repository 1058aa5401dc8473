"""How far apart two runs' mean waits are, against their sampling noise (for ``resque-sim compare``).

What a caller needs::

    noise = wait_noise(load_run(a), load_run(b))     # WaitNoise, or None when a run is too short to tell
    noise.difference, noise.low, noise.high, noise.beyond_noise, noise.describe()
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from resque_sim.estimates import student_t_quantile
from resque_sim.run_output import RunOutput

__all__ = ["BATCHES", "WaitNoise", "wait_noise"]

BATCHES = 20
"""Spans of enqueue time a run is cut into for its batch means."""


@dataclass(frozen=True)
class WaitNoise:
    """B's mean wait minus A's, with a 95% confidence interval (Welch's) from each run's standard error:
    over its replications when it has several, else from batch means: its measured time cut into
    :data:`BATCHES` equal spans of enqueue time, whose mean waits are taken as independent (waits a span
    apart hardly depend on each other unless the queue stays long for that long)."""

    difference: float
    low: float
    high: float

    @property
    def beyond_noise(self) -> bool:
        """Whether the interval leaves out 0: the runs' mean waits differ by more than their noise."""
        return self.low > 0 or self.high < 0

    def describe(self) -> str:
        where = "beyond" if self.beyond_noise else "within"
        return (
            f"the mean wait differs by {self.difference * 1000:+.1f} ms (95% CI {self.low * 1000:+.1f} to "
            f"{self.high * 1000:+.1f} ms), {where} the runs' noise"
        )


def _batch_error(run: RunOutput) -> tuple[float, int] | None:
    """The standard error of ``run``'s mean wait, and its degrees of freedom: from the replications'
    confidence interval when the summary has one (its mean is theirs), else from the batch means of the
    jobs in jobs.csv."""
    replications = run.summary.get("replications")
    interval = (run.summary.get("confidence") or {}).get("wait.mean")
    if isinstance(replications, int) and replications > 1 and interval:
        freedom = replications - 1
        return (interval[1] - interval[0]) / 2 / student_t_quantile(0.975, freedom), freedom
    enqueued, waits, _ = run.measured_waits()
    span = run.measured_seconds / BATCHES
    batch = np.minimum(((enqueued - run.warmup) / span).astype(np.int64), BATCHES - 1)
    means = [float(waits[batch == index].mean()) for index in range(BATCHES) if np.any(batch == index)]
    if len(means) < 2:
        return None
    return float(np.std(means, ddof=1)) / math.sqrt(len(means)), len(means) - 1


def _mean_wait(run: RunOutput) -> float | None:
    value = run.summary["wait"].get("mean")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def wait_noise(a: RunOutput, b: RunOutput) -> WaitNoise | None:
    """How far apart the two runs' mean waits are, against their noise; ``None`` when a run has too few
    measured jobs to tell (fewer than two non-empty batches, or no mean wait)."""
    mean_a, mean_b = _mean_wait(a), _mean_wait(b)
    error_a, error_b = _batch_error(a), _batch_error(b)
    if mean_a is None or mean_b is None or error_a is None or error_b is None:
        return None
    (se_a, df_a), (se_b, df_b) = error_a, error_b
    difference = mean_b - mean_a
    spread = math.hypot(se_a, se_b)
    if spread == 0:
        return WaitNoise(difference, difference, difference)
    # Welch-Satterthwaite degrees of freedom for a difference of two means with unequal variances
    freedom = spread**4 / (se_a**4 / df_a + se_b**4 / df_b)
    half = student_t_quantile(0.975, freedom) * spread
    return WaitNoise(difference, difference - half, difference + half)
