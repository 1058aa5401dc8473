"""Recurring ticks fire once each, cluster-wide, with resque-scheduler's records and hooks."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest

from resque_impl import Job, ManualClock, Resque
from resque_impl.errors import ScheduleError
from resque_impl.scheduler import Recurring, enqueue_entry, parse_schedule
from tests.conftest import FIXTURE_EPOCH

NEW_YORK = ZoneInfo("America/New_York")


class RecurringHookJob(Job):
    queue = "recurring"
    calls: ClassVar[list[tuple[str, tuple[Any, ...]]]] = []

    @classmethod
    def before_enqueue_check(cls, *args: Any) -> bool:
        cls.calls.append(("before_enqueue", args))
        if args == ("explode",):
            raise RuntimeError("hook exploded")
        return args != ("veto",)

    @classmethod
    def after_enqueue_log(cls, *args: Any) -> None:
        cls.calls.append(("after_enqueue", args))

    @staticmethod
    def perform(*args: Any) -> None:
        return None


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    RecurringHookJob.calls = []


@pytest.fixture
def r(store: Any, clock: ManualClock) -> Resque:
    return Resque(store=store, clock=clock)


def recurring(r: Resque, schedule: dict[str, Any]) -> Recurring:
    return Recurring(r, parse_schedule(schedule))


def start(r: Resque, processes: list[Recurring]) -> float:
    """A first poll at the current time (an every schedule's first tick is one period after it)."""
    now = r.clock.time()
    for process in processes:
        process.fire_due(now, now)
    return now


def step(r: Resque, processes: list[Recurring], seconds: float, since: float) -> float:
    """Advance the clock and let every process poll; returns the new ``since``."""
    now = r.clock.time() + seconds
    r.clock.set(now)  # type: ignore[attr-defined]
    for process in processes:
        process.fire_due(since, now)
    return now


def test_every_fires_each_tick_once_with_two_schedulers(r: Resque) -> None:
    schedule = {"beat": {"every": "1m", "class": "BeatJob", "queue": "beats", "args": [1]}}
    a, b = recurring(r, schedule), recurring(r, schedule)
    since = start(r, [a, b])
    for _ in range(30):  # 15 minutes in 30 s polls
        since = step(r, [a, b], 30, since)

    assert r.size("beats") == 15
    assert r.peek_raw("beats") == [b'{"class":"BeatJob","args":[1]}']


def test_cron_fires_once_per_tick_and_records_the_time_like_ruby(r: Resque, clock: ManualClock) -> None:
    # FIXTURE_EPOCH is 23:43:29 UTC; ticks at 23:45 and 00:00.
    a, b = (recurring(r, {"q": {"cron": "*/15 * * * *", "class": "Quarter", "queue": "q"}}) for _ in range(2))
    since = clock.time()
    for _ in range(20):
        since = step(r, [a, b], 60, since)

    assert r.size("q") == 2
    assert r.store.last_enqueued_at() == {"q": "2026-11-28 00:00:29 +0000"}


def test_a_late_poll_fires_the_latest_tick_once(r: Resque, clock: ManualClock) -> None:
    process = recurring(r, {"s": {"cron": "* * * * * *", "class": "Sec", "queue": "q"}})
    since = clock.time()
    step(r, [process], 3600, since)
    assert r.size("q") == 1


def test_ticks_before_since_are_skipped_like_a_failover(r: Resque, clock: ManualClock) -> None:
    process = recurring(r, {"m": {"cron": "* * * * *", "class": "Min", "queue": "q"}})
    now = clock.advance(600)
    assert process.fire_due(now, now) == []
    assert process.fire_due(now - 60, now) == ["m"]


def _count_ticks_in_new_york(r: Resque, clock: ManualClock, cron: str, day: tuple[int, int, int]) -> list[str]:
    process = recurring(r, {"nightly": {"cron": f"{cron} America/New_York", "class": "Nightly", "queue": "n"}})
    start = datetime(*day, tzinfo=NEW_YORK).timestamp() - 3600
    clock.set(start)
    since, fired = start, []
    while clock.time() < start + 25 * 3600:  # 23:00 the day before until 23:00 (or midnight, or 01:00)
        now = clock.advance(300)
        if process.fire_due(since, now):
            fired.append(datetime.fromtimestamp(now, NEW_YORK).strftime("%H:%M%z"))
        since = now
    return fired


def test_a_fixed_time_repeated_by_fall_back_fires_once(r: Resque, clock: ManualClock) -> None:
    assert _count_ticks_in_new_york(r, clock, "30 1 * * *", (2027, 11, 7)) == ["01:30-0400"]


def test_a_fixed_time_skipped_by_spring_forward_fires_after_the_change(r: Resque, clock: ManualClock) -> None:
    assert _count_ticks_in_new_york(r, clock, "30 2 * * *", (2027, 3, 14)) == ["03:00-0400"]


def test_hourly_ticks_fire_in_both_repeated_hours(r: Resque, clock: ManualClock) -> None:
    fired = _count_ticks_in_new_york(r, clock, "0 * * * *", (2027, 11, 7))
    assert fired[:4] == ["00:00-0400", "01:00-0400", "01:00-0500", "02:00-0500"]
    assert len(fired) == 25  # a 25-hour day


def test_known_classes_get_their_queue_and_enqueue_hooks(r: Resque, clock: ManualClock) -> None:
    process = recurring(r, {"hooked": {"every": "10s", "class": "RecurringHookJob", "args": "ok"}})
    step(r, [process], 10, start(r, [process]))

    assert r.peek_raw("recurring") == [b'{"class":"RecurringHookJob","args":["ok"]}']
    assert RecurringHookJob.calls == [("before_enqueue", ("ok",)), ("after_enqueue", ("ok",))]


def test_a_vetoed_tick_is_spent_without_a_job(r: Resque, clock: ManualClock) -> None:
    process = recurring(r, {"v": {"every": "10s", "class": "RecurringHookJob", "args": "veto"}})
    since = step(r, [process], 10, start(r, [process]))
    step(r, [process], 1, since)

    assert r.size("recurring") == 0
    assert RecurringHookJob.calls == [("before_enqueue", ("veto",))]
    assert list(r.store.last_enqueued_at()) == ["v"]


def test_a_raising_hook_becomes_a_failure_record_and_the_tick_is_spent(r: Resque, clock: ManualClock) -> None:
    process = recurring(r, {"x": {"every": "10s", "class": "RecurringHookJob", "args": "explode"}})
    since = step(r, [process], 10, start(r, [process]))
    step(r, [process], 1, since)

    (record,) = r.failures.all(0, 10)
    assert (record.exception, record.error, record.queue, record.args) == (
        "RuntimeError", "hook exploded", "recurring", ["explode"]
    )  # fmt: skip


def test_an_entry_without_a_queue_for_an_unknown_class_is_refused(r: Resque) -> None:
    with pytest.raises(ScheduleError, match=r"entry 'nowhere': no queue for class Unknown::Job"):
        recurring(r, {"nowhere": {"every": "1h", "class": "Unknown::Job"}})


def test_next_due_is_the_earliest_upcoming_tick(r: Resque, clock: ManualClock) -> None:
    process = recurring(
        r,
        {
            "hourly": {"cron": "0 * * * *", "class": "H", "queue": "q"},
            "often": {"every": "45s", "class": "O", "queue": "q"},
            "manual": {"cron": "", "class": "M", "queue": "q"},
        },
    )
    now = clock.time()
    assert process.next_due(now) == datetime(2026, 11, 28, tzinfo=timezone.utc).timestamp()
    process.fire_due(now, now)  # learns the every-anchor
    assert process.next_due(now) == int(FIXTURE_EPOCH) + 45


def test_enqueue_entry_queues_the_job_now_with_its_hooks_and_records_no_tick(r: Resque) -> None:
    [entry] = parse_schedule({"report": {"cron": "0 2 * * *", "class": "RecurringHookJob", "args": ["now"]}})

    assert enqueue_entry(r, entry) is True
    assert r.peek_raw("recurring") == [b'{"class":"RecurringHookJob","args":["now"]}']
    assert RecurringHookJob.calls == [("before_enqueue", ("now",)), ("after_enqueue", ("now",))]
    assert r.store.schedule_ticks(["report"]) == {"report": None}
    assert r.store.last_enqueued_at() == {}


def test_enqueue_entry_says_when_a_hook_vetoed_it(r: Resque) -> None:
    [entry] = parse_schedule({"report": {"every": "1h", "class": "RecurringHookJob", "args": ["veto"]}})

    assert enqueue_entry(r, entry) is False
    assert r.size("recurring") == 0


def test_enqueue_entry_of_a_class_known_only_elsewhere_needs_the_entrys_queue(r: Resque) -> None:
    [queued, queueless] = parse_schedule(
        {
            "a": {"every": "1h", "class": "RubyOnlyJob", "queue": "ruby", "args": [1]},
            "b": {"every": "1h", "class": "RubyOnlyJob"},
        }
    )

    assert enqueue_entry(r, queued) is True
    assert r.peek_raw("ruby") == [b'{"class":"RubyOnlyJob","args":[1]}']
    with pytest.raises(ScheduleError, match="no queue for class RubyOnlyJob"):
        enqueue_entry(r, queueless)
