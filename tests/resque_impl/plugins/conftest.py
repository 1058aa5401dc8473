"""Plugins run through the real execution path: reserve (LPOP), ``Execution`` with the queued job,
a failure record on an exception, and the scheduler's move of due delayed jobs."""

from __future__ import annotations

from typing import Any

import pytest

import resque_impl.default
from resque_impl import ManualClock, Resque, decode_payload
from resque_impl.hooks import Execution
from resque_impl.job import QueuedJob


@pytest.fixture
def r(store: Any, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> Resque:
    """A Resque on each kind of store, made the process default that plugins use."""
    instance = Resque(store=store, clock=clock)
    monkeypatch.setattr(resque_impl.default, "_current", instance)
    return instance


def work_one(r: Resque, queue: str) -> str | None:
    """Reserve and run the next job of ``queue`` as a no-fork worker does; returns ``"performed"``,
    ``"skipped"`` or ``"failed"`` (``None`` if the queue is empty)."""
    head = r.peek_raw(queue, 0, 1)
    if not head or not r.store.remove_from_queue(queue, head[0]):
        return None
    payload = decode_payload(head[0])
    job_class = r.registry.resolve(payload.class_name)
    try:
        performed = Execution(job_class, payload.args, job=QueuedJob(queue, payload)).perform()
    except Exception as error:
        r.record_failure(queue, payload, error, worker="test:1:" + queue)
        return "failed"
    return "performed" if performed else "skipped"


def work_off(r: Resque, queue: str) -> list[str]:
    """Run jobs from ``queue`` until it is empty."""
    outcomes = []
    while (outcome := work_one(r, queue)) is not None:
        outcomes.append(outcome)
    return outcomes
