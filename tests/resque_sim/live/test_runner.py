"""A live run replays the simulation's jobs: same ids, arrivals no earlier than planned, each job's drawn
duration and outcome, worked by real worker processes on a real Redis."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from resque_impl.testing import RedisServer
from resque_sim.engine import Backend, simulate
from resque_sim.live.runner import LiveOptions, LiveOutcome, run_live
from resque_sim.metrics import jobs_frame
from resque_sim.records import DOWN_REASONS
from resque_sim.report import write_outputs
from resque_sim.scenario import Scenario, parse_scenario
from tests.resque_sim.live.helpers import live_scenario, start_python_worker

SPEED = 2.0


@pytest.fixture
def url(redis_server: RedisServer) -> Iterator[str]:
    client = redis_server.client()
    client.flushall()
    yield redis_server.url
    client.close()


def _lined_up(scenario: Scenario, outcome: LiveOutcome) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The live run's jobs and the simulation's (same seed), row for row."""
    record = outcome.result.base.record
    assert record is not None
    live = jobs_frame(record)
    simulated = jobs_frame(simulate(scenario, backend=Backend("memory")))
    assert len(live) == len(simulated)
    return live, simulated


def _assert_replays_the_simulation(scenario: Scenario, outcome: LiveOutcome) -> None:
    live, simulated = _lined_up(scenario, outcome)
    assert live["id"].tolist() == simulated["id"].tolist()
    assert live["class"].tolist() == simulated["class"].tolist()
    assert (live["enqueued_at"] >= simulated["enqueued_at"]).all()  # never pushed before its arrival time
    assert (live["run"] >= simulated["run"] - 1e-5 * SPEED).all()  # slept at least the drawn duration
    assert set(simulated["outcome"].astype(str)) <= {"completed", "failed"}  # the scenario lets every job finish
    assert live["outcome"].astype(str).tolist() == simulated["outcome"].astype(str).tolist()
    assert live["exception"].astype(str).tolist() == simulated["exception"].astype(str).tolist()


@pytest.mark.parametrize(
    ("fork", "interval"), [(False, "instant"), (True, "instant"), (False, "200ms")], ids=["no-fork", "fork", "polling"]
)
def test_started_workers_replay_every_job_of_the_simulation(url: str, fork: bool, interval: str) -> None:
    data = live_scenario()
    data["workers"][0] |= {"fork_per_job": fork, "interval": interval}
    scenario = parse_scenario(data)

    outcome = run_live(scenario, LiveOptions(url, speed=SPEED))

    _assert_replays_the_simulation(scenario, outcome)
    assert outcome.deaths == ()
    record = outcome.result.base.record
    assert record is not None
    assert set(jobs_frame(record)["worker"].astype(str)) <= {"default-0", "default-1"}


def test_the_outputs_are_a_simulations_files_with_backend_live(url: str, tmp_path: Path) -> None:
    scenario = parse_scenario(live_scenario(2.0))
    outcome = run_live(scenario, LiveOptions(url, speed=SPEED, work="cpu"))
    _assert_replays_the_simulation(scenario, outcome)

    write_outputs(outcome.result, tmp_path, charts=False)

    simulated_header = "id,class,queue,enqueued_at,started_at,finished_at,wait,run,worker,outcome,exception,attempt"
    assert (tmp_path / "jobs.csv").read_text().splitlines()[0] == simulated_header
    summary = pd.read_json(tmp_path / "summary.json", typ="series")
    assert summary["backend"] == "live"
    assert summary["live"]["speed"] == SPEED
    assert summary["live"]["work"] == "cpu"
    assert {"timeseries.csv", "workers.csv", "report.html"} <= {path.name for path in tmp_path.iterdir()}


def _registered(url: str, redis_server: RedisServer, count: int) -> None:
    client = redis_server.client()
    deadline = time.monotonic() + 30
    while client.scard("resque:workers") < count:
        assert time.monotonic() < deadline, "the worker did not register"
        time.sleep(0.05)
    client.close()


def test_attach_measures_a_python_worker_it_did_not_start(url: str, redis_server: RedisServer) -> None:
    worker = start_python_worker(url, fork=True)
    try:
        _registered(url, redis_server, 1)
        scenario = parse_scenario(live_scenario(2.0))

        outcome = run_live(scenario, LiveOptions(url, attach=True, speed=SPEED))
    finally:
        worker.terminate()
        worker.wait(10)

    _assert_replays_the_simulation(scenario, outcome)
    record = outcome.result.base.record
    assert record is not None
    assert [name.rsplit(":", 1)[1] for name in record.workers] == [str(worker.pid)]


def test_a_live_run_leaves_no_probe_keys_and_no_probe_jobs(url: str, redis_server: RedisServer) -> None:
    scenario = parse_scenario(live_scenario(1.5))
    run_live(scenario, LiveOptions(url, speed=SPEED))

    client = redis_server.client()
    assert client.keys("resque:resque-sim:*") == []
    assert client.llen("resque:queue:default") == 0
    assert client.scard("resque:workers") == 0  # the workers it started are gone
    client.close()


def test_a_pool_with_job_slots_runs_one_process_of_n_slots_named_as_the_simulation_names_them(url: str) -> None:
    data = live_scenario()
    data["workers"] = [{"pool": "io", "count": 1, "concurrency": 4, "queues": ["*"], "interval": "instant"}]
    waiting_only = parse_scenario(data)
    data["jobs"]["Job"]["cpu_fraction"] = 0.25
    scenario = parse_scenario(data)

    outcome = run_live(scenario, LiveOptions(url, speed=SPEED))

    # Against the jobs as drawn (the simulation of the same jobs without computing, which never queue
    # for the process's core): a simulated job may wait for the core longer than the live one did.
    _assert_replays_the_simulation(waiting_only, outcome)
    assert outcome.deaths == ()
    record = outcome.result.base.record
    assert record is not None
    assert list(record.workers) == [f"io-0.{slot}" for slot in range(4)]
    assert set(jobs_frame(record)["worker"].astype(str)) <= set(record.workers)


def test_a_pool_with_a_job_limit_restarts_its_workers_and_loses_no_job(url: str) -> None:
    # the tail leaves time for the replacements to boot: a real Python worker takes most of a second
    data = live_scenario(6.0, tail=4.0)
    data["workers"][0]["restart"] = {"max_jobs": 6}
    scenario = parse_scenario(data)

    outcome = run_live(scenario, LiveOptions(url, speed=SPEED))

    _assert_replays_the_simulation(scenario, outcome)
    record = outcome.result.base.record
    assert record is not None
    assert len(record.downs["at"]) >= 2
    assert set(record.downs["reason"].tolist()) == {DOWN_REASONS.index("max_jobs")}
    assert outcome.deaths == ()


@pytest.mark.parametrize("fork", [False, True], ids=["no-fork", "fork"])
def test_probe_jobs_hold_their_drawn_memory_and_it_shows_as_peak_rss(url: str, fork: bool) -> None:
    data = live_scenario(1.5)
    data["jobs"]["Job"]["memory"] = {"working_set_mb": {"dist": "constant", "value": 64}}
    data["workers"][0]["fork_per_job"] = fork
    scenario = parse_scenario(data)

    outcome = run_live(scenario, LiveOptions(url, speed=SPEED))

    assert outcome.result.base.runs[0].peak_rss_mb >= 64


def test_a_registration_left_by_a_killed_worker_of_this_host_does_not_block_a_run(
    url: str, redis_server: RedisServer
) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    client = redis_server.client()
    client.sadd("resque:workers", f"{socket.gethostname()}:{gone.pid}:*")
    client.close()
    scenario = parse_scenario(live_scenario(1.5))

    outcome = run_live(scenario, LiveOptions(url, speed=SPEED))

    _assert_replays_the_simulation(scenario, outcome)
