"""The jobs a live run replays: every arrival of the scenario, with the draws the simulation gives it.

What a caller needs::

    for job in plan_jobs(scenario, seed):     # in arrival order, ids 1, 2, ... as in the simulation's jobs.csv
        job.time, job.job_class, job.queue, job.draws.duration, job.draws.exception, job.draws.working_set_mb

Arrivals come from :func:`resque_sim.distributions.arrivals` and draws from
:class:`resque_sim.distributions.JobSampler`, consumed in arrival order as the engine consumes them, so a
live run with the same seed replays exactly the simulation's jobs (common random numbers).  Only first
attempts are planned: live replay does not replay retries (see :func:`check_replayable`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from resque_sim.distributions import AttemptDraws, JobSampler, arrivals
from resque_sim.scenario import Scenario

__all__ = ["PlannedJob", "check_replayable", "plan_jobs"]


class PlannedJob(NamedTuple):
    """One job to replay: its id (as in jobs.csv), arrival time (scenario seconds), class, queue and draws."""

    job_id: int
    time: float
    job_class: str
    queue: str
    draws: AttemptDraws


def check_replayable(scenario: Scenario) -> str | None:
    """Why ``scenario`` cannot be replayed live, or ``None`` when it can."""
    for name, spec in scenario.jobs.items():
        retry = spec.failure.retry
        if retry is not None and retry.max > 0:
            return (
                f"live replay does not replay retries yet, and job {name} has failure.retry; "
                f"drop it or pass --set jobs.{name}.failure.retry.max=0"
            )
    return None


def plan_jobs(scenario: Scenario, seed: int) -> Iterator[PlannedJob]:
    """The scenario's jobs under ``seed`` in arrival order (lazily: a long scenario is not held in memory)."""
    sampler = JobSampler(scenario, seed)
    for job_id, arrival in enumerate(arrivals(scenario, seed), start=1):
        spec = scenario.jobs[arrival.job_class]
        draws = sampler.draw(arrival.job_class).attempt(1)
        yield PlannedJob(job_id, arrival.time, arrival.job_class, spec.queue, draws)
