"""Virtual time: delayed jobs, retry backoff and recurring schedules fall due as the clock moves."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest

import resque_impl
from resque_impl import Job, Resque
from resque_impl.plugins import Retry, Unique
from resque_impl.testing import SandboxInactiveError, fake_mode, inline_mode

APP_RESQUE = Resque("redis://127.0.0.1:1/0")
#: 2030-01-01 00:00:00 UTC, on the hour so cron ticks are easy to count.
START = datetime(2030, 1, 1, tzinfo=timezone.utc)


class Reminder(Job):
    queue = "reminders"
    sent: ClassVar[list[tuple[Any, float]]] = []

    @classmethod
    def perform(cls, what: str) -> None:
        cls.sent.append((what, APP_RESQUE.clock.time()))


class FlakyFeed(Retry, Job):
    """Fails its first two runs; retried after 15 s, then 30 s (exponential backoff)."""

    queue = "feeds"
    retry_limit = 3
    retry_delay = 15
    runs: ClassVar[list[float]] = []

    @classmethod
    def perform(cls, feed: str) -> None:
        cls.runs.append(APP_RESQUE.clock.time())
        if len(cls.runs) <= 2:
            raise TimeoutError(f"{feed} timed out")


class HourlyReport(Job):
    queue = "reports"
    made: ClassVar[list[float]] = []

    @classmethod
    def perform(cls) -> None:
        cls.made.append(APP_RESQUE.clock.time())


class RebuildSearchIndex(Unique, Job):
    queue = "index"

    @staticmethod
    def perform(name: str) -> None:
        return None


@pytest.fixture(autouse=True)
def _reset(monkeypatch: pytest.MonkeyPatch) -> None:
    Reminder.sent.clear()
    FlakyFeed.runs.clear()
    HourlyReport.made.clear()

    def no_sleeping(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s of wall-clock time")

    monkeypatch.setattr(time, "sleep", no_sleeping)


def test_a_delayed_job_reaches_its_queue_when_the_clock_reaches_its_time() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue_in(30, Reminder, "call mum")
        fake.assert_scheduled(Reminder, "call mum", at=START + timedelta(seconds=30))
        fake.advance(29)
        fake.assert_not_enqueued(Reminder)
        fake.advance(1)
        fake.assert_enqueued(Reminder, "call mum", queue="reminders")
        assert fake.scheduled() == []


def test_delayed_jobs_arrive_in_due_order_each_at_its_own_time() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue_in(60, Reminder, "late")
        APP_RESQUE.enqueue_at(START + timedelta(seconds=20), Reminder, "early")
        fake.advance(3600)
        assert [job.args for job in fake.jobs()] == [["early"], ["late"]]
        fake.drain()
    assert [what for what, _ in Reminder.sent] == ["early", "late"]


def test_drain_runs_only_what_is_due() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue_in(300, Reminder, "later")
        APP_RESQUE.enqueue_in(0, Reminder, "now")
        fake.drain()
        assert [what for what, _ in Reminder.sent] == ["now"]
        fake.travel_to(START + timedelta(minutes=5))
        fake.drain()
    assert [what for what, _ in Reminder.sent] == ["now", "later"]


def test_a_failed_assertion_mentions_jobs_scheduled_for_later() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue_in(90, Reminder, "soon")
        with pytest.raises(AssertionError, match=r"scheduled for later \(advance the clock\) \(1\):"):
            fake.assert_enqueued(Reminder, "soon")


def test_retry_backoff_runs_in_virtual_time() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue(FlakyFeed, "news")
        fake.drain()  # fails, retry 1 scheduled in 15 s; no failure record while retries remain
        assert fake.failures == []
        fake.assert_scheduled(FlakyFeed, "news", at=START + timedelta(seconds=15))
        fake.advance(15)
        fake.drain()  # fails again, retry 2 in 30 s
        fake.advance(30)
        fake.drain()  # succeeds
    start = START.timestamp()
    assert FlakyFeed.runs == [start, start + 15, start + 45]
    assert fake.failures == []


def test_inline_delayed_jobs_wait_for_the_clock_by_default() -> None:
    with inline_mode(start=START) as inline:
        APP_RESQUE.enqueue_in(60, Reminder, "tea")
        assert Reminder.sent == []
        inline.advance(60)
    assert Reminder.sent == [("tea", START.timestamp() + 60)]


def test_inline_mode_can_run_delayed_jobs_at_once_as_ruby_does() -> None:
    with inline_mode(delayed="now", start=START):
        APP_RESQUE.enqueue_in(3600, Reminder, "now please")
        resque_impl.enqueue_in(60, Reminder, "me too")
    assert [what for what, _ in Reminder.sent] == ["now please", "me too"]


def test_inline_retries_complete_within_one_move_of_the_clock() -> None:
    with inline_mode(start=START) as inline:
        APP_RESQUE.enqueue(FlakyFeed, "news")
        inline.advance(3600)
    start = START.timestamp()
    assert FlakyFeed.runs == [start, start + 15, start + 45]
    # As a worker reports them: a run whose exception the retry hook swallowed did not complete.
    assert [run.status for run in inline.performed] == ["skipped", "skipped", "performed"]


def test_recurring_schedules_tick_as_the_clock_moves() -> None:
    with fake_mode(start=START) as fake:
        fake.load_schedule(
            {
                "hourly_report": {"every": "1h", "class": "HourlyReport"},
                "quarterly_reminder": {"cron": "*/15 * * * *", "class": "Reminder", "args": "stretch"},
            }
        )
        fake.advance(3 * 3600)
        fake.assert_enqueued(HourlyReport, count=3, queue="reports")
        fake.assert_enqueued(Reminder, "stretch", count=12)
        fake.drain()
    start = START.timestamp()
    assert HourlyReport.made == [start + 3 * 3600] * 3  # drained at the end, all at once
    assert len(Reminder.sent) == 12


def test_recurring_jobs_run_at_their_ticks_in_inline_mode() -> None:
    with inline_mode(start=START) as inline:
        inline.load_schedule({"hourly_report": {"every": "1h", "class": "HourlyReport"}})
        inline.advance(2 * 3600 + 59)
    start = START.timestamp()
    assert HourlyReport.made == [start + 3600, start + 7200]


def test_unique_plugin_deduplicates_in_fake_mode() -> None:
    with fake_mode() as fake:
        assert APP_RESQUE.enqueue(RebuildSearchIndex, "products") is True
        assert APP_RESQUE.enqueue(RebuildSearchIndex, "products") is False
        fake.assert_enqueued(RebuildSearchIndex, "products", count=1)
        fake.drain()
        assert APP_RESQUE.enqueue(RebuildSearchIndex, "products") is True


def test_moving_time_needs_the_sandbox_in_force() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue_in(10, Reminder, "x")
    with pytest.raises(SandboxInactiveError):
        fake.advance(10)


def test_travelling_back_moves_nothing() -> None:
    with fake_mode(start=START) as fake:
        APP_RESQUE.enqueue_in(10, Reminder, "x")
        fake.travel_to(START - timedelta(days=1))
        assert fake.clock.now() == START - timedelta(days=1)
        fake.assert_scheduled(Reminder, "x")


class Picky(Job):
    queue = "picky"
    ran: ClassVar[list[str]] = []

    @classmethod
    def perform(cls, what: str) -> None:
        cls.ran.append(what)
        if what == "bad":
            raise ValueError("bad input")


def test_inline_a_failing_due_job_does_not_lose_the_others_due_with_it() -> None:
    Picky.ran.clear()
    with inline_mode(start=START) as inline:
        APP_RESQUE.enqueue_in(10, Picky, "bad")
        APP_RESQUE.enqueue_in(10, Picky, "good")
        with pytest.raises(ValueError, match="bad input"):
            inline.advance(10)
        assert inline.scheduled() == []
    assert Picky.ran == ["bad", "good"]
