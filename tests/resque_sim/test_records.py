"""A run's records are columns: memory grows by a fixed, small amount per simulated job."""

from __future__ import annotations

import tracemalloc

from resque_sim.engine import Backend, simulate
from resque_sim.records import RunRecord

from .helpers import make_scenario


def traced_peak(duration: str) -> tuple[int, RunRecord]:
    """The largest Python heap (bytes, above what was allocated before) while simulating ``duration`` of
    20 jobs/s on four instant workers, and the run's record."""
    scenario = make_scenario(
        duration=duration,
        arrivals=[{"name": "load", "process": {"type": "poisson", "rate": "20/s"}}],
        jobs={"Job": {"queue": "default", "duration": {"dist": "exponential", "mean": "0.1s"}}},
        workers=[{"pool": "default", "count": 4, "queues": ["default"], "interval": "instant"}],
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        record = simulate(scenario, backend=Backend("memory"))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    return peak, record


def test_each_attempt_costs_the_job_table_53_bytes() -> None:
    _, record = traced_peak("1m")
    row_bytes = sum(column.itemsize for column in record.jobs.values())
    assert row_bytes == 53
    assert sum(column.nbytes for column in record.jobs.values()) == row_bytes * record.attempts


def test_a_run_four_times_longer_costs_at_most_200_bytes_more_per_further_job() -> None:
    small_peak, small = traced_peak("2m")
    large_peak, large = traced_peak("8m")
    assert large.attempts > 3.5 * small.attempts > 7_500
    per_job = (large_peak - small_peak) / (large.attempts - small.attempts)
    assert 0 < per_job < 200
