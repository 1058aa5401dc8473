"""Random streams, samplers and arrival generators.

Statistical checks allow 4 standard errors computed from the sample size (5 where many bins are checked
at once), so a correct implementation fails with probability below about 1e-4; every seed is fixed, so
the outcome is also deterministic.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from resque_sim.distributions import (
    Z_99,
    Arrival,
    JobSampler,
    arrival_times,
    arrivals,
    intensity,
    lognormal_parameters,
    moments,
    random_stream,
    sample,
)
from resque_sim.scenario import (
    ConstantDist,
    Distribution,
    DiurnalArrivals,
    EmpiricalDist,
    ExponentialDist,
    GammaDist,
    LognormalDist,
    RampArrivals,
    Scenario,
    SpikeArrivals,
    parse_scenario,
)

N = 200_000
REPO = Path(__file__).resolve().parents[2]


def scenario(**fields: Any) -> Scenario:
    """A small valid scenario; ``fields`` replace the defaults (whose one stream mixes all jobs)."""
    lognormal = {"dist": "lognormal", "median": "0.5s", "p99": "6s"}
    jobs = fields.get("jobs", {"EmailJob": {"queue": "email", "duration": lognormal}})
    stream = {"name": "web", "process": {"type": "poisson", "rate": "20/s"}, "mix": dict.fromkeys(jobs, 1)}
    return parse_scenario({"name": "test", "duration": "10m", "arrivals": [stream], "jobs": jobs, **fields})


def within_standard_errors(observed: float, expected: float, standard_error: float, errors: float = 4.0) -> bool:
    return abs(observed - expected) <= errors * standard_error


# --- named streams -----------------------------------------------------------------------------------


def test_a_stream_is_fixed_by_its_seed_and_name() -> None:
    assert random_stream(7, "arrivals/web").random(5).tolist() == random_stream(7, "arrivals/web").random(5).tolist()


@pytest.mark.parametrize(("seed", "name"), [(8, "arrivals/web"), (7, "arrivals/api"), (7, "mix/web")])
def test_another_seed_or_name_gives_other_numbers(seed: int, name: str) -> None:
    assert random_stream(seed, name).random(5).tolist() != random_stream(7, "arrivals/web").random(5).tolist()


def test_stream_derivation_is_pinned() -> None:
    # SeedSequence and PCG64 output are stable across numpy versions; a change here changes every
    # published run, so it must be deliberate
    assert random_stream(42, "arrivals/web").random() == 0.7732047516246261


HASH_SCRIPT = """
import hashlib
from resque_sim.distributions import JobSampler, arrivals
from resque_sim.scenario import parse_scenario
scenario = parse_scenario({
    "name": "h", "duration": "10m",
    "arrivals": [{"name": "web", "process": {"type": "spike", "base": "5/s", "peak": "20/s", "start": "2m",
                  "duration": "1m"}, "mix": {"A": 2, "B": 1}},
                 {"name": "cron", "process": {"type": "burst", "at": "1m", "every": "3m", "size": 50},
                  "mix": {"B": 1}}],
    "jobs": {"A": {"queue": "a", "duration": {"dist": "gamma", "mean": 1, "cv": 2},
                   "failure": {"probability": 0.3, "exceptions": {"X": 1, "Y": 1}, "retry": {"max": 2}}},
             "B": {"queue": "b", "duration": {"dist": "exponential", "mean": 1}}},
})
digest = hashlib.sha256()
sampler = JobSampler(scenario, 3)
for arrival in arrivals(scenario, 3):
    draws = sampler.draw(arrival.job_class)
    digest.update(repr((arrival, [draws.attempt(n) for n in range(1, draws.max_attempts + 1)])).encode())
print(digest.hexdigest())
"""


def test_runs_repeat_exactly_whatever_the_pythonhashseed() -> None:
    def digest(hash_seed: str) -> str:
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-c", HASH_SCRIPT], env=env, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    digests = {digest(hash_seed) for hash_seed in ("0", "1", "4242")}

    assert len(digests) == 1


# --- samplers ----------------------------------------------------------------------------------------


DISTRIBUTIONS: list[Distribution] = [
    ExponentialDist(dist="exponential", mean=2.0),
    ConstantDist(dist="constant", value=3.0),
    LognormalDist(dist="lognormal", median=0.5, p99=6.0),
    GammaDist(dist="gamma", mean=2.0, cv=0.5),
    GammaDist(dist="gamma", mean=1.0, cv=2.0),
]


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda dist: dist.dist)
def test_sample_mean_matches_the_distribution_mean(dist: Distribution) -> None:
    values = sample(dist, random_stream(1, "test"), N)
    expected = moments(dist)

    assert within_standard_errors(values.mean(), expected.mean, math.sqrt(expected.variance / N))


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=lambda dist: dist.dist)
def test_sample_variance_matches_the_distribution_variance(dist: Distribution) -> None:
    values = sample(dist, random_stream(2, "test"), N)
    centred = values - values.mean()
    # the sample variance's standard error is sqrt((m4 - s^4) / n), with m4 the fourth central moment
    standard_error = math.sqrt(max((np.mean(centred**4) - np.var(values) ** 2) / N, 0.0))

    assert within_standard_errors(float(np.var(values)), moments(dist).variance, standard_error)


def test_lognormal_recovers_its_median_and_p99() -> None:
    values = sample(LognormalDist(dist="lognormal", median=0.5, p99=6.0), random_stream(3, "test"), N)

    for quantile, value in ((0.5, 0.5), (0.99, 6.0)):
        below = float(np.mean(values < value))
        assert within_standard_errors(below, quantile, math.sqrt(quantile * (1 - quantile) / N))


def test_lognormal_parameters_follow_from_median_and_p99() -> None:
    mu, sigma = lognormal_parameters(median=2.0, p99=2.0 * math.exp(Z_99 * 0.8))

    assert (mu, sigma) == pytest.approx((math.log(2.0), 0.8))


def test_lognormal_moments_are_the_closed_forms() -> None:
    # median 1 and p99 exp(Z_99) give the standard lognormal: mu = 0, sigma = 1
    standard = moments(LognormalDist(dist="lognormal", median=1.0, p99=math.exp(Z_99)))

    assert standard.mean == pytest.approx(math.exp(0.5))
    assert standard.variance == pytest.approx((math.e - 1) * math.e)


def test_gamma_has_the_requested_cv() -> None:
    assert moments(GammaDist(dist="gamma", mean=3.0, cv=0.5)).cv == pytest.approx(0.5)


def test_empirical_resamples_the_csv_values_uniformly(tmp_path: Path) -> None:
    (tmp_path / "runs.csv").write_text("run\n1\n2\n2\n7\n", encoding="utf-8")
    dist = EmpiricalDist(dist="empirical", csv=tmp_path / "runs.csv", column="run")

    values = sample(dist, random_stream(4, "test"), N)

    assert set(values.tolist()) == {1.0, 2.0, 7.0}
    assert within_standard_errors(float(np.mean(values == 2.0)), 0.5, math.sqrt(0.25 / N))
    assert tuple(moments(dist)) == pytest.approx((3.0, np.var([1, 2, 2, 7])))


# --- arrival processes -------------------------------------------------------------------------------


def all_times(process: Any, duration: float, seed: int = 0) -> npt.NDArray[np.float64]:
    chunks = list(arrival_times(process, duration, random_stream(seed, "test")))
    return np.concatenate(chunks) if chunks else np.empty(0)


def test_poisson_arrivals_have_exponential_gaps() -> None:
    times = all_times(parse_scenario_process({"type": "poisson", "rate": "50/s"}), 4000.0)
    gaps = np.diff(times)

    assert within_standard_errors(len(times), 50 * 4000, math.sqrt(50 * 4000))
    assert within_standard_errors(float(gaps.mean()), 1 / 50, (1 / 50) / math.sqrt(len(gaps)))
    # an exponential's standard deviation equals its mean
    assert gaps.std() == pytest.approx(gaps.mean(), rel=0.01)


def test_constant_arrivals_are_evenly_spaced_from_zero() -> None:
    times = all_times(parse_scenario_process({"type": "constant", "rate": "4/s"}), 2.0)

    assert times.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def test_a_burst_repeats_its_size_every_period_until_the_end() -> None:
    times = all_times(parse_scenario_process({"type": "burst", "at": "10s", "every": "1m", "size": 3}), 150.0)

    assert times.tolist() == [10.0] * 3 + [70.0] * 3 + [130.0] * 3


def test_a_single_burst_happens_once() -> None:
    times = all_times(parse_scenario_process({"type": "burst", "at": "10s", "size": 2}), 150.0)

    assert times.tolist() == [10.0, 10.0]


def test_a_trace_is_replayed_in_time_order_up_to_the_duration(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("time\n5\n1.5\n99\n3\n", encoding="utf-8")
    process = parse_scenario_process({"type": "trace", "csv": str(tmp_path / "trace.csv")})

    assert all_times(process, 10.0).tolist() == [1.5, 3.0, 5.0]


def parse_scenario_process(process: dict[str, Any]) -> Any:
    return scenario(arrivals=[{"name": "s", "process": process}]).arrivals[0].process


def counts_match_intensity(
    process: Any, duration: float, bin_width: float, replications: int, period: float | None = None
) -> None:
    """Pooled over replications, each bin's count is within 5 standard errors of the integrated rate."""
    edges = np.arange(0.0, (period or duration) + bin_width / 2, bin_width)
    counts = np.zeros(len(edges) - 1)
    for seed in range(replications):
        times = all_times(process, duration, seed)
        counts += np.histogram(times % period if period else times, edges)[0]
    grid = np.linspace(0.0, duration, int(duration * 20) + 1)
    rate = intensity(process, grid)
    cumulative = np.concatenate([[0.0], np.cumsum((rate[1:] + rate[:-1]) / 2 * np.diff(grid))])
    expected_per_run = np.diff(np.interp(edges, grid, cumulative))
    if period:
        expected_per_run *= duration / period
    expected = expected_per_run * replications

    assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected)), (counts, expected)


def test_spike_arrivals_follow_base_and_peak_rates() -> None:
    process = SpikeArrivals(type="spike", base=5.0, peak=20.0, start=600.0, duration=60.0)

    counts_match_intensity(process, 1800.0, bin_width=60.0, replications=20)


def test_ramp_arrivals_follow_the_ramp() -> None:
    process = RampArrivals.model_validate({"type": "ramp", "from": 2.0, "to": 20.0, "start": 300.0, "duration": 600.0})

    counts_match_intensity(process, 1200.0, bin_width=60.0, replications=20)


def test_diurnal_arrivals_follow_the_cycle() -> None:
    process = DiurnalArrivals(type="diurnal", mean=10.0, amplitude=0.8, period=600.0, peak_at=150.0)

    counts_match_intensity(process, 12_000.0, bin_width=30.0, replications=2, period=600.0)


@pytest.mark.parametrize(
    ("process", "times", "rates"),
    [
        (
            SpikeArrivals(type="spike", base=5.0, peak=20.0, start=10.0, duration=5.0),
            [0.0, 10.0, 14.9, 15.0],
            [5.0, 20.0, 20.0, 5.0],
        ),
        (
            RampArrivals.model_validate({"type": "ramp", "from": 2, "to": 4, "start": 10, "duration": 5}),
            [0.0, 10.0, 14.0, 30.0],
            [2.0, 2.0, 3.6, 4.0],
        ),
        (
            DiurnalArrivals(type="diurnal", mean=10.0, amplitude=0.5, period=20.0, peak_at=5.0),
            [5.0, 10.0, 15.0, 25.0],
            [15.0, 10.0, 5.0, 15.0],
        ),
    ],
    ids=["spike", "ramp", "diurnal"],
)
def test_intensity_is_the_documented_rate_curve(process: Any, times: list[float], rates: list[float]) -> None:
    assert intensity(process, times).tolist() == pytest.approx(rates)


def test_generated_times_are_sorted_and_inside_the_run() -> None:
    process = SpikeArrivals(type="spike", base=50.0, peak=500.0, start=100.0, duration=100.0)

    times = all_times(process, 300.0)

    assert np.all(np.diff(times) >= 0)
    assert times[0] >= 0
    assert times[-1] < 300.0


def test_a_million_arrivals_take_well_under_two_seconds() -> None:
    process = parse_scenario_process({"type": "poisson", "rate": "1000/s"})

    started = time.perf_counter()
    count = sum(len(chunk) for chunk in arrival_times(process, 1000.0, random_stream(0, "test")))
    elapsed = time.perf_counter() - started

    assert count == pytest.approx(1_000_000, rel=0.01)
    assert elapsed < 2.0


# --- merged arrivals of jobs ------------------------------------------------------------------------------


def test_arrivals_of_all_streams_are_merged_in_time_order() -> None:
    two_streams = scenario(
        arrivals=[
            {"name": "web", "process": {"type": "poisson", "rate": "20/s"}},
            {"name": "cron", "process": {"type": "burst", "at": "30s", "every": "1m", "size": 100}},
        ]
    )

    merged = list(arrivals(two_streams, seed=1))

    assert [a.time for a in merged] == sorted(a.time for a in merged)
    assert {a.stream for a in merged} == {"web", "cron"}
    assert sum(a.stream == "cron" for a in merged) == 1000
    assert all(a.time < 600.0 for a in merged)


def test_job_classes_follow_the_mix() -> None:
    mixed = scenario(
        arrivals=[{"name": "web", "process": {"type": "poisson", "rate": "200/s"}, "mix": {"A": 0.7, "B": 0.3}}],
        jobs={name: {"queue": "q", "duration": {"dist": "constant", "value": 1}} for name in ("A", "B")},
    )

    classes = [arrival.job_class for arrival in arrivals(mixed, seed=2)]

    share = classes.count("A") / len(classes)
    assert within_standard_errors(share, 0.7, math.sqrt(0.7 * 0.3 / len(classes)))


def test_trace_classes_come_from_the_file(tmp_path: Path) -> None:
    (tmp_path / "trace.csv").write_text("time,class\n2,A\n1,B\n", encoding="utf-8")
    replay = scenario(
        arrivals=[
            {
                "name": "replay",
                "process": {"type": "trace", "csv": str(tmp_path / "trace.csv"), "class_column": "class"},
            }
        ],
        jobs={name: {"queue": "q", "duration": {"dist": "constant", "value": 1}} for name in ("A", "B")},
    )

    assert list(arrivals(replay, seed=0)) == [Arrival(1.0, "replay", "B"), Arrival(2.0, "replay", "A")]


def test_the_same_seed_gives_the_same_arrivals_and_another_seed_does_not() -> None:
    base = scenario()

    assert list(arrivals(base, 5)) == list(arrivals(base, 5))
    assert list(arrivals(base, 5)) != list(arrivals(base, 6))


def test_arrivals_do_not_depend_on_the_workers() -> None:
    base = scenario()

    assert list(arrivals(base, 5)) == list(arrivals(base.with_value("workers.default.count", 9), 5))


# --- per-job draws (common random numbers) ----------------------------------------------------------------


FAILING = {
    "A": {
        "queue": "q",
        "duration": {"dist": "gamma", "mean": 1, "cv": 1.5},
        "failure": {
            "probability": 0.2,
            "exceptions": {"TimeoutError": 3, "DirtyExit": 1},
            "retry": {"max": 2},
        },
        "memory": {"working_set_mb": {"dist": "exponential", "mean": 30}},
    },
    "B": {"queue": "q", "duration": {"dist": "exponential", "mean": 2}},
}


def first_attempts(sampler: JobSampler, job_class: str, count: int) -> list[Any]:
    return [sampler.draw(job_class).attempt(1) for _ in range(count)]


def test_each_job_has_draws_for_every_allowed_attempt() -> None:
    draws = JobSampler(scenario(jobs=FAILING), seed=0).draw("A")

    assert draws.max_attempts == 3
    assert draws.attempt(1) != draws.attempt(2)
    with pytest.raises(IndexError):
        draws.attempt(4)


def test_failures_and_exceptions_follow_their_probabilities() -> None:
    attempts = first_attempts(JobSampler(scenario(jobs=FAILING), seed=0), "A", N)

    failures = [attempt for attempt in attempts if attempt.fails]
    assert within_standard_errors(len(failures) / N, 0.2, math.sqrt(0.2 * 0.8 / N))
    timeouts = sum(attempt.exception == "TimeoutError" for attempt in failures) / len(failures)
    assert within_standard_errors(timeouts, 0.75, math.sqrt(0.75 * 0.25 / len(failures)))


def test_draws_are_sampled_from_the_job_distributions() -> None:
    attempts = first_attempts(JobSampler(scenario(jobs=FAILING), seed=0), "A", N)

    durations = np.array([attempt.duration for attempt in attempts])
    working_sets = np.array([attempt.working_set_mb for attempt in attempts])
    jitters = np.array([attempt.retry_jitter for attempt in attempts])
    assert within_standard_errors(durations.mean(), 1.0, 1.5 / math.sqrt(N))
    assert within_standard_errors(working_sets.mean(), 30.0, 30.0 / math.sqrt(N))
    assert within_standard_errors(jitters.mean(), 0.5, math.sqrt(1 / 12 / N))


def test_the_kth_job_of_a_class_gets_the_same_draws_whatever_the_workers() -> None:
    base = scenario(jobs=FAILING)
    swept = base.with_value("workers.default.count", 32)

    assert first_attempts(JobSampler(base, 3), "A", 5000) == first_attempts(JobSampler(swept, 3), "A", 5000)


def test_other_classes_do_not_shift_a_class_draws() -> None:
    interleaved = JobSampler(scenario(jobs=FAILING), 3)
    for _ in range(100):
        interleaved.draw("B")

    assert first_attempts(interleaved, "A", 100) == first_attempts(JobSampler(scenario(jobs=FAILING), 3), "A", 100)


def test_a_higher_failure_probability_fails_a_superset_with_the_same_durations() -> None:
    low = scenario(jobs=FAILING)
    high = low.with_value("jobs.A.failure.probability", 0.5)

    low_attempts = first_attempts(JobSampler(low, 3), "A", 5000)
    high_attempts = first_attempts(JobSampler(high, 3), "A", 5000)

    assert [a.duration for a in low_attempts] == [a.duration for a in high_attempts]
    assert all(high.fails for low, high in zip(low_attempts, high_attempts, strict=True) if low.fails)


def test_different_seeds_give_different_draws() -> None:
    jobs = scenario(jobs=FAILING)

    assert first_attempts(JobSampler(jobs, 1), "A", 10) != first_attempts(JobSampler(jobs, 2), "A", 10)
