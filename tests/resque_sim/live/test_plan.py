"""The live plan is the simulation's jobs: same ids, arrival times, classes and draws for the same seed."""

from __future__ import annotations

import pytest

from resque_sim.engine import Backend, simulate
from resque_sim.live.plan import check_replayable, plan_jobs
from resque_sim.metrics import jobs_frame
from resque_sim.scenario import parse_scenario
from tests.resque_sim.live.helpers import live_scenario


def test_the_plan_has_the_simulations_arrivals_and_durations() -> None:
    scenario = parse_scenario(live_scenario(30.0, workers=[{"count": 50, "interval": "instant"}]))
    simulated = jobs_frame(simulate(scenario, backend=Backend("memory")))  # 50 workers: no job waits

    plan = list(plan_jobs(scenario, scenario.seed))

    assert [job.job_id for job in plan] == simulated["id"].tolist()
    assert [job.time for job in plan] == simulated["enqueued_at"].tolist()
    # run = finished - started in the simulation, so equal up to that subtraction's rounding
    assert [job.draws.duration for job in plan] == pytest.approx(simulated["run"].tolist(), rel=1e-9, abs=1e-12)
    exceptions = simulated["exception"].astype(object).where(simulated["exception"].notna(), None)
    assert [job.draws.exception for job in plan] == exceptions.tolist()


def test_a_scenario_with_retries_is_not_replayable_and_says_how_to_drop_them() -> None:
    data = live_scenario()
    data["jobs"]["Job"]["failure"]["retry"] = {"max": 2}
    scenario = parse_scenario(data)

    problem = check_replayable(scenario)

    assert problem is not None
    assert "--set jobs.Job.failure.retry.max=0" in problem
    assert check_replayable(parse_scenario(live_scenario())) is None
