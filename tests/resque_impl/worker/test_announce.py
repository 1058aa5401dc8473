"""What workers, clients and the scheduler announce on the job-event stream, on fakeredis, a real
redis-server and the in-memory twin."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.events import ALL_EVENTS, EventLog
from resque_impl.scheduler import MasterLock, Scheduler, parse_schedule
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker, WorkerOptions

registry = Registry()


@job(queue="ann", registry=registry, name="AnnOk")
class AnnOk:
    @staticmethod
    def perform(*args: Any) -> None:
        return None


class AnnError(Exception):
    pass


@job(queue="ann", registry=registry, name="AnnBoom")
class AnnBoom:
    @staticmethod
    def perform(*args: Any) -> None:
        raise AnnError("no")


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    if isinstance(store, MemoryStore):
        store.clock = clock
    return Resque(store=store, clock=clock, registry=registry)


@pytest.fixture
def events(resque: Resque) -> EventLog:
    log = EventLog()
    resque.events.subscribe(ALL_EVENTS, log)
    return log


def make_worker(resque: Resque, **options: Any) -> Worker:
    return Worker(["ann"], resque=resque, options=WorkerOptions(**options), hostname="h", pid=1, local_pids=set)


def test_enqueue_announces_the_class_queue_and_count(resque: Resque, events: EventLog) -> None:
    resque.enqueue(AnnOk, 1)
    resque.enqueue_many(AnnOk, [(1,), (2,)], queue="bulk")
    assert [(e.name, dict(e.measurements), dict(e.metadata)) for e in events.events] == [
        ("job.enqueued", {"count": 1}, {"class": "AnnOk", "queue": "ann"}),
        ("job.enqueued", {"count": 2}, {"class": "AnnOk", "queue": "bulk"}),
    ]


def test_a_job_run_by_the_steps_is_reserved_started_then_finished(resque: Resque, events: EventLog) -> None:
    resque.enqueue(AnnOk, 1)
    worker = make_worker(resque)
    job_ = worker.reserve()
    assert job_ is not None
    worker.done(job_, worker.perform(job_))
    assert events.names() == ["job.enqueued", "job.reserved", "job.started", "job.finished"]
    finished = events.events[-1]
    assert dict(finished.metadata) == {"class": "AnnOk", "queue": "ann", "worker": "h:1:ann", "status": "performed"}
    assert finished.measurements["run_time"] >= 0


def test_a_failed_job_is_announced_with_its_exception(resque: Resque, events: EventLog) -> None:
    resque.enqueue(AnnBoom)
    worker = make_worker(resque)
    job_ = worker.reserve()
    assert job_ is not None
    worker.done(job_, worker.perform(job_))
    failed = events.events[-1]
    assert failed.name == "job.failed"
    assert (failed.metadata["exception"], failed.metadata["error"]) == ("AnnError", "no")


def test_the_wait_is_measured_from_enqueued_at_when_payloads_carry_it(store: Any, clock: ManualClock) -> None:
    if isinstance(store, MemoryStore):
        store.clock = clock
    resque = Resque(store=store, clock=clock, registry=registry, enqueued_at=True)
    seen = EventLog()
    resque.events.subscribe("job.reserved", seen)
    resque.enqueue(AnnOk)
    clock.advance(2.5)
    make_worker(resque).reserve()
    assert seen.events[0].measurements == {"wait": 2.5}


def test_a_burst_of_forked_jobs_is_announced_in_the_worker_process(resque: Resque, events: EventLog) -> None:
    resque.enqueue(AnnOk)
    resque.enqueue(AnnBoom)
    assert make_worker(resque, fork_per_job=True).work(burst=True) == 0
    assert events.names() == [
        "job.enqueued",
        "job.enqueued",
        "job.reserved",
        "job.started",
        "job.finished",
        "job.reserved",
        "job.started",
        "job.failed",
        "worker.stopped",
    ]


def test_the_in_flight_jobs_of_a_dead_worker_are_announced_as_recovered(resque: Resque, events: EventLog) -> None:
    resque.enqueue(AnnOk)
    dead = make_worker(resque)
    dead.register()
    assert dead.reserve() is not None
    make_worker(resque).retire(dead.id)
    recovered = events.events[-1]
    assert (recovered.name, dict(recovered.measurements)) == ("job.recovered", {"count": 1})
    assert recovered.metadata["worker"] == "h:1:ann"


def test_the_scheduler_announces_how_many_delayed_jobs_it_moved(resque: Resque, clock: ManualClock) -> None:
    seen = EventLog()
    resque.events.subscribe("job.scheduled", seen)
    resque.enqueue_in_with_queue("work", 3, "DelayedJob", 1)
    resque.enqueue_in_with_queue("work", 3, "DelayedJob", 2)
    process = Scheduler(resque, parse_schedule({}), lock=MasterLock(resque.store, identity="s:1"))
    clock.advance(3)
    process.poll()
    assert [(e.measurements, e.metadata) for e in seen.events] == [({"count": 2}, {"scheduler": "s:1"})]
