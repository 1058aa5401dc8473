"""``resque-sim plan`` on a real redis-server holding a recorded history: the plan it writes, what it
refuses, and what it reports as unknown, uncertain or skipped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner, Result

from resque_impl import ManualClock, Resque
from resque_impl.connection import connect
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, mark_deploy, recommended_workers
from resque_impl.job_metrics.layout import minute_of
from resque_impl.keys import Keys
from resque_impl.metrics import render_metrics
from resque_impl.store import Store
from resque_impl.testing import RedisServer
from resque_sim.plan.cli import plan_command
from resque_sim.scenario import load_scenario

MINUTES = 20
RATE = 4.0  # email jobs a second
MEAN = 0.2  # their mean run time, exponential
FAILS = 0.1


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    client = redis_server.client()
    client.flushall()
    connection = connect(redis_server.url)
    yield Store(connection.client, Keys("resque"), connection.description)
    connection.client.close()
    client.close()


def _record(store: Store, start: float, end: float, *, mean: float = MEAN, seed: int = 1) -> int:
    """Poisson arrivals at RATE on ``email`` from ``start`` to ``end``, each finished at once."""
    rng = np.random.default_rng(seed)
    clock = ManualClock(start)
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock, flush_interval=5.0).attach(bus)
    moment, jobs = start, 0
    while (moment := moment + rng.exponential(1 / RATE)) < end:
        clock.set(moment)
        failed = rng.random() < FAILS
        bus.emit(
            JOB_FAILED if failed else JOB_FINISHED,
            {"run_time": rng.exponential(mean)},
            {"class": "Mail", "queue": "email"},
        )
        jobs += 1
    recorder.flush()
    return jobs


def _plan(store: Store, out: Path, *args: str) -> Result:
    url = f"redis://127.0.0.1:{store.client.connection_pool.connection_kwargs['port']}/0"
    return CliRunner().invoke(
        plan_command, [url, "--out", str(out), "--duration", "300s", "--interval", "instant", "--no-charts", *args]
    )


def _summary(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text())


def test_a_redis_with_nothing_recorded_is_refused_with_how_to_record(store: Store, tmp_path: Path) -> None:
    result = _plan(store, tmp_path)
    assert result.exit_code == 2
    assert "nothing recorded" in result.output
    assert "--no-job-metrics" in result.output


@pytest.mark.parametrize("slo", ["wait.p95", "wait.p95<later", "speed<1s"])
def test_a_malformed_slo_is_refused(store: Store, tmp_path: Path, slo: str) -> None:
    result = _plan(store, tmp_path, "--slo", slo)
    assert result.exit_code == 2
    assert "--slo" in result.output


def test_the_plan_recovers_the_recorded_load_and_sizes_the_fleet(store: Store, tmp_path: Path) -> None:
    now = store.server_time()
    jobs = _record(store, now - 60 * MINUTES, now)
    store.client.sadd("resque:workers", "host:1:email,ruby", "host:2:email,ruby")
    store.client.sadd("resque:queues", "email", "ruby")
    store.client.hset(store.keys.queue_metrics_minute("209901010000"), "junk", "1")  # outside the window
    store.client.set(store.keys.queue_metrics_minute(minute_of(now - 300)), "not a hash")

    result = _plan(store, tmp_path, "--slo", "wait.p95<1s", "--slo", "failure_rate<0.2", "--growth", "2")
    assert result.exit_code == 0, result.output
    plan = _summary(tmp_path)["plan"]
    email = plan["queues"]["email"]
    assert email["mean_rate"] == pytest.approx(jobs / (60 * MINUTES), rel=0.1)  # the junk minute loses some
    assert email["planned_rate"] == pytest.approx(2 * email["peak_rate"])
    mail = plan["classes"]["Mail"]
    assert mail["mean"] == pytest.approx(MEAN, rel=0.1)
    assert mail["family"] in ("exponential", "gamma")
    assert mail["failure_rate"] == pytest.approx(FAILS, abs=0.03)
    assert [(pool["queues"], pool["count"], pool["served"]) for pool in plan["pools"]] == [
        (["email", "ruby"], 2, ["email"])
    ]
    assert plan["skipped_keys"]["queue_metrics"] == 1
    assert any(line.startswith("queue ruby: no job recorded") for line in plan["unknown"])
    assert "today's fleet: 2 workers" in result.output
    assert "unknown: queue ruby" in result.output

    scenario = load_scenario(tmp_path / "plan.yaml")
    assert scenario.jobs["Mail"].queue == "email"
    assert [pool.count for pool in scenario.workers] == [2]
    summary = _summary(tmp_path)
    recommended = summary["recommended"]
    load = email["planned_rate"] * mail["mean"]
    assert load < recommended <= max(point["value"] for point in summary["sweep"])
    assert summary["recommended_pools"] == {"default": recommended}
    assert plan["pools"][0]["recommended"] == recommended
    assert plan["combined"] is None  # one pool: its sweep is the plan
    assert f"the smallest fleet meeting wait.p95 < 1, failure_rate < 0.2 is {recommended} workers" in result.output
    assert (tmp_path / "report.html").read_text().count("Capacity plan") >= 1
    assert (tmp_path / "simulation.html").exists()


def test_since_deploy_fits_only_what_ran_after_the_last_marker(store: Store, tmp_path: Path) -> None:
    now = store.server_time()
    deploy_at = now - 600 - (now % 60)  # on a minute boundary: the minute hashes cannot split a minute
    _record(store, now - 1800, deploy_at, mean=1.0, seed=2)
    mark_deploy(store, "v2", at=deploy_at)
    _record(store, deploy_at, now, mean=MEAN, seed=3)

    result = _plan(store, tmp_path, "--since-deploy")
    assert result.exit_code == 0, result.output
    plan = _summary(tmp_path)["plan"]
    assert plan["since_deploy"]["label"] == "v2"
    assert plan["classes"]["Mail"]["mean"] == pytest.approx(MEAN, rel=0.1)
    assert "v2" in (tmp_path / "report.html").read_text()


def test_publish_puts_the_recommendation_on_metrics(store: Store, tmp_path: Path) -> None:
    now = store.server_time()
    _record(store, now - 600, now)
    store.client.sadd("resque:workers", "host:1:*")

    result = _plan(store, tmp_path, "--publish")
    assert result.exit_code == 0, result.output
    recommended = _summary(tmp_path)["recommended"]
    assert [(item.queue, item.workers, item.source) for item in recommended_workers(store, now)] == [
        ("email", recommended, "plan")
    ]
    text = render_metrics(Resque(store=store)).decode()
    assert f'resque_recommended_workers{{queue="email",source="plan"}} {float(recommended)}' in text


def test_too_few_samples_are_named_as_uncertain_figures(store: Store, tmp_path: Path) -> None:
    now = store.server_time()
    clock = ManualClock(now - 5)
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock).attach(bus)
    for index in range(10):
        clock.set(now - 5 + index * 0.5)
        bus.emit(JOB_FINISHED, {"run_time": 0.05}, {"class": "Rare", "queue": "slow"})
    recorder.flush()

    result = _plan(store, tmp_path)
    assert result.exit_code == 0, result.output
    assert "uncertain: class Rare: run-time distribution and failure rate from 10 jobs" in result.output
    assert "uncertain: queue slow: arrival rate from 10 jobs" in result.output
    assert "uncertain: queue slow: peak from" in result.output
