"""Timing: each run's perform time lands in its class's histogram, and optionally in a statsd timer,
recorded from the job events in the worker's process: step by step, inline, and by a forked worker."""

from __future__ import annotations

import time
from typing import Any

import pytest

import resque_impl
import resque_impl.default
from resque_impl import DontPerform, Job, Resque
from resque_impl.default import current
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventLog
from resque_impl.plugins import Timing, bucket_label
from resque_impl.testing import inline_mode
from resque_impl.testing.redis_server import RedisServer
from resque_impl.worker import Worker, WorkerOptions


class Recorder:
    def __init__(self) -> None:
        self.timers: list[tuple[str, float]] = []

    def timing(self, name: str, milliseconds: float) -> None:
        self.timers.append((name, milliseconds))


class TimedReport(Timing, Job):
    queue = "reports"
    name = "Reports::Monthly"

    @classmethod
    def perform(cls, seconds: float) -> None:
        current().clock.sleep(seconds)  # the manual clock: time passes at once
        if seconds > 100:
            raise TimeoutError("too slow")


class SkippedReport(Timing, Job):
    queue = "reports"

    @classmethod
    def before_perform_skip(cls, *args: Any) -> None:
        raise DontPerform

    @classmethod
    def perform(cls, *args: Any) -> None:
        return None


class SleepyReport(Timing, Job):
    """Sleeps for real: run by a forked worker, on the system clock."""

    queue = "sleepy"

    @classmethod
    def perform(cls, seconds: float) -> None:
        time.sleep(seconds)


def work_off(r: Resque, queue: str) -> list[str]:
    """Run the jobs of ``queue`` with a worker's steps (reserve, perform, done) until it is empty."""
    worker = Worker([queue], resque=r, options=WorkerOptions(fork_per_job=False))
    outcomes = []
    job = worker.reserve()
    while job is not None:
        outcome = worker.perform(job)
        outcomes.append(outcome.status)
        job = worker.done(job, outcome, reserve_next=True)
    return outcomes


def test_each_run_is_counted_in_its_bucket(r: Resque) -> None:
    for seconds in (0.3, 0.4, 2.0, 7200):
        r.enqueue(TimedReport, seconds)
    assert work_off(r, "reports") == ["performed", "performed", "performed", "failed"]

    histogram = r.store.durations()["Reports::Monthly"]
    assert histogram["le:0.5"] == "2"
    assert histogram["le:2.5"] == "1"
    assert histogram["le:+Inf"] == "1"
    assert histogram["count"] == "4"
    assert float(histogram["sum"]) == pytest.approx(7202.7)


def test_timers_go_to_statsd_when_configured(r: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(TimedReport, "timing_statsd", recorder)
    r.enqueue(TimedReport, 1.5)
    work_off(r, "reports")
    assert recorder.timers == [("jobs.Reports::Monthly.duration", pytest.approx(1500.0))]


def test_a_run_skipped_by_a_hook_is_not_timed(r: Resque) -> None:
    r.enqueue(SkippedReport)
    assert work_off(r, "reports") == ["skipped"]
    assert "SkippedReport" not in r.store.durations()


def test_many_workers_on_one_resque_record_each_run_once(r: Resque) -> None:
    Worker(["reports"], resque=r)  # each worker attaches the recorder; the bus keeps one
    r.enqueue(TimedReport, 0.3)
    work_off(r, "reports")
    assert r.store.durations()["Reports::Monthly"]["count"] == "1"


def test_inline_mode_records_each_run_as_a_worker_would() -> None:
    recorder = Recorder()
    with inline_mode(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimedReport, "timing_statsd", recorder)
        resque_impl.enqueue(TimedReport, 0.3)
        resque_impl.enqueue(TimedReport, 2.0)
        histogram = current().store.durations()["Reports::Monthly"]
    assert (histogram["le:0.5"], histogram["le:2.5"], histogram["count"]) == ("1", "1", "2")
    assert float(histogram["sum"]) == pytest.approx(2.3)
    assert recorder.timers == [
        ("jobs.Reports::Monthly.duration", pytest.approx(300.0)),
        ("jobs.Reports::Monthly.duration", pytest.approx(2000.0)),
    ]


def test_a_forked_worker_records_the_childs_perform_time_in_its_own_process(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = redis_server.client()
    server.flushall()
    resque = Resque(redis_server.url)
    monkeypatch.setattr(resque_impl.default, "_current", resque)
    recorder = Recorder()  # lives in this process: it hears only what the worker's process records
    monkeypatch.setattr(SleepyReport, "timing_statsd", recorder)
    finished = EventLog()
    resque.events.subscribe(JOB_FINISHED, finished)
    resque.enqueue(SleepyReport, 0.05)
    resque.enqueue(SleepyReport, 0.3)

    assert Worker(["sleepy"], resque=resque, options=WorkerOptions(fork_per_job=True)).work(burst=True) == 0

    perform_times = [event.measurements["perform_time"] for event in finished.events]
    assert perform_times[0] >= 0.05
    assert perform_times[1] >= 0.3
    histogram = resque.store.durations()["SleepyReport"]
    assert histogram["count"] == "2"
    assert float(histogram["sum"]) == pytest.approx(sum(perform_times))
    for seconds in perform_times:  # each run in the bucket of the time its child measured
        assert int(histogram[bucket_label(seconds)]) >= 1
    assert [name for name, _ in recorder.timers] == ["jobs.SleepyReport.duration"] * 2
    # The fork, the child's report and the acknowledgement are in run_time only.
    assert all(e.measurements["run_time"] > e.measurements["perform_time"] for e in finished.events)


def test_a_child_killed_before_it_reported_is_not_timed(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_server.client().flushall()
    resque = Resque(redis_server.url)
    monkeypatch.setattr(resque_impl.default, "_current", resque)
    failed = EventLog()
    resque.events.subscribe(JOB_FAILED, failed)
    resque.enqueue(SleepyReport, 30)

    options = WorkerOptions(fork_per_job=True, job_timeout=0.3)
    assert Worker(["sleepy"], resque=resque, options=options).work(burst=True) == 0

    (event,) = failed.events
    assert event.metadata["exception"] == "Resque::JobTimeoutError"
    assert "perform_time" not in event.measurements
    assert "SleepyReport" not in resque.store.durations()


@pytest.mark.parametrize(
    ("seconds", "label"), [(0.0, "le:0.005"), (0.005, "le:0.005"), (1.0, "le:1.0"), (1e9, "le:+Inf")]
)
def test_bucket_labels(seconds: float, label: str) -> None:
    assert bucket_label(seconds) == label
