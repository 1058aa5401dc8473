"""Run-time fits from the recorded histogram: the family that produced the run times is found, a
shape no family has falls back to the empirical distribution, and the mean is always the recorded one."""

from __future__ import annotations

from bisect import bisect_left

import numpy as np
import pytest

from resque_impl.job_metrics import BUCKETS
from resque_sim.plan.fit import MIN_SAMPLES, empirical_samples, fit_run_times, gamma_cdf


def _histogram(values: np.ndarray) -> tuple[int, ...]:
    buckets = [0] * (len(BUCKETS) + 1)
    for value in values:
        buckets[bisect_left(BUCKETS, value)] += 1
    return tuple(buckets)


rng = np.random.default_rng(7)
CASES = {
    "exponential": rng.exponential(0.04, 5000),
    "lognormal": rng.lognormal(np.log(0.2), 0.9, 5000),
    "gamma": rng.gamma(4.0, 0.05, 5000),
}


@pytest.mark.parametrize("family", sorted(CASES))
def test_the_generating_family_is_found(family: str) -> None:
    values = CASES[family]
    fit = fit_run_times(_histogram(values), float(values.mean()))
    assert fit.family == family
    assert fit.d is not None
    assert fit.d <= fit.d_critical
    assert fit.mean == pytest.approx(values.mean())


def test_runs_all_in_one_bucket_are_a_constant() -> None:
    fit = fit_run_times(_histogram(np.full(100, 0.041)), 0.041)
    assert fit.spec == {"dist": "constant", "value": 0.041}


def test_a_two_humped_distribution_is_empirical_with_the_recorded_mean() -> None:
    values = np.concatenate([rng.exponential(0.01, 3000), rng.normal(5.0, 0.2, 2000)])
    buckets = _histogram(values)
    fit = fit_run_times(buckets, float(values.mean()))
    assert fit.family == "empirical"
    assert fit.d is not None
    assert fit.d > fit.d_critical
    samples = empirical_samples(buckets, float(values.mean()))
    assert samples.mean() == pytest.approx(values.mean())
    assert np.quantile(samples, 0.3) < 0.1  # the short hump
    assert np.quantile(samples, 0.7) > 2.5  # the long one, to the resolution of its buckets


def test_few_samples_are_flagged_uncertain() -> None:
    values = rng.exponential(0.1, MIN_SAMPLES - 1)
    assert fit_run_times(_histogram(values), float(values.mean())).uncertain


def test_the_gamma_distribution_function_matches_its_closed_forms() -> None:
    x = np.array([0.1, 1.0, 3.0, 10.0])
    assert gamma_cdf(x, 1.0, 2.0) == pytest.approx(1 - np.exp(-x / 2))  # shape 1: exponential
    assert gamma_cdf(x, 2.0, 1.0) == pytest.approx(1 - np.exp(-x) * (1 + x))  # shape 2: Erlang-2
