"""Queueing-theory results, used as test oracles and printed beside simulated results.

Queue functions take the arrival rate ``arrival_rate`` (lambda, jobs per second) and the mean service time
``mean_service`` (E[S], seconds; the service rate is mu = 1 / E[S]), matching the simulator's units;
Erlang's formulas take the number of servers c and the offered load a = lambda E[S] in Erlangs.
Waits are *queue* waits (enqueue to start of ``perform``, the simulator's ``wait``); sojourns add the
service time (the simulator's ``latency``).  Percentiles are in (0, 100) like the scenario's SLOs.

An unstable queue (utilisation >= 1) has no steady state; its mean waits and percentiles are returned as
``math.inf`` and its tail probabilities as 1, which is what a long simulation tends to.  Invalid inputs
(negative rates, zero servers, ...) raise ``ValueError``.

Sources (each formula is also checked by tests, against brute-force sums and small simulations):
L. Kleinrock, *Queueing Systems, Vol. 1: Theory* (1975), ch. 3 (M/M/1, M/M/m) and ch. 5 (M/G/1, the
Pollaczek-Khinchine mean value formula); D. Gross, J. Shortle, J. Thompson, C. Harris, *Fundamentals of
Queueing Theory*, 4th ed. (2008), ch. 1 (Little's law) and ch. 2 (M/M/1 and M/M/c waiting-time
distributions, Erlang's B and C formulas); A. O. Allen, *Probability, Statistics, and Queueing Theory*,
2nd ed. (1990), ch. 6 (the Allen-Cunneen G/G/c approximation).  Erlang B is evaluated by its standard
recursion, which never forms a^c or c!, so it is exact and stable for thousands of servers.
"""

from __future__ import annotations

import math

__all__ = [
    "erlang_b",
    "erlang_c",
    "ggc_wait",
    "little_l",
    "little_w",
    "md1_wait",
    "mg1_wait",
    "mg1_wait_cv",
    "mm1_sojourn",
    "mm1_sojourn_tail",
    "mm1_wait",
    "mm1_wait_tail",
    "mmc_min_servers",
    "mmc_sojourn",
    "mmc_wait",
    "mmc_wait_percentile",
    "mmc_wait_tail",
    "utilization",
]


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------


def _positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _non_negative(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative finite number, got {value!r}")


def _servers(servers: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int) or servers < 1:
        raise ValueError(f"servers must be a whole number >= 1, got {servers!r}")


def _tail_fraction(percentile: float) -> float:
    """1 - percentile/100: the probability a percentile leaves above it."""
    if not 0 < percentile < 100:
        raise ValueError(f"percentile must be between 0 and 100 (exclusive), got {percentile!r}")
    return 1.0 - percentile / 100.0


# --------------------------------------------------------------------------------------------------
# Utilisation and Little's law
# --------------------------------------------------------------------------------------------------


def utilization(arrival_rate: float, mean_service: float, servers: int = 1) -> float:
    """rho = lambda E[S] / c: the long-run fraction of time each of ``servers`` is busy (if < 1)."""
    _non_negative(arrival_rate=arrival_rate)
    _positive(mean_service=mean_service)
    _servers(servers)
    return arrival_rate * mean_service / servers


def little_l(arrival_rate: float, mean_time: float) -> float:
    """Little's law L = lambda W: the mean number present, from the mean time each spends."""
    _non_negative(arrival_rate=arrival_rate, mean_time=mean_time)
    return arrival_rate * mean_time


def little_w(mean_number: float, arrival_rate: float) -> float:
    """Little's law W = L / lambda: the mean time spent, from the mean number present."""
    _non_negative(mean_number=mean_number)
    _positive(arrival_rate=arrival_rate)
    return mean_number / arrival_rate


# --------------------------------------------------------------------------------------------------
# M/M/1
# --------------------------------------------------------------------------------------------------


def _mm1_decay(arrival_rate: float, mean_service: float) -> float:
    """mu - lambda, the rate at which the M/M/1 wait tail decays (<= 0 when unstable)."""
    _non_negative(arrival_rate=arrival_rate)
    _positive(mean_service=mean_service)
    return 1.0 / mean_service - arrival_rate


def mm1_wait(arrival_rate: float, mean_service: float) -> float:
    """M/M/1 mean queue wait Wq = rho / (mu - lambda)."""
    decay = _mm1_decay(arrival_rate, mean_service)
    return arrival_rate * mean_service / decay if decay > 0 else math.inf


def mm1_sojourn(arrival_rate: float, mean_service: float) -> float:
    """M/M/1 mean time in system W = 1 / (mu - lambda)."""
    decay = _mm1_decay(arrival_rate, mean_service)
    return 1.0 / decay if decay > 0 else math.inf


def mm1_wait_tail(arrival_rate: float, mean_service: float, t: float) -> float:
    """M/M/1 P(Wq > t) = rho exp(-(mu - lambda) t), for t >= 0."""
    _non_negative(t=t)
    decay = _mm1_decay(arrival_rate, mean_service)
    return arrival_rate * mean_service * math.exp(-decay * t) if decay > 0 else 1.0


def mm1_sojourn_tail(arrival_rate: float, mean_service: float, t: float) -> float:
    """M/M/1 P(W > t) = exp(-(mu - lambda) t): the sojourn time is exponential with rate mu - lambda."""
    _non_negative(t=t)
    decay = _mm1_decay(arrival_rate, mean_service)
    return math.exp(-decay * t) if decay > 0 else 1.0


# --------------------------------------------------------------------------------------------------
# Erlang B and C, M/M/c
# --------------------------------------------------------------------------------------------------


def erlang_b(servers: int, offered_load: float) -> float:
    """Erlang B blocking probability B(c, a), a = lambda E[S] in Erlangs.

    Recursion B(0, a) = 1, B(k, a) = a B(k-1, a) / (k + a B(k-1, a)), equal to
    (a^c / c!) / sum_{k=0..c} a^k / k! without its overflow.
    """
    _servers(servers)
    _non_negative(offered_load=offered_load)
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = _next_erlang_b(blocking, k, offered_load)
    return blocking


def _next_erlang_b(previous: float, servers: int, offered_load: float) -> float:
    return offered_load * previous / (servers + offered_load * previous)


def _erlang_c_from_b(blocking: float, servers: int, offered_load: float) -> float:
    """C(c, a) = B / (1 - rho (1 - B)) with rho = a / c; every arrival waits (1) when rho >= 1."""
    rho = offered_load / servers
    return blocking / (1.0 - rho * (1.0 - blocking)) if rho < 1 else 1.0


def erlang_c(servers: int, offered_load: float) -> float:
    """Erlang C: the probability an arrival waits in M/M/c, C(c, a) = B(c, a) / (1 - rho (1 - B(c, a)))."""
    return _erlang_c_from_b(erlang_b(servers, offered_load), servers, offered_load)


def _mmc(arrival_rate: float, mean_service: float, servers: int) -> tuple[float, float]:
    """(C, c mu - lambda): the probability of waiting and the decay rate of the M/M/c wait tail."""
    _non_negative(arrival_rate=arrival_rate)
    _positive(mean_service=mean_service)
    offered_load = arrival_rate * mean_service
    return erlang_c(servers, offered_load), servers / mean_service - arrival_rate


def mmc_wait(arrival_rate: float, mean_service: float, servers: int) -> float:
    """M/M/c mean queue wait Wq = C(c, a) / (c mu - lambda)."""
    waits, decay = _mmc(arrival_rate, mean_service, servers)
    return waits / decay if decay > 0 else math.inf


def mmc_sojourn(arrival_rate: float, mean_service: float, servers: int) -> float:
    """M/M/c mean time in system W = Wq + 1 / mu."""
    return mmc_wait(arrival_rate, mean_service, servers) + mean_service


def mmc_wait_tail(arrival_rate: float, mean_service: float, servers: int, t: float) -> float:
    """M/M/c P(Wq > t) = C(c, a) exp(-(c mu - lambda) t), for t >= 0 (FCFS)."""
    _non_negative(t=t)
    waits, decay = _mmc(arrival_rate, mean_service, servers)
    return waits * math.exp(-decay * t) if decay > 0 else 1.0


def mmc_wait_percentile(arrival_rate: float, mean_service: float, servers: int, percentile: float) -> float:
    """The M/M/c queue-wait percentile: the smallest t with P(Wq > t) <= 1 - p/100.

    Inverting the tail: t = ln(C / (1 - p/100)) / (c mu - lambda) when C > 1 - p/100, else 0 (at least
    that share of arrivals start at once).
    """
    tail = _tail_fraction(percentile)
    waits, decay = _mmc(arrival_rate, mean_service, servers)
    return _percentile_from_tail(waits, decay, tail)


def _percentile_from_tail(waits: float, decay: float, tail: float) -> float:
    if decay <= 0:
        return math.inf
    return math.log(waits / tail) / decay if waits > tail else 0.0


def mmc_min_servers(arrival_rate: float, mean_service: float, max_wait: float, percentile: float) -> int:
    """The fewest M/M/c servers whose ``percentile`` queue wait is at most ``max_wait`` seconds.

    Walks c upward from 1 with the Erlang B recursion, so each step is O(1); the wait percentile falls
    with every added server, so the first c that meets the target is the answer.
    """
    tail = _tail_fraction(percentile)
    _non_negative(arrival_rate=arrival_rate, max_wait=max_wait)
    _positive(mean_service=mean_service)
    offered_load = arrival_rate * mean_service
    blocking, servers = 1.0, 0
    while True:
        servers += 1
        blocking = _next_erlang_b(blocking, servers, offered_load)
        if servers <= offered_load:
            continue  # unstable: the queue grows without bound
        waits = _erlang_c_from_b(blocking, servers, offered_load)
        if _percentile_from_tail(waits, servers / mean_service - arrival_rate, tail) <= max_wait:
            return servers


# --------------------------------------------------------------------------------------------------
# M/G/1 (Pollaczek-Khinchine), M/D/1, G/G/c approximation
# --------------------------------------------------------------------------------------------------


def mg1_wait(arrival_rate: float, mean_service: float, second_moment: float) -> float:
    """M/G/1 mean queue wait (Pollaczek-Khinchine): Wq = lambda E[S^2] / (2 (1 - rho)), rho = lambda E[S]."""
    _non_negative(arrival_rate=arrival_rate)
    _positive(mean_service=mean_service, second_moment=second_moment)
    if second_moment < mean_service**2:
        raise ValueError(f"second_moment {second_moment!r} is below mean_service^2; E[S^2] >= E[S]^2 always")
    rho = arrival_rate * mean_service
    return arrival_rate * second_moment / (2.0 * (1.0 - rho)) if rho < 1 else math.inf


def mg1_wait_cv(arrival_rate: float, mean_service: float, cv: float) -> float:
    """Pollaczek-Khinchine from the service time's coefficient of variation: E[S^2] = E[S]^2 (1 + cv^2).

    cv = 1 gives M/M/1, cv = 0 gives M/D/1: Wq = rho E[S] (1 + cv^2) / (2 (1 - rho)).
    """
    _non_negative(cv=cv)
    return mg1_wait(arrival_rate, mean_service, mean_service**2 * (1.0 + cv**2))


def md1_wait(arrival_rate: float, service_time: float) -> float:
    """M/D/1 mean queue wait Wq = rho D / (2 (1 - rho)): half the M/M/1 wait at the same load."""
    _non_negative(arrival_rate=arrival_rate)
    _positive(service_time=service_time)
    rho = arrival_rate * service_time
    return rho * service_time / (2.0 * (1.0 - rho)) if rho < 1 else math.inf


def ggc_wait(
    arrival_rate: float, mean_service: float, servers: int, service_cv: float, arrival_cv: float = 1.0
) -> float:
    """Allen-Cunneen approximation of the G/G/c mean queue wait: the M/M/c wait times (ca^2 + cs^2) / 2.

    Exact for M/M/c (both cvs 1) and for M/G/1 (c = 1, arrival cv 1, where it is Pollaczek-Khinchine);
    an approximation otherwise, e.g. for lognormal jobs on several workers.
    """
    _non_negative(service_cv=service_cv, arrival_cv=arrival_cv)
    return mmc_wait(arrival_rate, mean_service, servers) * (arrival_cv**2 + service_cv**2) / 2.0
