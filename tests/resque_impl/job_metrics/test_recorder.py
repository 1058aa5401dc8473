"""The job-metrics subscriber: what a worker's jobs leave in the minute and day hashes, on fakeredis, a
real redis-server and the in-memory twin."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.events import JOB_FAILED, JOB_FINISHED, WORKER_STOPPED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerOptions

registry = Registry()


@job(queue="jm", registry=registry, name="Jm::Ok")
class JmOk:
    @staticmethod
    def perform(*args: Any) -> None:
        return None


@job(queue="jm", registry=registry, name="Jm::Boom")
class JmBoom:
    @staticmethod
    def perform(*args: Any) -> None:
        raise ValueError("no")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


def minute_and_day(resque: Resque) -> tuple[dict[str, str], dict[str, str]]:
    # The fixture clock reads 2026-11-27 23:43:29 UTC.
    keys = resque.keys
    minute, day = resque.store.read_hashes([keys.job_metrics_minute("202611272343"), keys.job_metrics_day("20261127")])
    return minute, day


def finished(bus: EventBus, name: str, run_time: float, *, failed: bool = False) -> None:
    bus.emit(JOB_FAILED if failed else JOB_FINISHED, {"run_time": run_time}, {"class": name})


def test_a_burst_worker_records_each_class_in_the_minute_and_day_hashes(resque: Resque) -> None:
    resque.enqueue(JmOk)
    resque.enqueue(JmOk)
    resque.enqueue(JmBoom)
    worker = Worker(["jm"], resque=resque, options=WorkerOptions(fork_per_job=False), hostname="h", pid=1)
    assert worker.work(burst=True) == 0

    minute, day = minute_and_day(resque)
    assert minute == day
    assert resque.store.read_hashes([resque.keys.job_metrics_block("20261127234")]) == [minute]  # 23:40-23:49
    assert {k: v for k, v in minute.items() if not k.startswith(("seconds:", "le="))} == {
        "v": "1",
        "processed": "3",
        "failed": "1",
        "executions:Jm::Ok": "2",
        "executions:Jm::Boom": "1",
        "failures:Jm::Boom": "1",
    }
    buckets = {k: v for k, v in minute.items() if k.startswith("le=")}
    assert sum(int(v) for k, v in buckets.items() if k.endswith(":Jm::Ok")) == 2
    assert float(minute["seconds:Jm::Ok"]) >= 0


def test_a_worker_with_job_metrics_off_records_nothing(resque: Resque) -> None:
    resque.enqueue(JmOk)
    worker = Worker(["jm"], resque=resque, options=WorkerOptions(fork_per_job=False, job_metrics=False))
    assert worker.work(burst=True) == 0
    assert minute_and_day(resque) == ({}, {})


def test_run_times_fall_in_log_spaced_buckets_and_sum_up(resque: Resque, clock: ManualClock) -> None:
    bus = EventBus()
    JobMetricsRecorder(resque.store, clock).attach(bus)
    finished(bus, "A", 0.004)
    finished(bus, "A", 0.2)
    finished(bus, "A", 5000.0, failed=True)
    bus.emit(WORKER_STOPPED, {}, {})

    minute, _ = minute_and_day(resque)
    assert (minute["le=0.005:A"], minute["le=0.25:A"], minute["le=+Inf:A"]) == ("1", "1", "1")
    assert float(minute["seconds:A"]) == pytest.approx(5000.204)


def test_counts_wait_in_memory_until_the_flush_interval_passes(resque: Resque, clock: ManualClock) -> None:
    bus = EventBus()
    JobMetricsRecorder(resque.store, clock, flush_interval=5).attach(bus)
    finished(bus, "A", 0.1)
    assert minute_and_day(resque) == ({}, {})
    clock.advance(5)
    finished(bus, "A", 0.1)
    assert minute_and_day(resque)[0]["processed"] == "2"


def test_jobs_in_different_minutes_go_to_different_hashes_and_one_day(resque: Resque, clock: ManualClock) -> None:
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock).attach(bus)
    finished(bus, "A", 0.1)
    clock.advance(60)
    finished(bus, "A", 0.1)
    recorder.detach()

    keys = resque.keys
    first, second, day = resque.store.read_hashes(
        [
            keys.job_metrics_minute("202611272343"),
            keys.job_metrics_minute("202611272344"),
            keys.job_metrics_day("20261127"),
        ]
    )
    assert (first["processed"], second["processed"], day["processed"]) == ("1", "1", "2")


def test_counts_are_kept_while_redis_is_unreachable(resque: Resque, clock: ManualClock) -> None:
    nowhere = Resque("redis://127.0.0.1:1/0", socket_timeout=0.5).store  # nothing listens on port 1
    recorder = JobMetricsRecorder(nowhere, clock)
    bus = EventBus()
    recorder.attach(bus)
    finished(bus, "A", 0.1)
    bus.emit(WORKER_STOPPED, {}, {})
    assert bus.listening(JOB_FINISHED)  # it did not raise, so it stays subscribed
    recorder.store = resque.store
    recorder.flush()
    assert minute_and_day(resque)[0]["processed"] == "1"
