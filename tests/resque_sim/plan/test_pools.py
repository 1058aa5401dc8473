"""A plan for every deployed pool: with one pool on ``critical`` and one on ``default,low``, each pool
is swept and held to the SLO for the queues it serves, the combined fleet is checked, and summary.json,
the printout, report.html and ``--publish`` carry a recommendation per pool; a pool of Ruby workers
(which record nothing) is not planned (on fakeredis and a real redis-server, from histories recorded by
the workers' own recorder)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fakeredis
import numpy as np
import pytest

from resque_impl import ManualClock
from resque_impl.events import JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, recommended_workers
from resque_impl.keys import Keys
from resque_impl.store import Store
from resque_impl.testing import RedisServer
from resque_sim.plan import PlanOutcome, PlanSettings, make_plan, parse_slo
from resque_sim.plan.publish import publish_plan
from resque_sim.plan.report import answer_lines, write_report

MINUTES = 20
#: queue -> (class, jobs a second, mean run time): critical offers 1.5 workers of load, default 1.2.
LOAD = {"critical": ("Charge", 3.0, 0.5), "default": ("Mail", 4.0, 0.3)}
#: One worker on critical (too few for its load), three on default,low (more than enough), and two
#: Ruby workers on ruby, which record nothing.
WORKERS = ("host:1:critical", "host:2:default,low", "host:3:default,low", "host:4:default,low", "host:5:ruby",
           "host:6:ruby")  # fmt: skip


@dataclass(frozen=True)
class Planned:
    store: Store
    out: Path
    outcome: PlanOutcome
    summary: dict[str, Any]


@pytest.fixture(scope="module", params=["fake", "real"])
def planned(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Planned]:
    """The history of LOAD on WORKERS, recorded and planned once per kind of Redis (the tests only read
    it, so they share it: a plan of two pools runs some twenty simulations)."""
    if request.param == "fake":
        client: Any = fakeredis.FakeRedis()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = server.client(socket_timeout=5)
        client.flushall()
    store = Store(client, Keys())
    _record(store)
    out = tmp_path_factory.mktemp("plan")
    outcome = make_plan(store, out, window=3600, settings=_settings("wait.p95<1s"), processes=1, charts=False)
    yield Planned(store, out, outcome, json.loads((out / "summary.json").read_text()))
    client.close()


def _record(store: Store) -> None:
    """Poisson arrivals on each queue of LOAD over the last MINUTES, with exponential run times."""
    now = store.server_time()
    rng = np.random.default_rng(7)
    clock = ManualClock(now - 60 * MINUTES)
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock, flush_interval=5.0).attach(bus)
    events = [
        (moment, queue)
        for queue, (_, rate, _) in LOAD.items()
        for moment in np.cumsum(rng.exponential(1 / rate, int(rate * 60 * MINUTES * 1.2)))
        if moment < 60 * MINUTES
    ]
    for moment, queue in sorted(events):
        name, _, mean = LOAD[queue]
        clock.set(now - 60 * MINUTES + moment)
        bus.emit(JOB_FINISHED, {"run_time": rng.exponential(mean)}, {"class": name, "queue": queue})
    recorder.flush()
    store.client.sadd("resque:workers", *WORKERS)
    store.client.sadd("resque:queues", "critical", "default", "low", "ruby")


def _settings(*slos: str) -> PlanSettings:
    return PlanSettings(growth=1.0, slo=tuple(parse_slo(text) for text in slos), interval="instant",
                        fork_per_job=False, duration=120.0)  # fmt: skip


def _pools(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {pool["name"]: pool for pool in summary["plan"]["pools"]}


def test_each_pool_gets_a_recommendation_held_to_the_slo_of_its_own_queues(planned: Planned) -> None:
    summary = planned.summary
    pools = _pools(summary)
    assert {name: (pool["queues"], pool["count"], pool["served"]) for name, pool in pools.items()} == {
        "default": (["default", "low"], 3, ["default"]),
        "pool2": (["ruby"], 2, []),
        "pool3": (["critical"], 1, ["critical"]),
    }
    # each pool is held to the fleet-wide wait SLO on each queue it serves
    assert [(slo["metric"], slo.get("queue")) for slo in pools["pool3"]["slo"]] == [("wait", "critical")]
    assert [(slo["metric"], slo.get("queue")) for slo in pools["default"]["slo"]] == [("wait", "default")]
    # a pool is never planned below its queues' offered load, nor its SLO met there
    assert pools["pool2"]["recommended"] is None  # it serves no queue a job was recorded from
    for pool in (pools["default"], pools["pool3"]):
        assert pool["recommended"] > pool["offered_load"]
        assert not any(point["ok"] for point in pool["sweep"] if point["value"] < pool["offered_load"])
    assert pools["pool3"]["recommended"] >= 2  # today's single critical worker is overloaded
    assert summary["recommended_pools"] == {name: pool["recommended"] for name, pool in pools.items()}
    # the simulation's own fields stay readable: the largest pool's sweep and recommendation
    assert summary["sweep_param"] == "workers.default.count"
    assert summary["recommended"] == pools["default"]["swept"] == summary["plan"]["recommended"]
    combined = summary["plan"]["combined"]
    assert combined["ok"] is True
    assert combined["workers"] == {**summary["recommended_pools"], "pool2": 2}
    assert planned.outcome.found


def test_the_answer_and_the_report_name_each_pool(planned: Planned) -> None:
    summary = planned.summary
    pools = _pools(summary)
    today = summary["plan"]["today"]
    assert (today["workers"], today["pools"], today["ok"]) == (6, {"default": 3, "pool2": 2, "pool3": 1}, False)
    lines = answer_lines(summary)
    held, swept = "wait[critical].p95 < 1", pools["pool3"]["swept"]
    assert "today's fleet: 6 workers (default 3, pool2 2, pool3 1) does NOT hold wait.p95 < 1" in lines[1]
    assert any(
        line.startswith(f"at peak x 1: pool pool3 (critical, 1 today): the smallest count meeting {held} is {swept} ")
        for line in lines
    )
    assert "pool pool2 (ruby, 2 today): serves no queue a job was recorded from; not planned" in lines
    assert any(line.startswith("at peak x 1: the combined fleet,") and " holds " in line for line in lines)
    assert any(line.startswith("unknown: queue ruby") for line in lines)
    write_report(planned.out, summary)
    page = (planned.out / "report.html").read_text()
    assert "Sweep of pool pool3" in page
    assert "Sweep of pool default" in page


def test_publish_gives_each_queue_the_recommendation_of_the_pool_serving_it(planned: Planned) -> None:
    store = planned.store
    pools = _pools(planned.summary)

    assert publish_plan(store, planned.summary) == {
        "default": pools["default"]["recommended"],
        "critical": pools["pool3"]["recommended"],
    }
    found = {item.queue: (item.workers, item.source) for item in recommended_workers(store, store.server_time())}
    assert found == {
        "critical": (pools["pool3"]["recommended"], "plan"),
        "default": (pools["default"]["recommended"], "plan"),
    }


def test_pools_sharing_a_queue_are_planned_together(tmp_path: Path) -> None:
    store = Store(fakeredis.FakeRedis(), Keys())
    _record(store)
    store.client.delete("resque:workers")
    store.client.sadd("resque:workers", "host:1:*", "host:2:*", "host:3:critical")

    outcome = make_plan(store, tmp_path, window=3600, settings=_settings("wait.p95<1s"), processes=1, charts=False)

    pools = _pools(outcome.summary)
    assert {name: (pool["queues"], pool["served"]) for name, pool in pools.items()} == {
        "default": (["*"], ["critical", "default"]),
        "pool2": (["critical"], ["critical"]),
    }
    # critical is not pool2's alone, so its sweep starts from one worker
    assert pools["pool2"]["sweep"][0]["value"] == 1
    combined = outcome.summary["plan"]["combined"]
    assert combined["ok"] is True
    assert combined["workers"] == {name: pool["recommended"] for name, pool in pools.items()}
    assert all(pool["recommended"] >= pool["swept"] for pool in pools.values())
