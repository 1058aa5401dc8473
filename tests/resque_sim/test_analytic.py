"""Queueing formulas: textbook values, brute-force cross-checks, limits, and small simulations."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from resque_sim.analytic import (
    erlang_b,
    erlang_c,
    ggc_wait,
    little_l,
    little_w,
    md1_wait,
    mg1_wait,
    mg1_wait_cv,
    mm1_sojourn,
    mm1_sojourn_tail,
    mm1_wait,
    mm1_wait_tail,
    mmc_min_servers,
    mmc_sojourn,
    mmc_wait,
    mmc_wait_percentile,
    mmc_wait_tail,
    utilization,
)
from resque_sim.distributions import moments, random_stream, sample
from resque_sim.scenario import Distribution, ExponentialDist, LognormalDist, PoissonArrivals, load_scenario

# --- M/M/1 -------------------------------------------------------------------------------------------


def test_mm1_at_half_load_waits_half_a_second_for_half_second_jobs() -> None:
    # lambda = 1/s, E[S] = 0.5 s (mu = 2/s), rho = 0.5: Wq = rho / (mu - lambda), W = 1 / (mu - lambda)
    assert utilization(1.0, 0.5) == 0.5
    assert mm1_wait(1.0, 0.5) == pytest.approx(0.5)
    assert mm1_sojourn(1.0, 0.5) == pytest.approx(1.0)


def test_mm1_wait_tail_is_rho_times_an_exponential() -> None:
    assert mm1_wait_tail(1.0, 0.5, t=0.0) == pytest.approx(0.5)  # P(wait at all) = rho
    assert mm1_wait_tail(1.0, 0.5, t=2.0) == pytest.approx(0.5 * math.exp(-2.0))
    assert mm1_sojourn_tail(1.0, 0.5, t=2.0) == pytest.approx(math.exp(-2.0))


def test_mm1_queue_length_from_littles_law_is_the_textbook_rho_squared_over_one_minus_rho() -> None:
    rho = 0.8
    assert little_l(rho, mm1_wait(rho, 1.0)) == pytest.approx(rho**2 / (1 - rho))
    assert little_w(rho / (1 - rho), rho) == pytest.approx(mm1_sojourn(rho, 1.0))


# --- Erlang B and C -------------------------------------------------------------------------------


def erlang_b_by_factorials(servers: int, load: float) -> float:
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def erlang_c_by_factorials(servers: int, load: float) -> float:
    waiting = load**servers / math.factorial(servers) * servers / (servers - load)
    return waiting / (sum(load**k / math.factorial(k) for k in range(servers)) + waiting)


def test_erlang_b_table_value() -> None:
    # 5 trunks offered 3 Erlangs: 0.11005 in every Erlang B table
    assert erlang_b(5, 3.0) == pytest.approx(0.110054, abs=1e-6)


def test_erlang_c_for_two_servers_at_half_load_is_one_third() -> None:
    # M/M/2 with a = 1 (rho = 0.5): C = (a^2/2 * 2/(2-a)) / (1 + a + a^2/2 * 2/(2-a)) = 1/3
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert mmc_wait(1.0, 1.0, servers=2) == pytest.approx(1 / 3)  # C / (c mu - lambda) = (1/3) / 1


@pytest.mark.parametrize("servers", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("utilisation", [0.1, 0.5, 0.8, 0.95, 0.999])
def test_erlang_b_and_c_match_the_factorial_formulas(servers: int, utilisation: float) -> None:
    load = utilisation * servers

    assert erlang_b(servers, load) == pytest.approx(erlang_b_by_factorials(servers, load), rel=1e-12)
    assert erlang_c(servers, load) == pytest.approx(erlang_c_by_factorials(servers, load), rel=1e-12)


def test_erlang_c_stays_finite_for_thousands_of_servers() -> None:
    # a^c / c! overflows a float long before c = 5000; compare with the log-space sum
    servers, load = 5000, 4900.0
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(servers)]
    log_wait = servers * math.log(load) - math.lgamma(servers + 1) + math.log(servers / (servers - load))
    peak = max(*log_terms, log_wait)
    expected = math.exp(log_wait - peak) / (sum(math.exp(t - peak) for t in log_terms) + math.exp(log_wait - peak))

    assert erlang_c(servers, load) == pytest.approx(expected, rel=1e-9)


def test_erlang_c_is_one_when_the_servers_cannot_keep_up() -> None:
    assert erlang_c(4, 4.0) == 1.0
    assert erlang_c(4, 9.0) == 1.0


def test_mmc_with_one_server_is_mm1() -> None:
    assert mmc_wait(0.7, 1.0, servers=1) == pytest.approx(mm1_wait(0.7, 1.0))
    assert mmc_sojourn(0.7, 1.0, servers=1) == pytest.approx(mm1_sojourn(0.7, 1.0))
    assert mmc_wait_tail(0.7, 1.0, 1, t=3.0) == pytest.approx(mm1_wait_tail(0.7, 1.0, t=3.0))


@pytest.mark.parametrize("percentile", [50.0, 90.0, 99.0, 99.9])
def test_the_wait_percentile_inverts_the_wait_tail(percentile: float) -> None:
    wait = mmc_wait_percentile(9.0, 1.0, servers=10, percentile=percentile)

    assert wait > 0
    assert mmc_wait_tail(9.0, 1.0, 10, t=wait) == pytest.approx(1 - percentile / 100)


def test_the_wait_percentile_is_zero_when_that_many_jobs_never_wait() -> None:
    # C(10, 5) is about 3.6%, so over 96% of jobs start at once: the median wait is 0
    assert erlang_c(10, 5.0) < 0.5
    assert mmc_wait_percentile(5.0, 1.0, servers=10, percentile=50.0) == 0.0


@pytest.mark.parametrize(
    ("arrival_rate", "max_wait", "percentile"),
    [(10.0, 1.0, 99.0), (90.0, 0.1, 95.0), (1000.0, 0.05, 99.9), (0.5, 0.0, 50.0)],
)
def test_min_servers_is_the_first_count_meeting_the_wait_slo(
    arrival_rate: float, max_wait: float, percentile: float
) -> None:
    servers = mmc_min_servers(arrival_rate, 1.0, max_wait=max_wait, percentile=percentile)

    assert mmc_wait_percentile(arrival_rate, 1.0, servers, percentile) <= max_wait
    assert servers == 1 or mmc_wait_percentile(arrival_rate, 1.0, servers - 1, percentile) > max_wait


def test_the_shipped_steady_scenario_is_sized_by_erlang_c() -> None:
    steady = load_scenario(Path(__file__).resolve().parents[2] / "scenarios" / "steady.yaml")
    (stream,), (slo, _) = steady.arrivals, steady.slo
    assert isinstance(stream.process, PoissonArrivals)
    service = moments(steady.jobs["WebhookJob"].duration)
    assert service.cv == 1.0
    assert slo.percentile is not None

    fewest = mmc_min_servers(stream.process.rate, service.mean, max_wait=slo.max, percentile=slo.percentile)

    assert fewest == steady.workers[0].count == 11


# --- M/G/1 and M/D/1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.9])
def test_pollaczek_khinchine_with_cv_one_is_mm1(rho: float) -> None:
    assert mg1_wait_cv(rho / 2.0, 2.0, cv=1.0) == pytest.approx(mm1_wait(rho / 2.0, 2.0))


@pytest.mark.parametrize("rho", [0.2, 0.5, 0.9])
def test_pollaczek_khinchine_with_cv_zero_is_md1(rho: float) -> None:
    assert mg1_wait_cv(rho / 2.0, 2.0, cv=0.0) == pytest.approx(md1_wait(rho / 2.0, 2.0))


def test_md1_waits_half_as_long_as_mm1() -> None:
    # rho = 0.5, D = 1: Wq = rho D / (2 (1 - rho)) = 0.5
    assert md1_wait(0.5, 1.0) == pytest.approx(0.5)
    assert md1_wait(0.5, 1.0) == pytest.approx(mm1_wait(0.5, 1.0) / 2)


def test_pollaczek_khinchine_from_moments_matches_from_cv() -> None:
    # E[S] = 2, cv = 1.5: E[S^2] = 4 (1 + 2.25) = 13
    assert mg1_wait(0.3, 2.0, second_moment=13.0) == pytest.approx(mg1_wait_cv(0.3, 2.0, cv=1.5))


def test_allen_cunneen_is_exact_for_mmc_and_for_mg1() -> None:
    assert ggc_wait(3.0, 1.0, servers=4, service_cv=1.0) == pytest.approx(mmc_wait(3.0, 1.0, 4))
    assert ggc_wait(0.4, 2.0, servers=1, service_cv=0.7) == pytest.approx(mg1_wait_cv(0.4, 2.0, 0.7))


# --- instability and bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "formula",
    [
        lambda: mm1_wait(2.0, 0.5),
        lambda: mm1_sojourn(2.0, 0.5),
        lambda: mmc_wait(4.0, 1.0, 4),
        lambda: mmc_wait_percentile(5.0, 1.0, 4, 99.0),
        lambda: mg1_wait_cv(1.0, 1.0, 0.5),
        lambda: md1_wait(1.0, 1.0),
    ],
)
def test_an_overloaded_queue_waits_forever(formula: Callable[[], float]) -> None:
    assert formula() == math.inf


def test_an_overloaded_queue_always_has_a_tail() -> None:
    assert mm1_wait_tail(3.0, 0.5, t=100.0) == 1.0
    assert mmc_wait_tail(9.0, 1.0, 4, t=100.0) == 1.0


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (lambda: mm1_wait(-1.0, 1.0), "arrival_rate must be a non-negative"),
        (lambda: mm1_wait(1.0, 0.0), "mean_service must be a positive"),
        (lambda: erlang_c(0, 1.0), "servers must be a whole number >= 1"),
        (lambda: erlang_c(2.5, 1.0), "servers must be a whole number >= 1"),  # type: ignore[arg-type]
        (lambda: mmc_wait_percentile(1.0, 1.0, 2, 100.0), "percentile must be between 0 and 100"),
        (lambda: mm1_wait_tail(1.0, 0.5, t=-1.0), "t must be a non-negative"),
        (lambda: mg1_wait(1.0, 0.5, second_moment=0.1), "second_moment 0.1 is below mean_service"),
    ],
)
def test_invalid_inputs_are_rejected_with_the_argument_named(formula: Callable[[], float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        formula()


# --- against simulation --------------------------------------------------------------------------------


def fcfs_waits(arrival_rate: float, service: Distribution, servers: int, *, jobs: int, seed: int) -> np.ndarray:
    """Queue waits, in arrival order, of a FCFS queue with Poisson arrivals and ``servers`` servers."""
    arrivals = np.cumsum(random_stream(seed, "arrivals").exponential(1 / arrival_rate, jobs))
    services = sample(service, random_stream(seed, "service"), jobs)
    free_at = [0.0] * servers  # min-heap of the times each server next becomes free
    waits = np.empty(jobs)
    for index, (arrival, duration) in enumerate(zip(arrivals.tolist(), services.tolist(), strict=True)):
        start = max(arrival, heapq.heappop(free_at))
        waits[index] = start - arrival
        heapq.heappush(free_at, start + duration)
    return waits


def batch_means_interval(waits: np.ndarray, warmup: int, batches: int = 20) -> tuple[float, float]:
    """Mean and 4-standard-error half width by batch means, since successive waits are correlated."""
    means = np.array([batch.mean() for batch in np.array_split(waits[warmup:], batches)])
    return float(means.mean()), 4 * float(means.std(ddof=1)) / math.sqrt(batches)


def test_simulated_mmc_waits_match_erlang_c() -> None:
    waits = fcfs_waits(3.2, ExponentialDist(dist="exponential", mean=1.0), servers=4, jobs=200_000, seed=1)

    mean, half_width = batch_means_interval(waits, warmup=2000)
    assert abs(mean - mmc_wait(3.2, 1.0, 4)) <= half_width
    assert float(np.mean(waits > 0)) == pytest.approx(erlang_c(4, 3.2), abs=0.01)


def test_simulated_mg1_lognormal_waits_match_pollaczek_khinchine() -> None:
    service = LognormalDist(dist="lognormal", median=0.5, p99=3.0)
    exact = moments(service)
    arrival_rate = 0.6 / exact.mean

    waits = fcfs_waits(arrival_rate, service, servers=1, jobs=200_000, seed=2)

    mean, half_width = batch_means_interval(waits, warmup=2000)
    assert abs(mean - mg1_wait(arrival_rate, exact.mean, exact.second_moment)) <= half_width
