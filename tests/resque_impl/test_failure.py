"""Failure records and backends: Ruby's format, and actions that never hit the wrong record."""

from __future__ import annotations

import json
from typing import Any

import pytest

from resque_impl import (
    FailureNotFoundError,
    FailureRecord,
    ManualClock,
    MultipleBackend,
    RedisMultiQueueBackend,
    Resque,
)
from resque_impl.codec import Payload
from resque_impl.errors import DirtyExit
from resque_impl.events import JOB_RETRIED, Event, EventLog
from resque_impl.failure import build_record, format_backtrace


def _raise(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


@pytest.fixture
def resque(store: Any, clock: ManualClock) -> Resque:
    """Failure tests run on fakeredis, a real server and the memory store."""
    return Resque(store=store, clock=clock)


def fail(resque: Resque, queue: str, class_name: str, *args: Any, error: str = "boom") -> None:
    resque.record_failure(queue, Payload(class_name, list(args)), _raise(ValueError(error)), worker="host:1:q")


def test_records_have_rubys_fields_in_rubys_order() -> None:
    raw = build_record({"class": "J", "args": [1]}, _raise(DirtyExit("gone")), worker="w", queue="q", now=0)
    data = json.loads(raw)
    assert list(data) == ["failed_at", "payload", "exception", "error", "backtrace", "worker", "queue"]
    assert data["failed_at"] == "1970/01/01 00:00:00 UTC"
    assert data["exception"] == "Resque::DirtyExit"


def test_backtraces_read_like_rubys_innermost_first() -> None:
    def inner() -> None:
        raise KeyError("x")

    def outer() -> None:
        inner()

    error: BaseException | None = None
    try:
        outer()
    except KeyError as caught:
        error = caught
    assert error is not None
    lines = format_backtrace(error)
    assert lines[0].endswith(":in `inner'")
    assert lines[1].endswith(":in `outer'")
    assert ".py:" in lines[0]


def test_a_hostile_exception_is_recorded_safely() -> None:
    class Hostile(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    data = json.loads(build_record({}, Hostile(), worker="w", queue="q", now=0))
    assert data["error"] == "<unprintable Hostile: str() raised RuntimeError>"


def test_an_exception_whose_str_raises_system_exit_is_recorded_safely() -> None:
    class Hostile(Exception):
        def __str__(self) -> str:
            raise SystemExit(3)

    data = json.loads(build_record({}, Hostile(), worker="w", queue="q", now=0))
    assert data["error"] == "<unprintable Hostile: str() raised SystemExit>"


def test_text_utf8_cannot_carry_is_recorded_with_escapes() -> None:
    raw = build_record({}, ValueError("bad \ud800 text"), worker="w", queue="q\udc80", now=0)
    data = json.loads(raw)
    assert (data["error"], data["queue"]) == ("bad \\ud800 text", "q\\udc80")


def test_huge_messages_are_cut() -> None:
    data = json.loads(build_record({}, ValueError("x" * 10_000_000), worker="w", queue="q", now=0))
    assert len(data["error"]) < 70_000
    assert data["error"].endswith("more characters cut]")


def test_all_reads_oldest_first_and_each_newest_first(resque: Resque) -> None:
    for n in range(5):
        fail(resque, "q", "J", n)
    assert [record.args for record in resque.failures.all(1, 2)] == [[1], [2]]
    assert [record.args for record in resque.failures.each(0, 3)] == [[4], [3], [2]]
    assert resque.failures.count() == 5


def test_each_filters_by_queue_and_class_then_pages(resque: Resque) -> None:
    fail(resque, "a", "X", 1)
    fail(resque, "b", "X", 2)
    fail(resque, "a", "Y", 3)
    fail(resque, "a", "X", 4)
    assert [r.args for r in resque.failures.each(queue="a", class_name="X")] == [[4], [1]]
    assert [r.args for r in resque.failures.each(1, 1, queue="a")] == [[3]]
    assert resque.failures.count(class_name="X") == 3


def test_a_record_id_is_stable_while_others_are_removed(resque: Resque) -> None:
    for n in range(3):
        fail(resque, "q", "J", n)
    target = resque.failures.all(2, 1)[0]
    resque.failures.remove(resque.failures.all(0, 1)[0].id)  # someone else removes an older record
    resque.failures.remove(target.id)
    assert [record.args for record in resque.failures.all()] == [[1]]


def test_acting_on_a_record_that_is_gone_raises(resque: Resque) -> None:
    fail(resque, "q", "J", 1)
    (record,) = resque.failures.all()
    resque.failures.remove(record)
    with pytest.raises(FailureNotFoundError):
        resque.failures.remove(record)
    with pytest.raises(FailureNotFoundError):
        resque.failures.requeue(record.id)
    with pytest.raises(FailureNotFoundError, match="not a failure record id"):
        resque.failures.get("nonsense")
    with pytest.raises(FailureNotFoundError, match="no failure record at index 0"):
        resque.failures.get(0)


def test_requeue_marks_the_record_and_pushes_the_job(resque: Resque, clock: ManualClock) -> None:
    fail(resque, "q", "J", 1)
    clock.advance(60)
    resque.failures.requeue(0)
    (record,) = resque.failures.all()
    assert record.retried_at == "2026/11/27 23:44:29 UTC"
    assert resque.peek_raw("q") == [b'{"class":"J","args":[1]}']


def test_requeue_to_another_queue(resque: Resque) -> None:
    fail(resque, "q", "J", 1)
    resque.failures.requeue(0, queue="other")
    assert resque.size("other") == 1


def test_retry_and_remove_pushes_and_deletes(resque: Resque) -> None:
    fail(resque, "q", "J", 1)
    resque.failures.retry_and_remove(resque.failures.all()[0])
    assert resque.failures.count() == 0
    assert resque.size("q") == 1


def test_bulk_actions_by_queue(resque: Resque) -> None:
    fail(resque, "a", "J", 1)
    fail(resque, "b", "J", 2)
    fail(resque, "a", "J", 3)
    assert resque.failures.requeue_queue("a") == 2
    assert resque.size("a") == 2
    assert resque.failures.clear_retried() == 2
    assert [record.queue for record in resque.failures.all()] == ["b"]
    assert resque.failures.remove_queue("b") == 1
    assert resque.failures.count() == 0


def test_requeue_all_and_clear(resque: Resque) -> None:
    fail(resque, "a", "J", 1)
    fail(resque, "b", "J", 2)
    assert resque.failures.requeue_all() == 2
    assert resque.size("a") + resque.size("b") == 2
    resque.failures.clear()
    assert resque.failures.count() == 0


def test_an_unreadable_record_is_shown_not_fatal() -> None:
    record = FailureRecord.read("failed", 0, b"\xff")
    assert record.error == "unreadable failure record"
    assert record.class_name is None


def test_the_multi_queue_backend_keeps_a_list_per_queue(store: Any, clock: ManualClock, namespace: str) -> None:
    resque = Resque(store=store, clock=clock, failure_backend="redis_multi_queue")
    assert isinstance(resque.failures, RedisMultiQueueBackend)
    fail(resque, "critical", "J", 1)
    fail(resque, "email", "J", 2)
    fail(resque, "critical", "J", 3)
    assert resque.failures.queues() == ["critical_failed", "email_failed"]
    assert store.failure_count(f"{namespace}:critical_failed") == 2
    assert resque.failures.count() == 3
    assert [r.args for r in resque.failures.each(queue="critical")] == [[3], [1]]
    record = resque.failures.all(2, 1)[0]
    assert record.list_name == "email_failed"
    resque.failures.retry_and_remove(record.id)
    assert resque.size("email") == 1
    assert resque.failures.remove_queue("critical") == 2
    assert resque.failures.count() == 0
    assert resque.failures.queues() == ["email_failed"]  # emptied, not removed: as in Ruby


def test_multi_queue_each_takes_its_window_before_the_class_filter_like_ruby(store: Any, clock: ManualClock) -> None:
    # Ruby's RedisMultiQueue.each: all(offset, limit, queue), reversed for 'desc', then the class filter.
    resque = Resque(store=store, clock=clock, failure_backend="redis_multi_queue")
    for number, class_name in enumerate(["A", "B", "A", "B", "A", "B"]):
        fail(resque, "queue1", class_name, number)
    assert [r.args for r in resque.failures.each(0, 4, queue="queue1", class_name="A")] == [[2], [0]]
    assert [r.args for r in resque.failures.each(1, 3, queue="queue1")] == [[3], [2], [1]]
    assert [r.args for r in resque.failures.each(1, 3, queue="queue1", newest_first=False)] == [[1], [2], [3]]
    assert [r.index for r in resque.failures.each(4, None, queue="queue1")] == [5, 4]
    assert resque.failures.count("queue1", "A") == 3


class Collected:
    def __init__(self) -> None:
        self.saved: list[tuple[bytes, str]] = []

    def save(self, record: bytes, queue: str) -> None:
        self.saved.append((record, queue))


def test_multiple_saves_everywhere_and_reads_from_the_first(store: Any, clock: ManualClock) -> None:
    tracker = Collected()
    resque = Resque(store=store, clock=clock, failure_backend=["redis", tracker])
    assert isinstance(resque.failures, MultipleBackend)
    fail(resque, "q", "J", 1)
    assert resque.failures.count() == 1
    assert tracker.saved == [(resque.failures.all()[0].raw, "q")]


def test_a_retry_from_the_failure_list_is_announced_as_job_retried(resque: Resque) -> None:
    log = EventLog()
    resque.events.subscribe(JOB_RETRIED, log)
    fail(resque, "mail", "SendMail", 1)
    fail(resque, "mail", "SendMail", 2)
    first, second = resque.failures.all(0, 2)

    resque.failures.requeue(first, "retry")
    resque.failures.retry_and_remove(second)

    assert log.events == [
        Event(
            JOB_RETRIED,
            {"count": 1},
            {"class": "SendMail", "queue": "retry", "source": "failure_list", "failed_queue": "mail", "removed": False},
        ),
        Event(
            JOB_RETRIED,
            {"count": 1},
            {"class": "SendMail", "queue": "mail", "source": "failure_list", "failed_queue": "mail", "removed": True},
        ),
    ]


def test_removing_a_failure_announces_no_retry(resque: Resque) -> None:
    log = EventLog()
    resque.events.subscribe(JOB_RETRIED, log)
    fail(resque, "mail", "SendMail", 1)
    resque.failures.remove(resque.failures.all(0, 1)[0])
    assert log.events == []
