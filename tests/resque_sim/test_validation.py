"""The simulator against queueing theory (resque_sim.analytic) and against its own sample path.

Every comparison uses a confidence interval, not a guessed tolerance: one long run per parameter set on
the in-memory backend, its waits split into 20 consecutive batches (batch means: each batch holds
thousands of jobs, far longer than the waits' correlation), and the theoretical value must fall inside
the 99.9% Student-t interval of the batch means.  A correct simulator fails such a check one time in a
thousand; the seeds are fixed, so the outcome is deterministic.  Utilisation is at most 0.8, the warmup
is many relaxation times long, and only jobs enqueued long enough before the end (all of them started)
are measured.

Also checked exactly, on the sample path: Little's law for the queue (the time-average number of jobs in
the store's queue equals the arrival rate times the mean wait, from two independent records: the store's
queue length after every operation, and the per-job records) and conservation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from resque_impl.store.memory import MemoryStore
from resque_sim import analytic
from resque_sim.distributions import moments
from resque_sim.engine import Backend, SimClock, Simulation
from resque_sim.estimates import student_t_quantile
from resque_sim.metrics import run_stats
from resque_sim.records import RunRecord
from resque_sim.scenario import Scenario, parse_scenario

BATCHES = 20
CONFIDENCE = 0.999


def queue_scenario(rate: float, duration: dict[str, Any], servers: int, jobs: int, mean_service: float) -> Scenario:
    """Poisson arrivals, one queue, ``servers`` instant workers (woken on push: no polling delay)."""
    warmup = 400 * mean_service
    return parse_scenario(
        {
            "name": "validation",
            "seed": 11,
            "duration": warmup + jobs / rate,
            "warmup": warmup,
            "backend": "memory",
            "arrivals": [{"name": "poisson", "process": {"type": "poisson", "rate": rate}}],
            "jobs": {"Job": {"queue": "q", "duration": duration}},
            "workers": [{"count": servers, "queues": ["q"], "interval": "instant", "fork_per_job": False}],
        }
    )


def measured_waits(record: RunRecord, cut: float) -> npt.NDArray[np.float64]:
    """Waits of the jobs enqueued after the warmup and more than ``cut`` seconds before the end."""
    jobs = record.jobs
    keep = (jobs["enqueued_at"] >= record.warmup) & (jobs["enqueued_at"] < record.duration - cut)
    started = jobs["started_at"][keep]
    assert not np.isnan(started).any(), "every measured job must have started; lengthen the cut"
    waits: npt.NDArray[np.float64] = started - jobs["enqueued_at"][keep]
    return waits


@dataclass(frozen=True)
class Interval:
    mean: float
    half_width: float

    def __contains__(self, value: float) -> bool:
        return abs(value - self.mean) <= self.half_width

    def __str__(self) -> str:
        return f"{self.mean:.4f} +- {self.half_width:.4f}"


def batch_means(values: npt.NDArray[np.float64]) -> Interval:
    batches = np.array([batch.mean() for batch in np.array_split(values, BATCHES)])
    half = student_t_quantile(0.5 + CONFIDENCE / 2, BATCHES - 1) * batches.std(ddof=1) / math.sqrt(BATCHES)
    return Interval(float(batches.mean()), half)


def simulate_waits(scenario: Scenario, cut: float) -> npt.NDArray[np.float64]:
    return measured_waits(Simulation(scenario, 0, Backend("memory"), None).run(), cut)


EXPONENTIAL_1S = {"dist": "exponential", "mean": 1.0}


@pytest.mark.parametrize(("rate", "jobs"), [(0.5, 30_000), (0.8, 40_000)])
def test_mm1_mean_wait(rate: float, jobs: int) -> None:
    waits = simulate_waits(queue_scenario(rate, EXPONENTIAL_1S, 1, jobs, 1.0), cut=200)
    expected = analytic.mm1_wait(rate, 1.0)
    assert expected in batch_means(waits), f"M/M/1 rho={rate}: theory {expected:.4f}, simulated {batch_means(waits)}"


@pytest.mark.parametrize(("servers", "rate"), [(2, 1.4), (4, 3.2), (8, 5.6)])
def test_mmc_mean_wait_and_probability_of_waiting_follow_erlang_c(servers: int, rate: float) -> None:
    waits = simulate_waits(queue_scenario(rate, EXPONENTIAL_1S, servers, 40_000, 1.0), cut=200)
    expected_wait = analytic.mmc_wait(rate, 1.0, servers)
    expected_waiting = analytic.erlang_c(servers, rate * 1.0)
    assert expected_wait in batch_means(waits), f"M/M/{servers}: {expected_wait:.4f} vs {batch_means(waits)}"
    waited = batch_means((waits > 0).astype(np.float64))
    assert expected_waiting in waited, f"Erlang C({servers}): {expected_waiting:.4f} vs {waited}"


def test_mmc_wait_percentile_follows_the_erlang_c_tail() -> None:
    servers, rate = 4, 3.0
    waits = simulate_waits(queue_scenario(rate, EXPONENTIAL_1S, servers, 40_000, 1.0), cut=200)
    t95 = analytic.mmc_wait_percentile(rate, 1.0, servers, 95)
    # the fraction of jobs waiting longer than the theoretical p95 is 5%
    beyond = batch_means((waits > t95).astype(np.float64))
    assert 0.05 in beyond, f"P(W > {t95:.3f}): 0.05 vs {beyond}"


@pytest.mark.parametrize(
    ("duration", "rate"),
    [
        ({"dist": "constant", "value": 1.0}, 0.7),  # M/D/1
        ({"dist": "gamma", "mean": 1.0, "cv": 2.0}, 0.5),
        ({"dist": "lognormal", "median": 0.5, "p99": 4.0}, 0.6),
    ],
    ids=["deterministic", "gamma-cv2", "lognormal"],
)
def test_mg1_mean_wait_follows_pollaczek_khinchine(duration: dict[str, Any], rate: float) -> None:
    scenario = queue_scenario(rate, duration, 1, 40_000, 1.0)
    service = moments(scenario.jobs["Job"].duration)
    waits = simulate_waits(queue_scenario(rate, duration, 1, 40_000, service.mean), cut=400)
    expected = analytic.mg1_wait(rate, service.mean, service.second_moment)
    assert expected in batch_means(waits), f"M/G/1 {duration}: theory {expected:.4f}, simulated {batch_means(waits)}"


# --- sample-path identities -------------------------------------------------------------------------


class ProbedStore(MemoryStore):
    """The in-memory store, noting the queue's length after every push and fetch."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock=clock)
        self.sim_clock = clock
        self.samples: list[tuple[float, int]] = []

    def _note(self) -> None:
        self.samples.append((self.sim_clock.now, self.queue_size("q")))

    def push(self, queue: str, payload: bytes) -> None:
        super().push(queue, payload)
        self._note()

    def fetch(self, *args: Any, **kwargs: Any) -> Any:
        fetched = super().fetch(*args, **kwargs)
        self._note()
        return fetched


@dataclass(frozen=True)
class ProbedBackend(Backend):
    def open(self, clock: SimClock) -> ProbedStore:
        return ProbedStore(clock)


def test_littles_law_holds_exactly_on_the_sample_path() -> None:
    scenario = queue_scenario(3.0, {"dist": "lognormal", "median": 0.5, "p99": 5.0}, 3, 5_000, 1.0)
    simulation = Simulation(scenario, 0, ProbedBackend("memory"), None)
    record = simulation.run()
    store = simulation.store
    assert isinstance(store, ProbedStore)
    # L: the time-average queue length, from the store's own list
    times = np.array([t for t, _ in store.samples] + [scenario.duration])
    lengths = np.array([n for _, n in store.samples])
    area = float(np.sum(lengths * np.diff(times)))
    # lambda W: from the job records, a job still queued at the end counting up to the end
    jobs = record.jobs
    reserved = np.where(np.isnan(jobs["reserved_at"]), scenario.duration, jobs["reserved_at"])
    total_wait = float(np.sum(reserved - jobs["enqueued_at"]))
    assert area == pytest.approx(total_wait, rel=1e-12)
    arrival_rate, mean_wait = record.attempts / scenario.duration, total_wait / record.attempts
    assert area / scenario.duration == pytest.approx(analytic.little_l(arrival_rate, mean_wait), rel=1e-12)
    assert lengths.max() >= 5  # jobs did queue up: the identity is not vacuous


def test_every_enqueued_job_is_completed_failed_or_pending() -> None:
    scenario = parse_scenario(
        {
            "name": "conservation",
            "duration": "20m",
            "backend": "memory",
            "arrivals": [
                {"process": {"type": "spike", "base": "2/s", "peak": "12/s", "start": "5m", "duration": "5m"}}
            ],
            "jobs": {
                "Job": {
                    "queue": "q",
                    "duration": {"dist": "gamma", "mean": "1s", "cv": 1.5},
                    "failure": {"probability": 0.1, "retry": {"max": 2, "backoff": "exponential", "base": "10s"}},
                }
            },
            "workers": [{"count": 4, "interval": "2s", "restart": {"max_jobs": 300, "boot_time": "20s"}}],
        }
    )
    stats = run_stats(Simulation(scenario, 0, Backend("memory"), None).run())
    assert stats.enqueued == stats.completed + stats.failed + stats.pending_at_end
    # not vacuous: jobs were left over, retried, and workers restarted
    assert min(stats.pending_at_end, stats.retried, stats.restart_count) > 0
