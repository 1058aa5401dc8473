"""StatsdEvents: the job-event stream's counters and timers arrive at a real UDP socket."""

from __future__ import annotations

import re
import socket

import pytest

from resque_impl import Registry, Resque, job
from resque_impl.events import ALL_EVENTS
from resque_impl.metrics import StatsdClient, StatsdEvents
from resque_impl.store.memory import MemoryStore
from resque_impl.worker import Worker
from tests.resque_impl.metrics.conftest import received


def work_off(resque: Resque) -> None:
    worker = Worker(["mail"], resque=resque)
    reserved = worker.reserve()
    while reserved is not None:
        reserved = worker.done(reserved, worker.perform(reserved), reserve_next=True)


@pytest.fixture
def resque() -> Resque:
    registry = Registry()

    @job(queue="mail", registry=registry, name="Mail::Send")
    class SendMail:
        @staticmethod
        def perform(address: str) -> None:
            if "@" not in address:
                raise ValueError(address)

    return Resque(store=MemoryStore(), registry=registry, enqueued_at=True)


def test_jobs_pushed_and_run_become_counters_and_timers(resque: Resque, listener: socket.socket) -> None:
    resque.events.subscribe(ALL_EVENTS, StatsdEvents(StatsdClient(*listener.getsockname(), prefix="app")))
    resque.enqueue_many("Mail::Send", [["a@x"], ["nobody"]])
    work_off(resque)
    resque.failures.requeue(resque.failures.all(0, 1)[0])

    lines = received(listener)
    timers = [line for line in lines if line.endswith("|ms")]
    counters = [line for line in lines if not line.endswith("|ms")]
    assert counters == [
        "app.jobs.enqueued:2|c",
        "app.queues.mail.enqueued:2|c",
        "app.jobs.Mail__Send.performed:1|c",
        "app.jobs.Mail__Send.failed:1|c",
        "app.jobs.Mail__Send.retried:1|c",
    ]
    names = [re.sub(r":[0-9.]+\|ms$", "", line) for line in timers]
    assert names == ["app.queues.mail.wait", "app.jobs.Mail__Send.run_time", "app.jobs.Mail__Send.perform_time"] * 2
