"""The engine drives the real client and worker steps in simulated time: polling, priority, restarts,
OOM kills, retries, and a store whose own counters agree with the records."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from resque_sim.engine import EPOCH, Backend, SimClock, Simulation
from resque_sim.metrics import jobs_frame, run_stats, worker_events_frame
from resque_sim.records import RunRecord
from resque_sim.scenario import Scenario

from .helpers import make_scenario, run

CONSTANT_2S = {"dist": "constant", "value": "2s"}


def burst(at: str, size: int = 1, name: str | None = None, job: str = "Job") -> dict[str, Any]:
    return {"name": name or f"burst-at-{at}", "process": {"type": "burst", "at": at, "size": size}, "mix": {job: 1}}


def pool(**fields: Any) -> dict[str, Any]:
    return {"pool": "default", "count": 1, "queues": ["*"], "interval": "5s", "fork_per_job": False, **fields}


def starts(record: RunRecord) -> list[float]:
    return [round(t, 9) for t in record.jobs["started_at"].tolist()]


def waits(record: RunRecord) -> list[float]:
    return [round(w, 9) for w in jobs_frame(record)["wait"].tolist()]


def one_job_class(duration: dict[str, Any] = CONSTANT_2S, **fields: Any) -> dict[str, Any]:
    return {"Job": {"queue": "default", "duration": duration, **fields}}


# --- polling ---------------------------------------------------------------------------------------


def test_an_idle_worker_finds_a_job_at_its_next_poll() -> None:
    record = run(make_scenario(arrivals=[burst("1s")], jobs=one_job_class(), workers=[pool()]))
    assert waits(record) == [4.0]  # polled (empty) at 0, slept 5 s


def test_polls_keep_to_the_interval_grid_while_nothing_arrives() -> None:
    record = run(make_scenario(arrivals=[burst("12s")], jobs=one_job_class(), workers=[pool()]))
    assert starts(record) == [15.0]  # polls at 0, 5, 10 found nothing; the one at 15 finds the job


def test_a_worker_polls_again_at_once_after_a_job() -> None:
    record = run(make_scenario(arrivals=[burst("1s", size=2)], jobs=one_job_class(), workers=[pool()]))
    assert starts(record) == [5.0, 7.0]


def test_after_a_job_the_polling_grid_restarts_from_the_empty_poll() -> None:
    arrivals = [burst("1s", name="first"), burst("8s", name="second")]
    record = run(make_scenario(arrivals=arrivals, jobs=one_job_class(), workers=[pool()]))
    assert starts(record) == [5.0, 12.0]  # the job ends at 7, the poll at 7 is empty, the next is at 12


def test_instant_workers_start_a_job_the_moment_it_is_pushed() -> None:
    record = run(
        make_scenario(arrivals=[burst("1s", size=3)], jobs=one_job_class(), workers=[pool(count=2, interval="instant")])
    )
    assert starts(record) == [1.0, 1.0, 3.0]
    assert sorted(jobs_frame(record)["worker"].tolist()[:2]) == ["default-0", "default-1"]


def test_a_woken_worker_that_takes_another_job_passes_the_wake_up_on() -> None:
    # pushes to "a" then "b" wake "both" (idle longest) for "a" and "only-b" for "b"; "both" prefers "b",
    # so "only-a" must be woken for the job on "a" rather than leave it waiting for a busy worker
    jobs = {"A": {"queue": "a", "duration": CONSTANT_2S}, "B": {"queue": "b", "duration": CONSTANT_2S}}
    workers = [
        pool(pool="both", queues=["b", "a"], interval="instant"),
        pool(pool="only-b", queues=["b"], interval="instant"),
        pool(pool="only-a", queues=["a"], interval="instant"),
    ]
    arrivals = [burst("1s", name="a", job="A"), burst("1s", name="b", job="B")]
    frame = jobs_frame(run(make_scenario(arrivals=arrivals, jobs=jobs, workers=workers)))
    assert frame[["class", "started_at", "worker"]].values.tolist() == [["A", 1.0, "only-a-0"], ["B", 1.0, "both-0"]]


def test_a_job_only_a_busy_worker_serves_waits_for_it() -> None:
    # as with Resque's notifications: the idle "only-b" worker cannot take the job on "a"
    jobs = {"A": {"queue": "a", "duration": CONSTANT_2S}, "B": {"queue": "b", "duration": CONSTANT_2S}}
    workers = [
        pool(pool="both", queues=["b", "a"], interval="instant"),
        pool(pool="only-b", queues=["b"], interval="instant"),
    ]
    arrivals = [burst("1s", name="a", job="A"), burst("1s", name="b", job="B")]
    assert starts(run(make_scenario(arrivals=arrivals, jobs=jobs, workers=workers))) == [3.0, 1.0]


def test_queues_are_served_in_strict_priority_order() -> None:
    jobs = {
        "Low": {"queue": "low", "duration": CONSTANT_2S},
        "Critical": {"queue": "critical", "duration": CONSTANT_2S},
    }
    arrivals = [burst("1s", size=3, name="lows", job="Low"), burst("1.5s", name="crit", job="Critical")]
    workers = [pool(queues=["critical", "low"], interval="instant")]
    frame = jobs_frame(run(make_scenario(arrivals=arrivals, jobs=jobs, workers=workers)))
    order = frame.sort_values("started_at")["class"].tolist()
    assert order == ["Low", "Critical", "Low", "Low"]


def test_wildcards_expand_alphabetically_like_resque() -> None:
    jobs = {"Z": {"queue": "zebra", "duration": CONSTANT_2S}, "A": {"queue": "alpha", "duration": CONSTANT_2S}}
    arrivals = [burst("1s", name="z", job="Z"), burst("1s", name="a", job="A")]
    frame = jobs_frame(run(make_scenario(arrivals=arrivals, jobs=jobs, workers=[pool(queues=["*"])])))
    assert frame.sort_values("started_at")["queue"].tolist() == ["alpha", "zebra"]


def test_fork_overhead_delays_the_start_of_perform() -> None:
    workers = [pool(interval="instant", fork_per_job=True, fork_overhead="250ms")]
    record = run(make_scenario(arrivals=[burst("1s")], jobs=one_job_class(), workers=workers))
    assert (record.jobs["reserved_at"][0], record.jobs["started_at"][0], record.jobs["finished_at"][0]) == (
        1.0,
        1.25,
        3.25,
    )


def test_job_overhead_delays_every_job_forked_or_not_and_fork_overhead_adds_to_it() -> None:
    jobs = one_job_class()
    for fork, started, finished in ((False, 1.1, 3.1), (True, 1.35, 3.35)):
        workers = [pool(interval="instant", fork_per_job=fork, job_overhead="100ms", fork_overhead="250ms")]
        record = run(make_scenario(arrivals=[burst("1s")], jobs=jobs, workers=workers))
        assert record.jobs["reserved_at"][0] == 1.0
        assert round(record.jobs["started_at"][0], 9) == started
        assert round(record.jobs["finished_at"][0], 9) == finished


def test_with_fork_start_only_that_part_of_fork_overhead_precedes_perform() -> None:
    workers = [pool(interval="instant", fork_per_job=True, fork_overhead="250ms", fork_start="100ms")]
    record = run(make_scenario(arrivals=[burst("1s")], jobs=one_job_class(), workers=workers))
    assert (record.jobs["reserved_at"][0], record.jobs["started_at"][0], record.jobs["finished_at"][0]) == (
        1.0,
        1.1,
        3.1,
    )


def test_the_rest_of_fork_overhead_holds_the_worker_after_the_job_finishes() -> None:
    workers = [pool(interval="instant", fork_per_job=True, fork_overhead="250ms", fork_start="100ms")]
    record = run(make_scenario(arrivals=[burst("1s", size=2)], jobs=one_job_class(), workers=workers))
    # the second job is reserved 150 ms after the first finished (3.1), and starts 100 ms later
    assert [round(t, 9) for t in record.jobs["reserved_at"].tolist()] == [1.0, 3.25]
    assert starts(record) == [1.1, 3.35]


def test_fork_start_beyond_fork_overhead_delays_perform_by_fork_overhead_only() -> None:
    workers = [pool(interval="instant", fork_per_job=True, fork_overhead="50ms", fork_start="100ms")]
    record = run(make_scenario(arrivals=[burst("1s", size=2)], jobs=one_job_class(), workers=workers))
    assert starts(record) == [1.05, 3.1]


def test_fork_start_is_ignored_by_a_worker_that_does_not_fork() -> None:
    workers = [pool(interval="instant", job_overhead="100ms", fork_overhead="250ms", fork_start="100ms")]
    record = run(make_scenario(arrivals=[burst("1s", size=2)], jobs=one_job_class(), workers=workers))
    assert starts(record) == [1.1, 3.2]


def test_a_woken_instant_worker_reserves_wake_latency_after_the_push() -> None:
    workers = [pool(interval="instant", wake_latency="30ms")]
    record = run(make_scenario(arrivals=[burst("1s", size=2)], jobs=one_job_class(), workers=workers))
    assert starts(record) == [1.03, 3.03]  # the second job waits for a busy worker, which takes it at once


def test_poll_cost_stretches_the_polling_grid() -> None:
    workers = [pool(poll_cost="100ms")]
    record = run(make_scenario(arrivals=[burst("12s")], jobs=one_job_class(), workers=workers))
    assert starts(record) == [15.3]  # polls at 0, 5.1, 10.2 found nothing


# --- restarts and memory ---------------------------------------------------------------------------


def test_a_worker_restarts_after_max_jobs_and_serves_nothing_while_booting() -> None:
    workers = [pool(interval="instant", restart={"max_jobs": 2, "boot_time": "10s"})]
    jobs = one_job_class({"dist": "constant", "value": "1s"})
    record = run(make_scenario(arrivals=[burst("0s", size=5)], jobs=jobs, workers=workers))
    assert starts(record) == [0.0, 1.0, 12.0, 13.0, 24.0]
    events = worker_events_frame(record)
    assert events[["time", "event", "reason"]].values.tolist() == [
        [2.0, "down", "max_jobs"],
        [12.0, "up", ""],
        [14.0, "down", "max_jobs"],
        [24.0, "up", ""],
    ]


def test_an_idle_worker_is_replaced_when_it_reaches_max_age() -> None:
    workers = [pool(interval="instant", restart={"max_age": "1m", "boot_time": "5s"})]
    record = run(make_scenario(duration="3m", arrivals=[burst("62s")], jobs=one_job_class(), workers=workers))
    assert worker_events_frame(record)["time"].tolist() == [60.0, 65.0, 125.0, 130.0]
    assert starts(record) == [65.0]


def leaky(**worker_fields: Any) -> Scenario:
    jobs = one_job_class(
        {"dist": "constant", "value": "1s"}, memory={"working_set_mb": {"dist": "constant", "value": 10}, "leak_mb": 5}
    )
    worker = pool(interval="instant", memory={"base_mb": 100}, **worker_fields)
    return make_scenario(duration="1m", arrivals=[burst("0s", size=30)], jobs=jobs, workers=[worker])


def test_an_in_process_worker_leaks_until_max_rss_restarts_it() -> None:
    record = run(leaky(restart={"max_rss_mb": 120}))
    # 100 MB + 5 per job: above 120 after the 5th job, so a restart every 5 jobs
    assert worker_events_frame(record).query("event == 'down'")["reason"].tolist()[:2] == ["max_rss", "max_rss"]
    resident = record.rss["mb"][~record.rss["peak"]]
    assert resident[:7].tolist() == [100, 105, 110, 115, 120, 125, 100]


def test_a_forked_worker_does_not_grow() -> None:
    record = run(leaky(fork_per_job=True, restart={"max_rss_mb": 120}))
    assert len(record.downs["at"]) == 0
    assert run_stats(record).peak_rss_mb == 110.0  # the child: base plus its working set


def oom(fork: bool) -> tuple[Simulation, RunRecord]:
    jobs = one_job_class(
        {"dist": "constant", "value": "4s"}, memory={"working_set_mb": {"dist": "constant", "value": 300}}
    )
    worker = pool(interval="instant", fork_per_job=fork, memory={"base_mb": 100, "oom_limit_mb": 250})
    scenario = make_scenario(duration="1m", arrivals=[burst("0s", size=2)], jobs=jobs, workers=[worker])
    simulation = Simulation(scenario, 0, Backend("memory"), None)
    return simulation, simulation.run()


def test_an_oom_kill_fails_the_job_with_dirty_exit_and_replaces_an_in_process_worker() -> None:
    simulation, record = oom(fork=False)
    frame = jobs_frame(record)
    assert frame["exception"].tolist() == ["Resque::DirtyExit", "Resque::DirtyExit"]
    # each job grows from 100 MB to 400 over 4 s and passes 250 halfway; the replacement boots at once
    assert frame["finished_at"].tolist() == [2.0, 4.0]
    assert worker_events_frame(record).query("event == 'down'")["reason"].tolist() == ["oom", "oom"]
    record_json = json.loads(simulation.resque.failures.all(0, 1)[0].raw)
    assert record_json["exception"] == "Resque::DirtyExit"


def test_an_oom_kill_in_a_forked_child_leaves_the_worker_running() -> None:
    _, record = oom(fork=True)
    assert jobs_frame(record)["finished_at"].tolist() == [2.0, 4.0]
    assert len(record.downs["at"]) == 0


# --- failures and retries --------------------------------------------------------------------------


def test_failed_jobs_are_retried_by_the_retry_plugin_through_the_scheduler() -> None:
    jobs = one_job_class(
        failure={"probability": 1, "exceptions": {"Net::ReadTimeout": 1}, "retry": {"backoff": ["10s", "20s"]}}
    )
    scenario = make_scenario(arrivals=[burst("1s")], jobs=jobs, workers=[pool(interval="instant")])
    simulation = Simulation(scenario, 0, Backend("memory"), None)
    frame = jobs_frame(simulation.run())
    # fails at 3 s, due at 13 s, released by the scheduler's poll at 15 s; fails at 17 s, due at 37 s, out at 40
    assert frame[["attempt", "enqueued_at", "outcome", "exception"]].values.tolist() == [
        [1, 1.0, "retried", "Net::ReadTimeout"],
        [2, 15.0, "retried", "Net::ReadTimeout"],
        [3, 40.0, "failed", "Net::ReadTimeout"],
    ]
    assert frame["id"].nunique() == 1
    # the plugin swallows the exceptions it retries: only the last attempt leaves a failure record
    failures = simulation.resque.failures.all()
    assert [json.loads(f.raw)["exception"] for f in failures] == ["Net::ReadTimeout"]
    assert json.loads(failures[0].raw)["payload"]["retry_attempt"] == 2
    assert json.loads(failures[0].raw)["failed_at"] == "2026/01/01 00:00:42 UTC"  # simulated time on the clock


def test_a_retry_without_delay_is_pushed_at_once() -> None:
    jobs = one_job_class(failure={"probability": 1, "retry": {"max": 1}})
    scenario = make_scenario(arrivals=[burst("1s")], jobs=jobs, workers=[pool(interval="instant")])
    frame = jobs_frame(run(scenario))
    assert frame[["attempt", "enqueued_at", "started_at", "outcome"]].values.tolist() == [
        [1, 1.0, 1.0, "retried"],
        [2, 3.0, 3.0, "failed"],
    ]


def test_retry_jitter_comes_from_the_attempts_draw() -> None:
    jobs = one_job_class(failure={"probability": 1, "retry": {"max": 1, "base": "100s", "jitter": 0.5}})
    scenario = make_scenario(
        duration="1h", arrivals=[burst("0s", size=20)], jobs=jobs, workers=[pool(count=20, interval="instant")]
    )
    frame = jobs_frame(run(scenario))
    retries = frame[frame["attempt"] == 2]["enqueued_at"]
    # due between 2 + 50 and 2 + 150 s, released on the scheduler's 5 s grid
    assert retries.between(50.0, 155.0).all()
    assert retries.nunique() > 5
    assert retries.tolist() == jobs_frame(run(scenario))[frame["attempt"] == 2]["enqueued_at"].tolist()


def test_the_store_agrees_with_the_records() -> None:
    jobs = one_job_class(
        {"dist": "exponential", "mean": "1s"},
        failure={"probability": 0.2, "exceptions": {"IOError": 1}, "retry": {"max": 1, "base": "5s"}},
    )
    scenario = make_scenario(
        duration="5m",
        arrivals=[{"name": "load", "process": {"type": "poisson", "rate": "3/s"}}],
        jobs=jobs,
        workers=[pool(count=2)],
    )
    simulation = Simulation(scenario, 0, Backend("memory"), None)
    stats = run_stats(simulation.run())
    store = simulation.store
    assert stats.enqueued == stats.completed + stats.failed + stats.pending_at_end
    finished = stats.completed + stats.failed
    assert store.stat("processed") == finished
    # retried attempts raised too, but the plugin swallowed them: Resque counts only the final failures
    assert store.stat("failed") == stats.failed - stats.retried == simulation.resque.failures.count()
    assert stats.retried > 0
    working = sum(1 for record in store.working_on(store.worker_ids()).values() if record)
    assert store.queue_size("default") + working == stats.pending_at_end
    assert store.queue_size("default") > 0  # two workers cannot keep up: the check is not vacuous


def test_workers_register_and_heartbeat_in_simulated_time() -> None:
    simulation = Simulation(make_scenario(duration="10m", workers=[pool(count=3)]), 0, Backend("memory"), None)
    simulation.run()
    store = simulation.store
    assert len(store.worker_ids()) == 3
    assert all(worker.startswith("sim:") for worker in store.worker_ids())
    assert set(store.heartbeats().values()) == {"2026-01-01T00:09:00+00:00"}  # every 60 s; the run ends at 600


def test_the_clock_reads_simulated_time_and_refuses_to_sleep() -> None:
    simulation = Simulation(make_scenario(), 0, Backend("memory"), None)
    clock = simulation.clock
    assert isinstance(clock, SimClock)
    assert clock.time() == EPOCH
    with pytest.raises(RuntimeError, match="sleep"):
        clock.sleep(1)


def test_replications_use_consecutive_seeds_and_differ() -> None:
    scenario = make_scenario(duration="2m", seed=5)
    first, second = run(scenario, 0), run(scenario, 1)
    assert (first.seed, second.seed) == (5, 6)
    assert not np.array_equal(first.jobs["enqueued_at"], second.jobs["enqueued_at"])
    assert np.array_equal(first.jobs["enqueued_at"], run(scenario, 0).jobs["enqueued_at"])
