"""The mean wait's difference between two runs, with a confidence interval from their noise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from resque_sim.compare_noise import BATCHES, wait_noise
from resque_sim.estimates import student_t_quantile
from resque_sim.run_output import RunOutput


def run(waits: list[float], *, seconds: float = 100.0, **summary: Any) -> RunOutput:
    """A run whose jobs arrive evenly over ``seconds`` with these waits (all started)."""
    enqueued = np.linspace(0, seconds, len(waits), endpoint=False)
    jobs = pd.DataFrame(
        {"queue": "q", "enqueued_at": enqueued, "started_at": enqueued + waits, "wait": np.asarray(waits)}
    )
    document = {"simulated_seconds": seconds, "wait": {"mean": float(np.mean(waits))}, "queues": {"q": {}}, **summary}
    return RunOutput(Path("run"), document, jobs, pd.DataFrame({"time": [0.0]}))


def test_runs_of_constant_waits_differ_exactly_by_their_difference() -> None:
    noise = wait_noise(run([0.1] * 200), run([0.25] * 200))
    assert noise is not None
    assert (noise.difference, noise.low, noise.high) == pytest.approx((0.15, 0.15, 0.15))
    assert noise.beyond_noise


def test_batch_means_give_welchs_interval() -> None:
    # batch i of A waits i ms and of B 2i ms: the batch means' spread is the whole noise
    a = run([float(i) / 1000 for i in range(BATCHES) for _ in range(10)])
    b = run([2 * float(i) / 1000 for i in range(BATCHES) for _ in range(10)])
    noise = wait_noise(a, b)
    assert noise is not None
    means = np.arange(BATCHES) / 1000
    se_a, se_b = means.std(ddof=1) / np.sqrt(BATCHES), 2 * means.std(ddof=1) / np.sqrt(BATCHES)
    freedom = (se_a**2 + se_b**2) ** 2 / (se_a**4 / (BATCHES - 1) + se_b**4 / (BATCHES - 1))
    half = student_t_quantile(0.975, freedom) * np.hypot(se_a, se_b)
    assert noise.difference == pytest.approx(means.mean())
    assert (noise.low, noise.high) == pytest.approx((means.mean() - half, means.mean() + half))
    assert noise.beyond_noise
    assert "beyond the runs' noise" in noise.describe()


def test_replications_give_the_standard_error_through_their_confidence_interval() -> None:
    t4 = student_t_quantile(0.975, 4)
    a = run([1.0] * 50, replications=5, confidence={"wait.mean": [1.0 - 0.1 * t4, 1.0 + 0.1 * t4]})
    b = run([1.05] * 50, replications=5, confidence={"wait.mean": [1.05 - 0.1 * t4, 1.05 + 0.1 * t4]})
    noise = wait_noise(a, b)
    assert noise is not None
    half = student_t_quantile(0.975, 8) * np.hypot(0.1, 0.1)  # equal errors: Welch gives 4 + 4 freedoms
    assert (noise.low, noise.high) == pytest.approx((0.05 - half, 0.05 + half))
    assert not noise.beyond_noise
    assert "within the runs' noise" in noise.describe()


def test_a_run_with_a_single_measured_job_cannot_tell() -> None:
    assert wait_noise(run([0.1]), run([0.1] * 100)) is None
