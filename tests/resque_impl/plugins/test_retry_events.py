"""A retry decided by the Retry plugin is announced as ``job.retried``, to the subscribers of the
worker's process, before the run's ``job.finished``: in the worker's thread, and from a forked child."""

from __future__ import annotations

from typing import Any

import pytest

import resque_impl.default
from resque_impl import Job, ManualClock, Resque
from resque_impl.events import JOB_FINISHED, JOB_RETRIED, EventLog
from resque_impl.plugins import Retry
from resque_impl.store.memory import MemoryStore
from resque_impl.testing.redis_server import RedisServer
from resque_impl.worker import Worker, WorkerOptions


class RetriedFeed(Retry, Job):
    queue = "feeds"
    retry_limit = 2
    retry_delay = 10

    @staticmethod
    def perform(reachable: bool) -> None:
        if not reachable:
            raise ConnectionError("feed unreachable")


def announced(log: EventLog) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [(e.name, dict(e.measurements), dict(e.metadata)) for e in log.events]


RETRIED = (
    JOB_RETRIED,
    {"count": 1, "delay": 10.0},
    {
        "class": "RetriedFeed",
        "queue": "feeds",
        "source": "retry_plugin",
        "attempt": 1,
        "exception": "ConnectionError",
        "error": "feed unreachable",
    },
)


def test_a_retry_is_announced_before_the_run_ends(
    store: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if isinstance(store, MemoryStore):
        store.clock = clock
    resque = Resque(store=store, clock=clock)
    monkeypatch.setattr(resque_impl.default, "_current", resque)
    log = EventLog()
    resque.events.subscribe((JOB_RETRIED, JOB_FINISHED), log)
    resque.enqueue(RetriedFeed, False)

    assert Worker(["feeds"], resque=resque, options=WorkerOptions(fork_per_job=False)).work(burst=True) == 0

    assert [name for name, _, _ in announced(log)] == [JOB_RETRIED, JOB_FINISHED]
    assert announced(log)[0] == RETRIED
    assert [job.payload.extras for job in resque.find_delayed()] == [{"retry_attempt": 1}]


def test_a_retry_decided_in_a_forked_child_reaches_the_workers_subscribers(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    redis_server.client().flushall()
    resque = Resque(redis_server.url)
    monkeypatch.setattr(resque_impl.default, "_current", resque)
    log = EventLog()  # in this (the worker's) process: it hears only what reaches the parent
    resque.events.subscribe((JOB_RETRIED, JOB_FINISHED), log)
    resque.enqueue(RetriedFeed, False)
    resque.enqueue(RetriedFeed, True)  # succeeds: its short report carries no events

    assert Worker(["feeds"], resque=resque, options=WorkerOptions(fork_per_job=True)).work(burst=True) == 0

    assert [name for name, _, _ in announced(log)] == [JOB_RETRIED, JOB_FINISHED, JOB_FINISHED]
    assert announced(log)[0] == RETRIED
    assert all("perform_time" in e.measurements for e in log.events if e.name == JOB_FINISHED)
    assert resque.count_all_scheduled_jobs() == 1
