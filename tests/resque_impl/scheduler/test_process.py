"""The scheduler loop in-process: master election, moves, recurring ticks, stopping, reloading, and
carrying on after Redis comes back."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, ClassVar

import pytest

from resque_impl import Job, ManualClock, Resque
from resque_impl.errors import ScheduleError
from resque_impl.scheduler import MasterLock, Scheduler, parse_schedule
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import RedisServer

SCHEDULE = parse_schedule({"beat": {"every": "20s", "class": "BeatJob", "queue": "beats"}})


class StopsTheSchedulerJob(Job):
    """Its before_enqueue hook runs ``action`` (a test's way into the middle of a move)."""

    queue = "stoppers"
    action: ClassVar[Any] = None

    @classmethod
    def before_enqueue_act(cls, *args: Any) -> None:
        if cls.action is not None:
            cls.action()

    @staticmethod
    def perform(*args: Any) -> None:
        return None


@pytest.fixture(autouse=True)
def _no_action() -> None:
    StopsTheSchedulerJob.action = None


@pytest.fixture
def r(store: Any, clock: ManualClock) -> Resque:
    return Resque(store=store, clock=clock)


def scheduler(r: Resque, identity: str, **options: Any) -> Scheduler:
    return Scheduler(r, SCHEDULE, lock=MasterLock(r.store, identity=identity), **options)


def test_the_master_moves_due_jobs_and_fires_ticks(r: Resque, clock: ManualClock) -> None:
    process = scheduler(r, "a:1", interval=5)
    r.enqueue_in_with_queue("work", 3, "DelayedJob", 1)

    assert process.poll() == 5  # master now; nothing due yet; the every schedule is anchored
    assert process.is_master
    clock.advance(3)
    process.poll()
    assert r.peek_raw("work") == [b'{"class":"DelayedJob","args":[1]}']
    clock.advance(17)
    process.poll()
    assert r.size("beats") == 1


def test_the_wait_shortens_for_an_upcoming_tick(r: Resque, clock: ManualClock) -> None:
    process = scheduler(r, "a:1", interval=30)
    process.poll()
    clock.advance(12)
    assert process.poll() == pytest.approx(8)


def test_a_second_scheduler_waits_while_the_first_is_master(r: Resque, clock: ManualClock) -> None:
    first, second = scheduler(r, "a:1"), scheduler(r, "b:2")
    first.poll()
    r.enqueue_in_with_queue("work", 0, "DelayedJob", 1)

    assert second.poll() == second.interval
    assert not second.is_master
    assert r.count_all_scheduled_jobs() == 1
    first.lock.release()
    second.poll()
    assert second.is_master
    assert r.size("work") == 1


def test_a_ruby_master_keeps_our_scheduler_idle(r: Resque) -> None:
    r.store.lock_acquire(r.keys.scheduler_master_lock, "ruby-host:4242", 180)
    r.enqueue_in_with_queue("work", 0, "DelayedJob", 1)

    scheduler(r, "py:1").poll()

    assert r.count_all_scheduled_jobs() == 1


def test_a_silent_master_is_replaced_when_its_lock_expires(clock: ManualClock) -> None:
    r = Resque(store=MemoryStore(clock=clock), clock=clock)
    first, second = scheduler(r, "a:1"), scheduler(r, "b:2")
    first.poll()
    clock.advance(179)
    second.poll()
    assert not second.is_master
    clock.advance(2)
    second.poll()
    assert second.is_master


def test_a_stop_during_a_move_finishes_the_batch_in_hand(r: Resque) -> None:
    process = scheduler(r, "a:1", batch_size=10)
    StopsTheSchedulerJob.action = process.stop
    for n in range(25):
        r.enqueue_in(0, StopsTheSchedulerJob, n)

    process.poll()

    assert r.size("stoppers") == 10
    assert r.count_all_scheduled_jobs() == 15


def test_a_master_that_loses_its_lock_mid_move_stops_between_batches(clock: ManualClock) -> None:
    r = Resque(store=MemoryStore(clock=clock), clock=clock)
    process = scheduler(r, "a:1", batch_size=10)

    def lose_the_lock() -> None:
        clock.advance(200)  # past the lock timeout: the lock is gone and someone else takes it
        r.store.lock_acquire(r.keys.scheduler_master_lock, "b:2", 180)

    StopsTheSchedulerJob.action = lose_the_lock
    for n in range(25):
        r.enqueue_in(0, StopsTheSchedulerJob, n)

    process.poll()

    assert r.size("stoppers") == 10
    assert not process.is_master


def test_reload_replaces_the_schedule_and_a_bad_one_is_kept_out(r: Resque, caplog: pytest.LogCaptureFixture) -> None:
    schedules = iter([SCHEDULE, parse_schedule({"n": {"cron": "* * * * *", "class": "N", "queue": "q"}})])
    process = Scheduler(r, lambda: next(schedules))
    process._reload()
    assert [entry.name for entry in process.recurring.entries] == ["n"]

    def broken() -> list[Any]:
        raise ScheduleError("schedule.yaml: entry 'x': has neither cron nor every")

    process._source = broken
    with caplog.at_level(logging.ERROR):
        process._reload()
    assert [entry.name for entry in process.recurring.entries] == ["n"]
    assert "keeping the old one" in caplog.text


def test_describe_names_the_master_and_the_schedule(r: Resque) -> None:
    process = scheduler(r, "a:1")
    process.poll()
    text = process.describe()
    assert "master: a:1 (this process: a:1)" in text
    assert "beat: BeatJob on beats [20s]" in text


def test_bad_options_are_refused(r: Resque) -> None:
    with pytest.raises(ValueError, match="interval"):
        Scheduler(r, interval=0)
    with pytest.raises(ValueError, match="batch_size"):
        Scheduler(r, batch_size=0)


def test_run_stops_when_asked_and_releases_the_lock(r: Resque) -> None:
    process = scheduler(r, "a:1", interval=1)
    thread = threading.Thread(target=process.run)
    thread.start()
    deadline = time.monotonic() + 5
    while r.store.lock_owner(r.keys.scheduler_master_lock) is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.stop()
    thread.join(5)

    assert not thread.is_alive()
    assert r.store.lock_owner(r.keys.scheduler_master_lock) is None


def test_the_loop_carries_on_after_redis_comes_back(caplog: pytest.LogCaptureFixture) -> None:
    with RedisServer() as server:
        r = Resque(server.url, socket_timeout=1)
        process = Scheduler(r, interval=0.1, lock=MasterLock(r.store, identity="a:1"))
        thread = threading.Thread(target=process.run)
        with caplog.at_level(logging.INFO, logger="resque_impl.scheduler"):
            thread.start()
            server.kill()
            time.sleep(0.5)
            server.start()
            r.enqueue_in_with_queue("work", -1, "DelayedJob", "now")  # straight to the queue
            r.enqueue_in_with_queue("work", 0, "DelayedJob", "delayed")
            deadline = time.monotonic() + 10
            while r.count_all_scheduled_jobs() and time.monotonic() < deadline:
                time.sleep(0.05)
            moved = r.peek_raw("work", 0, 10)
            process.stop()
            thread.join(5)

    assert moved == [b'{"class":"DelayedJob","args":["now"]}', b'{"class":"DelayedJob","args":["delayed"]}']
    assert "retrying in" in caplog.text
    assert "Redis is reachable again" in caplog.text
    assert not thread.is_alive()
