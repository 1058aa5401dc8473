"""Delayed jobs: resque-scheduler's bytes and keys, its time rules, its hooks, and the move of due jobs."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
import redis

import resque_impl
import resque_impl.default
from resque_impl import Job, ManualClock, Resque, decode_payload
from resque_impl.delayed import DelayedJob, job_arguments
from resque_impl.errors import NoQueueError, NotSerializableError, PayloadTooLargeError, ScheduleError
from resque_impl.store.memory import MemoryStore
from tests.conftest import FIXTURE_EPOCH, dumped, load_fixture, loaded
from tests.jobs import EmailJob

LATER = 1893456000  # 2030-01-01 00:00:00 UTC, as in the fixtures


class ScheduleHooksJob(Job):
    queue = "hooked"
    calls: ClassVar[list[tuple[str, tuple[Any, ...]]]] = []

    @classmethod
    def before_schedule_check(cls, *args: Any) -> bool:
        cls.calls.append(("before_schedule", args))
        return args != ("veto",)

    @classmethod
    def after_schedule_log(cls, *args: Any) -> None:
        cls.calls.append(("after_schedule", args))

    @classmethod
    def before_delayed_enqueue_log(cls, *args: Any) -> None:
        cls.calls.append(("before_delayed_enqueue", args))

    @classmethod
    def before_enqueue_check(cls, *args: Any) -> bool:
        cls.calls.append(("before_enqueue", args))
        return args != ("enqueue-veto",)

    @classmethod
    def after_enqueue_log(cls, *args: Any) -> None:
        cls.calls.append(("after_enqueue", args))

    @staticmethod
    def perform(*args: Any) -> None:
        return None


class ExplodingEnqueueHookJob(Job):
    queue = "boom"

    @staticmethod
    def before_enqueue_explode(*args: Any) -> None:
        raise RuntimeError("hook exploded")

    @staticmethod
    def perform() -> None:
        return None


class QueuelessDelayedJob(Job):
    @staticmethod
    def perform() -> None:
        return None


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    ScheduleHooksJob.calls = []


@pytest.fixture
def r(store: Any, clock: ManualClock) -> Resque:
    """A Resque on each kind of store: fakeredis, a real redis-server, and the in-memory twin."""
    return Resque(store=store, clock=clock)


def queue_items(r: Resque, queue: str) -> list[bytes]:
    return r.peek_raw(queue, 0, 1000)


# -- conformance with resque-scheduler 5.0 --------------------------------------------------------------------
def test_delayed_fixture_is_reproduced_byte_for_byte(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    fixture = load_fixture("delayed.json")

    resque.enqueue_at(datetime.fromtimestamp(LATER, timezone.utc), EmailJob, 1, "later")
    resque.enqueue_at(LATER, EmailJob, 2, "later")
    resque.enqueue_in_with_queue("high", 604800, EmailJob, 3)

    assert dumped(redis_client, namespace) == dict(sorted(fixture["keys"].items()))


def test_remove_delayed_fixture_is_reproduced_byte_for_byte(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)
    fixture = load_fixture("delayed_removed.json")

    assert resque.remove_delayed(EmailJob, 2, "later") == fixture["returned"]
    assert dumped(redis_client, namespace) == dict(sorted(fixture["keys"].items()))


def test_ruby_scheduled_items_are_found_and_read(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    assert resque.scheduled_at(EmailJob, 1, "later") == [LATER]
    assert resque.delayed_queue_schedule_size() == 2
    assert resque.count_all_scheduled_jobs() == 3
    (job,) = resque.delayed_timestamp_peek(1796427809)
    assert (job.queue, job.class_name, job.args) == ("high", "EmailJob", [3])


def test_a_due_ruby_item_is_enqueued_as_resque_scheduler_enqueues_it(
    resque: Resque, redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)
    clock.set(LATER)

    assert resque.release_due() == 3

    assert dumped(redis_client, namespace) == {
        "resque:queue:email": {
            "type": "list",
            "value": ['{"class":"EmailJob","args":[1,"later"]}', '{"class":"EmailJob","args":[2,"later"]}'],
        },
        "resque:queue:high": {"type": "list", "value": ['{"class":"EmailJob","args":[3]}']},
        "resque:queues": {"type": "set", "value": ["email", "high"]},
    }


# -- times ---------------------------------------------------------------------------------------------------
def test_an_aware_datetime_in_any_zone_means_the_same_second(r: Resque) -> None:
    paris = datetime.fromtimestamp(LATER, timezone.utc).astimezone(ZoneInfo("Europe/Paris"))

    r.enqueue_at(paris, EmailJob, 1)

    assert r.scheduled_at(EmailJob, 1) == [LATER]


def test_fractions_of_a_second_are_dropped_like_rubys_to_i(r: Resque) -> None:
    r.enqueue_at(LATER + 0.999, EmailJob, 1)
    assert r.scheduled_at(EmailJob, 1) == [LATER]


def test_a_naive_datetime_is_refused_and_nothing_is_written(r: Resque) -> None:
    with pytest.raises(ScheduleError, match=r"naive datetime .* pass an aware one"):
        r.enqueue_at(datetime(2030, 1, 1), EmailJob, 1)
    assert r.delayed_queue_schedule_size() == 0


@pytest.mark.parametrize("when", [math.nan, math.inf, True, "2030-01-01", None])
def test_a_time_that_is_not_a_moment_is_refused(r: Resque, when: Any) -> None:
    with pytest.raises(ScheduleError):
        r.enqueue_at(when, EmailJob, 1)


@pytest.mark.parametrize("delay", [math.nan, -math.inf, "5", None])
def test_a_delay_that_is_not_seconds_is_refused(r: Resque, delay: Any) -> None:
    with pytest.raises(ScheduleError):
        r.enqueue_in(delay, EmailJob, 1)


def test_a_past_time_enqueues_now_through_enqueue_to_as_resque_scheduler_5_does(r: Resque) -> None:
    # resque-scheduler 5.0's enqueue_at_with_queue calls Resque.enqueue_to for a due job: the enqueue
    # hooks run between the schedule hooks, and a before_enqueue veto still lets after_schedule run.
    assert r.enqueue_at(FIXTURE_EPOCH - 3600, ScheduleHooksJob, "x") is True
    assert r.enqueue_at(FIXTURE_EPOCH - 3600, ScheduleHooksJob, "enqueue-veto") is True

    assert queue_items(r, "hooked") == [b'{"class":"ScheduleHooksJob","args":["x"]}']
    assert r.delayed_queue_schedule_size() == 0
    assert [name for name, _ in ScheduleHooksJob.calls] == [
        *("before_schedule", "before_enqueue", "after_enqueue", "after_schedule"),
        *("before_schedule", "before_enqueue", "after_schedule"),
    ]


@pytest.mark.parametrize("delay", [-1, -0.5 - 1, timedelta(minutes=-5)])
def test_a_negative_delay_enqueues_now(r: Resque, delay: Any) -> None:
    r.enqueue_in(delay, EmailJob, 7)
    assert queue_items(r, "email") == [b'{"class":"EmailJob","args":[7]}']


def test_the_current_second_goes_through_the_delayed_queue(r: Resque) -> None:
    r.enqueue_in(0, EmailJob, 7)

    assert r.scheduled_at(EmailJob, 7) == [int(FIXTURE_EPOCH)]
    assert r.release_due() == 1
    assert queue_items(r, "email") == [b'{"class":"EmailJob","args":[7]}']


def test_a_timedelta_delay(r: Resque) -> None:
    r.enqueue_in(timedelta(hours=1), EmailJob, 1)
    assert r.scheduled_at(EmailJob, 1) == [int(FIXTURE_EPOCH) + 3600]


# -- validation ----------------------------------------------------------------------------------------------
def test_a_class_without_a_queue_is_refused_by_enqueue_at(r: Resque) -> None:
    with pytest.raises(NoQueueError):
        r.enqueue_at(LATER, QueuelessDelayedJob)
    assert r.enqueue_at_with_queue("explicit", LATER, QueuelessDelayedJob) is True


def test_a_class_only_ruby_knows_is_scheduled_by_name(r: Resque) -> None:
    r.enqueue_at_with_queue("ruby", LATER, "Admin::RubyJob", 1)
    assert r.delayed_timestamp_peek(LATER)[0].raw == b'{"class":"Admin::RubyJob","args":[1],"queue":"ruby"}'


def test_arguments_are_validated_before_anything_is_written(r: Resque) -> None:
    with pytest.raises(NotSerializableError, match=r"args\[0\]"):
        r.enqueue_in(60, EmailJob, {1, 2})
    assert r.delayed_queue_schedule_size() == 0


def test_the_payload_size_limit_applies_to_delayed_items(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock, max_payload_bytes=100)
    with pytest.raises(PayloadTooLargeError):
        r.enqueue_in(60, EmailJob, "x" * 100)


# -- hooks ---------------------------------------------------------------------------------------------------
def test_before_schedule_can_veto(r: Resque) -> None:
    assert r.enqueue_in(60, ScheduleHooksJob, "veto") is False

    assert r.delayed_queue_schedule_size() == 0
    assert ScheduleHooksJob.calls == [("before_schedule", ("veto",))]


def test_schedule_hooks_run_around_a_delayed_push(r: Resque) -> None:
    assert r.enqueue_in(60, ScheduleHooksJob, 1) is True
    assert ScheduleHooksJob.calls == [("before_schedule", (1,)), ("after_schedule", (1,))]


# -- removing and finding ------------------------------------------------------------------------------------
def test_remove_delayed_matches_the_classs_queue(r: Resque) -> None:
    r.enqueue_in(60, EmailJob, 1)
    r.enqueue_in_with_queue("high", 60, EmailJob, 1)

    assert r.remove_delayed(EmailJob, 1) == 1
    assert [job.queue for job in r.find_delayed(EmailJob)] == ["high"]


def test_remove_delayed_of_a_class_unknown_here_matches_a_null_queue(r: Resque) -> None:
    r.enqueue_at_with_queue("ruby", LATER, "RubyOnly", 1)
    assert r.remove_delayed("RubyOnly", 1) == 0  # Ruby would look for "queue":null too


def test_remove_from_one_timestamp(r: Resque) -> None:
    r.enqueue_at(LATER, EmailJob, 1)
    r.enqueue_at(LATER + 60, EmailJob, 1)

    assert r.remove_delayed_job_from_timestamp(LATER, EmailJob, 1) == 1
    assert r.scheduled_at(EmailJob, 1) == [LATER + 60]
    assert r.is_delayed(EmailJob, 1)


def test_remove_an_item_by_its_exact_bytes_from_one_timestamp(r: Resque) -> None:
    item = b'{"class":"RubyOnly","args":[1],"queue":"ruby","retry_attempt":2}'
    for timestamp in (LATER, LATER, LATER + 60):
        r.store.delayed_push(timestamp, item)
    r.enqueue_at(LATER, EmailJob, 1)

    assert r.remove_delayed_item(LATER, item) == 2
    assert r.remove_delayed_item(LATER, item) == 0
    assert [job.class_name for job in r.delayed_timestamp_peek(LATER, 0, 5)] == ["EmailJob"]
    assert r.store.delayed_item_timestamps(item) == [LATER + 60]


def test_find_and_remove_a_selection(r: Resque) -> None:
    for n in range(6):
        r.enqueue_at(LATER + n, EmailJob, n)
    r.enqueue_at(LATER, ScheduleHooksJob, 2)

    found = r.find_delayed(EmailJob, lambda args: args[0] % 2 == 0)

    assert [(job.timestamp, job.args) for job in found] == [(LATER, [0]), (LATER + 2, [2]), (LATER + 4, [4])]
    assert len(r.find_delayed()) == 7
    assert r.remove_delayed_selection(EmailJob, lambda args: args[0] >= 3) == 3
    assert r.count_all_scheduled_jobs() == 4


def test_reset_and_peek(r: Resque) -> None:
    r.enqueue_at(LATER, EmailJob, 1)
    r.enqueue_at(LATER + 5, EmailJob, 2)

    assert r.delayed_queue_peek(0, 10) == [LATER, LATER + 5]
    assert r.next_delayed_timestamp() == LATER
    assert r.delayed_timestamp_size(LATER + 5) == 1
    r.reset_delayed_queue()
    assert (r.delayed_queue_schedule_size(), r.count_all_scheduled_jobs(), r.find_delayed()) == (0, 0, [])


def test_enqueue_delayed_moves_the_job_now_with_hooks(r: Resque) -> None:
    r.enqueue_in(60, ScheduleHooksJob, 3)
    ScheduleHooksJob.calls = []

    assert r.enqueue_delayed(ScheduleHooksJob, 3) == 1

    assert queue_items(r, "hooked") == [b'{"class":"ScheduleHooksJob","args":[3]}']
    assert [name for name, _ in ScheduleHooksJob.calls] == ["before_enqueue", "after_enqueue"]


# -- moving due jobs ----------------------------------------------------------------------------------------
def test_only_due_jobs_move_in_time_order(r: Resque, clock: ManualClock) -> None:
    r.enqueue_in(10, EmailJob, "a")
    r.enqueue_in(5, EmailJob, "b")
    r.enqueue_in(100, EmailJob, "c")
    clock.advance(10)

    assert r.release_due() == 2

    assert queue_items(r, "email") == [b'{"class":"EmailJob","args":["b"]}', b'{"class":"EmailJob","args":["a"]}']
    assert r.scheduled_at(EmailJob, "c") == [int(FIXTURE_EPOCH) + 100]
    assert r.release_due() == 0


def test_due_jobs_run_delayed_enqueue_hooks_and_a_veto_drops_the_job(r: Resque, clock: ManualClock) -> None:
    r.enqueue_in(1, ScheduleHooksJob, "ok")
    r.enqueue_in(1, ScheduleHooksJob, "enqueue-veto")
    ScheduleHooksJob.calls = []
    clock.advance(1)

    assert r.release_due() == 1

    assert queue_items(r, "hooked") == [b'{"class":"ScheduleHooksJob","args":["ok"]}']
    assert r.count_all_scheduled_jobs() == 0
    assert ScheduleHooksJob.calls == [
        ("before_delayed_enqueue", ("ok",)),
        ("before_enqueue", ("ok",)),
        ("before_delayed_enqueue", ("enqueue-veto",)),
        ("before_enqueue", ("enqueue-veto",)),
        ("after_enqueue", ("ok",)),
    ]


def test_a_job_that_cannot_be_enqueued_becomes_a_failure_record(r: Resque, clock: ManualClock) -> None:
    r.enqueue_in(1, ExplodingEnqueueHookJob)
    r.store.delayed_push(int(FIXTURE_EPOCH), b"not json")
    r.store.delayed_push(int(FIXTURE_EPOCH), b'{"class":"NoQueueAnywhere","args":[]}')
    r.enqueue_in(1, EmailJob, "fine")
    clock.advance(1)

    assert r.release_due(worker="vm:1:scheduler") == 1

    records = r.failures.all(0, 10)
    assert sorted((record.exception, record.queue) for record in records) == [
        ("JSONDecodeError", ""),
        ("NoQueueError", ""),
        ("RuntimeError", "boom"),
    ]
    assert {record.worker for record in records} == {"vm:1:scheduler"}
    assert r.count_all_scheduled_jobs() == 0
    assert queue_items(r, "email") == [b'{"class":"EmailJob","args":["fine"]}']


def test_batches_move_every_job_in_order(r: Resque, clock: ManualClock) -> None:
    for n in range(7):
        r.enqueue_in(1, EmailJob, n)
    clock.advance(1)

    assert r.release_due(batch_size=3) == 7
    assert [decode_payload(raw).args for raw in queue_items(r, "email")] == [[n] for n in range(7)]


def test_release_stops_between_batches_when_told(r: Resque, clock: ManualClock) -> None:
    for n in range(7):
        r.enqueue_in(1, EmailJob, n)
    clock.advance(1)
    answers = itertools.chain([True], itertools.repeat(False))

    assert r.release_due(batch_size=3, keep_going=lambda: next(answers)) == 3
    assert r.count_all_scheduled_jobs() == 4


def test_a_bad_batch_size_is_refused(r: Resque) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        r.release_due(batch_size=0)


def test_queue_now_moves_a_future_timestamp(r: Resque) -> None:
    r.enqueue_at(LATER, EmailJob, 1)
    assert r.enqueue_delayed_timestamp(LATER) == 1
    assert r.delayed_queue_schedule_size() == 0


def test_push_at_keeps_extra_keys_through_the_move(r: Resque, clock: ManualClock) -> None:
    r.push_at(FIXTURE_EPOCH + 30, "retry", {"class": "EmailJob", "args": [1], "retry_attempt": 2})
    (job,) = r.find_delayed()
    assert job.raw == b'{"class":"EmailJob","args":[1],"queue":"retry","retry_attempt":2}'
    clock.advance(30)

    r.release_due()

    assert queue_items(r, "retry") == [b'{"class":"EmailJob","args":[1],"retry_attempt":2}']


def test_push_at_a_past_time_pushes_now(r: Resque) -> None:
    r.push_at(0, "q", {"class": "EmailJob", "args": []})
    assert queue_items(r, "q") == [b'{"class":"EmailJob","args":[]}']


def test_delayed_job_reads_an_item_without_a_queue() -> None:
    job = DelayedJob.read(5, b'{"class":"X","args":[1],"queue":null}')
    assert (job.queue, job.class_name, job.args, job.payload.extras) == (None, "X", [1], {})


@pytest.mark.parametrize(
    ("configured", "arguments"),
    [(None, []), ([1, 2], [1, 2]), ({"a": 1}, [{"a": 1}]), ("s", ["s"]), (3, [3])],
)
def test_configured_arguments_are_read_as_resque_scheduler_reads_them(configured: Any, arguments: list[Any]) -> None:
    assert job_arguments(configured) == arguments


# -- enqueued_at ---------------------------------------------------------------------------------------------
def test_enqueued_at_is_off_by_default_so_bytes_match_ruby(r: Resque) -> None:
    r.enqueue(EmailJob, 1)
    assert queue_items(r, "email") == [b'{"class":"EmailJob","args":[1]}']


def test_enqueued_at_stamps_every_payload_written(clock: ManualClock) -> None:
    r = Resque(store=MemoryStore(), clock=clock, enqueued_at=True)
    r.enqueue(EmailJob, 1)
    r.enqueue_many(EmailJob, [(2,)])
    r.push("email", {"class": "EmailJob", "args": [3], "enqueued_at": 1.0})
    r.enqueue_in(5, EmailJob, 4)
    clock.advance(5)
    r.release_due()

    stamps = [decode_payload(raw).extras for raw in queue_items(r, "email")]
    assert stamps == [{"enqueued_at": FIXTURE_EPOCH}] * 3 + [{"enqueued_at": FIXTURE_EPOCH + 5}]
    assert queue_items(r, "email")[0] == b'{"class":"EmailJob","args":[1],"enqueued_at":%r}' % FIXTURE_EPOCH
    assert r.dequeue(EmailJob, 1) == 1


def test_a_stale_enqueue_stamp_does_not_travel_through_the_delayed_queue(r: Resque, clock: ManualClock) -> None:
    r.push_at(FIXTURE_EPOCH + 5, "q", {"class": "EmailJob", "args": [1], "enqueued_at": 1.0, "trace": "t"})
    r.store.delayed_push(int(FIXTURE_EPOCH) + 5, b'{"class":"EmailJob","args":[2],"queue":"q","enqueued_at":1.0}')
    clock.advance(5)
    r.release_due()
    assert queue_items(r, "q") == [
        b'{"class":"EmailJob","args":[1],"trace":"t"}',
        b'{"class":"EmailJob","args":[2]}',
    ]


def test_module_level_calls_use_the_default_instance(r: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resque_impl.default, "_current", r)

    assert resque_impl.enqueue_in(60, EmailJob, 1) is True
    assert resque_impl.enqueue_at(LATER, EmailJob, 2) is True
    assert r.count_all_scheduled_jobs() == 2
    assert resque_impl.remove_delayed(EmailJob, 1) == 1
