"""Inline mode: enqueue performs the job at once, as production would run it, with every hook."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, ClassVar

import pytest

import resque_impl
from resque_impl import DontPerform, Job, NotSerializableError, Resque
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventLog
from resque_impl.testing import InlineDepthError, inline_mode

#: Built at import time, as applications do; nothing may reach this address.
APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class InlineRecorder(Job):
    """Records every hook and perform call, in order."""

    queue = "inline"
    calls: ClassVar[list[tuple[str, tuple[Any, ...]]]] = []

    @classmethod
    def before_enqueue_record(cls, *args: Any) -> bool:
        cls.calls.append(("before_enqueue", args))
        return args != ("veto",)

    @classmethod
    def after_enqueue_record(cls, *args: Any) -> None:
        cls.calls.append(("after_enqueue", args))

    @classmethod
    def before_perform_record(cls, *args: Any) -> None:
        cls.calls.append(("before_perform", args))
        if args == ("skip",):
            raise DontPerform

    @classmethod
    def around_perform_record(cls, *args: Any) -> Iterator[None]:
        cls.calls.append(("around_perform:enter", args))
        yield
        cls.calls.append(("around_perform:exit", args))

    @classmethod
    def after_perform_record(cls, *args: Any) -> None:
        cls.calls.append(("after_perform", args))

    @classmethod
    def on_failure_record(cls, error: BaseException, *args: Any) -> None:
        cls.calls.append(("on_failure", (type(error).__name__, *args)))

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.calls.append(("perform", args))
        if args == ("fail",):
            raise ValueError("inline failure")


@pytest.fixture(autouse=True)
def _forget_calls() -> None:
    InlineRecorder.calls.clear()


def test_enqueue_performs_with_every_hook_in_resque_order() -> None:
    with inline_mode():
        assert APP_RESQUE.enqueue(InlineRecorder, 1) is True
    assert [name for name, _ in InlineRecorder.calls] == [
        "before_enqueue",
        "before_perform",
        "around_perform:enter",
        "perform",
        "around_perform:exit",
        "after_perform",
        "after_enqueue",
    ]


def test_the_job_receives_its_arguments_after_the_json_round_trip() -> None:
    with inline_mode():
        APP_RESQUE.enqueue(InlineRecorder, (1, 2), {"nested": (3,)})
    assert ("perform", ([1, 2], {"nested": [3]})) in InlineRecorder.calls


def test_an_argument_json_cannot_carry_fails_at_enqueue_with_the_production_error() -> None:
    with inline_mode(), pytest.raises(NotSerializableError, match=r"args\[0\]: datetime is not JSON-serializable"):
        APP_RESQUE.enqueue(InlineRecorder, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert InlineRecorder.calls == []


def test_a_vetoed_job_does_not_run() -> None:
    with inline_mode() as inline:
        assert APP_RESQUE.enqueue(InlineRecorder, "veto") is False
    assert InlineRecorder.calls == [("before_enqueue", ("veto",))]
    assert inline.performed == []


def test_dont_perform_skips_quietly() -> None:
    with inline_mode() as inline:
        APP_RESQUE.enqueue(InlineRecorder, "skip")
    assert [run.status for run in inline.performed] == ["skipped"]
    assert ("perform", ("skip",)) not in InlineRecorder.calls


def test_exceptions_propagate_after_the_failure_hooks_ran() -> None:
    with inline_mode() as inline, pytest.raises(ValueError, match="inline failure"):
        APP_RESQUE.enqueue(InlineRecorder, "fail")
    assert ("on_failure", ("ValueError", "fail")) in InlineRecorder.calls
    assert ("after_enqueue", ("fail",)) not in InlineRecorder.calls
    assert inline.failures == []
    assert [(run.status, run.exception, run.error) for run in inline.performed] == [
        ("failed", "ValueError", "inline failure")
    ]


def test_record_failures_writes_a_failure_record_like_a_worker() -> None:
    with inline_mode(record_failures=True, start=1_795_823_009) as inline:
        assert APP_RESQUE.enqueue(InlineRecorder, "fail") is True
        assert APP_RESQUE.failures.count() == 1
    [record] = inline.failures
    assert (record.exception, record.error, record.queue) == ("ValueError", "inline failure", "inline")
    assert record.payload == {"class": "InlineRecorder", "args": ["fail"]}
    assert record.data["failed_at"] == "2026/11/27 23:43:29 UTC"
    assert ("after_enqueue", ("fail",)) in InlineRecorder.calls


def test_the_module_level_default_runs_inline_too() -> None:
    with inline_mode() as inline:
        resque_impl.enqueue(InlineRecorder, 5)
    inline.assert_performed(InlineRecorder, 5, queue="inline")


def test_enqueue_many_and_push_run_each_job() -> None:
    with inline_mode() as inline:
        assert APP_RESQUE.enqueue_many(InlineRecorder, [(1,), (2,)]) == 2
        APP_RESQUE.push("inline", {"class": "InlineRecorder", "args": [3]})
    assert [run.args for run in inline.performed] == [[1], [2], [3]]


@pytest.mark.filterwarnings("ignore::resque_impl.testing.NotRunInlineWarning")  # see test_production_parity
def test_a_class_only_another_process_knows_is_captured_not_run() -> None:
    with inline_mode() as inline:
        APP_RESQUE.enqueue_to("ruby", "Admin::RubyOnlyJob", 1)
        inline.assert_enqueued("Admin::RubyOnlyJob", 1, queue="ruby")
    assert inline.performed == []


def test_requeueing_a_failure_runs_the_job_again() -> None:
    with inline_mode(record_failures=True) as inline:
        APP_RESQUE.enqueue(InlineRecorder, "fail")
        APP_RESQUE.failures.retry_and_remove(0)
    assert [run.args for run in inline.performed] == [["fail"], ["fail"]]
    assert len(inline.failures) == 1


class SelfEnqueuer(Job):
    queue = "loop"

    @staticmethod
    def perform(depth: int) -> None:
        resque_impl.enqueue(SelfEnqueuer, depth + 1)


def test_a_job_that_enqueues_itself_forever_stops_with_a_clear_error() -> None:
    with inline_mode(max_depth=20) as inline, pytest.raises(InlineDepthError, match="nested 20 deep"):
        resque_impl.enqueue(SelfEnqueuer, 0)
    assert len(inline.performed) == 20


def test_nothing_is_pushed_and_no_queue_is_recorded() -> None:
    with inline_mode() as inline:
        APP_RESQUE.enqueue(InlineRecorder, 1)
        assert APP_RESQUE.queues() == []
    assert inline.jobs() == []


def test_assert_performed_reports_what_ran() -> None:
    with inline_mode() as inline:
        APP_RESQUE.enqueue(InlineRecorder, 1)
        with pytest.raises(AssertionError) as failure:
            inline.assert_performed(InlineRecorder, 2)
    assert "performed (1):" in str(failure.value)
    assert "inline (performed)  InlineRecorder(1)   <- args[0]: 1, expected 2" in str(failure.value)


def test_each_run_is_announced_as_a_worker_announces_it_from_worker_inline() -> None:
    log = EventLog()
    subscription = APP_RESQUE.events.subscribe((JOB_FINISHED, JOB_FAILED), log)
    try:
        with inline_mode(record_failures=True):
            APP_RESQUE.enqueue(InlineRecorder, 1)
            APP_RESQUE.enqueue(InlineRecorder, "skip")
            APP_RESQUE.enqueue(InlineRecorder, "fail")
    finally:
        subscription.detach()
    assert [(e.name, dict(e.metadata)) for e in log.events] == [
        (JOB_FINISHED, {"class": "InlineRecorder", "queue": "inline", "worker": "inline", "status": "performed"}),
        (JOB_FINISHED, {"class": "InlineRecorder", "queue": "inline", "worker": "inline", "status": "skipped"}),
        (
            JOB_FAILED,
            {
                "class": "InlineRecorder",
                "queue": "inline",
                "worker": "inline",
                "status": "failed",
                "exception": "ValueError",
                "error": "inline failure",
            },
        ),
    ]
    # perform_time only where perform was called (not for the run a before_perform hook skipped).
    assert ["perform_time" in e.measurements for e in log.events] == [True, False, True]
    assert all(e.measurements["run_time"] >= e.measurements.get("perform_time", 0.0) for e in log.events)
