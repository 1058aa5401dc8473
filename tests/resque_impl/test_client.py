"""The producer API: Ruby Resque's calls, results and errors."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
import redis

from resque_impl import (
    ConfigurationError,
    JobRegistrationError,
    NoClassError,
    NoQueueError,
    NotSerializableError,
    PayloadDecodeError,
    PayloadTooLargeError,
    QueuedJob,
    Resque,
)
from resque_impl.codec import Payload
from resque_impl.store.memory import MemoryStore
from tests.jobs import EmailJob, FailingJob


def test_enqueue_pushes_onto_the_class_queue_and_records_it(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    assert resque.enqueue(EmailJob, 42, "hi") is True
    assert redis_client.lrange(f"{namespace}:queue:email", 0, -1) == [b'{"class":"EmailJob","args":[42,"hi"]}']
    assert redis_client.smembers(f"{namespace}:queues") == {b"email"}


def test_enqueue_to_overrides_the_queue(resque: Resque) -> None:
    resque.enqueue_to("high", EmailJob, 1)
    assert resque.size("high") == 1
    assert resque.size("email") == 0


def test_a_class_name_string_enqueues_a_job_only_another_process_defines(resque: Resque) -> None:
    resque.enqueue_to("mailers", "Admin::MailerJob", 1)
    assert resque.peek_raw("mailers") == [b'{"class":"Admin::MailerJob","args":[1]}']


def test_a_string_class_without_a_queue_needs_enqueue_to(resque: Resque) -> None:
    with pytest.raises(NoQueueError, match="No queue could be inferred for class Admin::MailerJob"):
        resque.enqueue("Admin::MailerJob", 1)


def test_a_class_without_a_queue_is_refused(resque: Resque) -> None:
    class NoQueueJob:
        @staticmethod
        def perform() -> None: ...

    with pytest.raises(NoQueueError, match="Jobs must be placed onto a queue"):
        resque.enqueue(NoQueueJob)


def test_a_queue_given_by_a_method_is_used(resque: Resque) -> None:
    class DynamicQueueJob:
        @staticmethod
        def queue() -> str:
            return "dynamic"

        @staticmethod
        def perform() -> None: ...

    resque.enqueue(DynamicQueueJob)
    assert resque.size("dynamic") == 1


@pytest.mark.parametrize("job_class", ["", "   ", None, 42])
def test_an_empty_or_missing_class_is_refused(resque: Resque, job_class: Any) -> None:
    with pytest.raises(NoClassError, match="Jobs must be given a class"):
        resque.enqueue_to("q", job_class)


def test_validate_mirrors_ruby(resque: Resque) -> None:
    resque.validate(EmailJob)
    with pytest.raises(NoQueueError):
        resque.validate("Ruby::Job")


def test_bad_arguments_push_nothing(resque: Resque) -> None:
    with pytest.raises(NotSerializableError, match=r'args\[1\]\["when"\]'):
        resque.enqueue(EmailJob, 1, {"when": datetime.now(timezone.utc)})
    assert resque.queues() == []


def test_the_payload_size_limit_is_configurable(redis_client: redis.Redis, namespace: str) -> None:
    small = Resque(redis_client, namespace=namespace, max_payload_bytes=64)
    with pytest.raises(PayloadTooLargeError):
        small.enqueue(EmailJob, "x" * 100)
    with pytest.raises(ConfigurationError):
        Resque(redis_client, namespace=namespace, max_payload_bytes=0)


def test_enqueue_many_pushes_in_order(resque: Resque) -> None:
    assert resque.enqueue_many(EmailJob, [(i, "n") for i in range(2500)]) == 2500
    assert resque.size("email") == 2500
    assert [job.args for job in resque.peek("email", 2498, 5)] == [[2498, "n"], [2499, "n"]]


def test_enqueue_many_validates_everything_before_pushing(resque: Resque) -> None:
    with pytest.raises(NotSerializableError, match=r"args\[0\]"):
        resque.enqueue_many(EmailJob, [(1,), ({1, 2},)])
    assert resque.size("email") == 0


def test_enqueue_many_honours_vetoes(resque: Resque) -> None:
    class PickyJob:
        queue = "picky"

        @staticmethod
        def before_enqueue(value: int) -> bool:
            return value % 2 == 0

        @staticmethod
        def perform(value: int) -> None: ...

    assert resque.enqueue_many(PickyJob, [(i,) for i in range(10)]) == 5
    assert [job.args[0] for job in resque.peek("picky", 0, 10)] == [0, 2, 4, 6, 8]


def test_push_writes_a_ready_made_item_without_hooks(resque: Resque) -> None:
    resque.push("q", {"class": "Ruby::Job", "args": [1], "jid": "x"})
    assert resque.peek_raw("q") == [b'{"class":"Ruby::Job","args":[1],"jid":"x"}']


@pytest.mark.parametrize(
    ("item", "raw"),
    [({"args": [1]}, b'{"args":[1]}'), (["a", 1], b'["a",1]'), ("text", b'"text"'), ({"class": 5}, b'{"class":5}')],
)
def test_push_writes_any_json_item_as_ruby_resque_push_does(resque: Resque, item: Any, raw: bytes) -> None:
    # Ruby Resque 3.0: Resque.push(queue, item) is rpush(encode(item)); nothing checks for a class.
    resque.push("q", item)
    assert resque.peek_raw("q") == [raw]


def test_push_still_refuses_what_json_cannot_carry(resque: Resque) -> None:
    with pytest.raises(NotSerializableError, match="item"):
        resque.push("q", {"at": datetime.now(timezone.utc)})
    with pytest.raises(PayloadTooLargeError):
        Resque(store=resque.store, max_payload_bytes=10).push("q", {"args": ["x" * 20]})
    assert resque.size("q") == 0


def test_peek_returns_a_list_of_jobs(resque: Resque) -> None:
    for n in range(3):
        resque.enqueue(EmailJob, n)
    assert resque.peek("email") == [QueuedJob("email", Payload("EmailJob", [0]))]
    assert [job.args for job in resque.peek("email", 1, 10)] == [[1], [2]]
    assert resque.peek("nothing-here", 0, 10) == []


def test_peek_reports_a_malformed_entry(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    redis_client.rpush(f"{namespace}:queue:q", b"garbage")
    with pytest.raises(PayloadDecodeError):
        resque.peek("q")
    assert resque.peek_raw("q") == [b"garbage"]


def test_queues_are_sorted_and_remove_queue_forgets_one(resque: Resque) -> None:
    resque.enqueue_to("b", EmailJob)
    resque.enqueue_to("a", EmailJob)
    assert resque.queues() == ["a", "b"]
    resque.remove_queue("a")
    assert resque.queues() == ["b"]
    assert resque.size("a") == 0


def test_dequeue_by_args_also_matches_payloads_with_extra_keys(resque: Resque) -> None:
    resque.push("email", {"class": "EmailJob", "args": [1, "a"], "enqueued_at": 1.5})
    resque.enqueue(EmailJob, 1, "a")
    resque.enqueue(EmailJob, 1, "b")
    assert resque.dequeue(EmailJob, 1, "a") == 2
    assert [job.args for job in resque.peek("email", 0, 10)] == [[1, "b"]]


def test_dequeue_by_class_leaves_other_classes_and_malformed_entries(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    resque.enqueue_to("email", FailingJob, 1)
    resque.enqueue(EmailJob, 1)
    redis_client.rpush(f"{namespace}:queue:email", b"garbage")
    assert resque.dequeue(EmailJob) == 1
    assert resque.peek_raw("email", 0, 10) == [b'{"class":"FailingJob","args":[1]}', b"garbage"]


def test_stats_start_at_zero(resque: Resque) -> None:
    assert resque.stat("processed") == 0
    resque.store.incr_stat("processed", 2, worker_id="w1")
    assert resque.stat("processed") == 2
    assert resque.store.worker_stat("processed", "w1") == 2


def test_working_lists_busy_workers_only(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    redis_client.sadd(f"{namespace}:workers", "h:1:q", "h:2:q")
    redis_client.set(f"{namespace}:worker:h:1:q", b'{"queue":"q"}')
    assert resque.workers() == ["h:1:q", "h:2:q"]
    assert resque.working() == {"h:1:q": b'{"queue":"q"}'}
    assert resque.info()["working"] == 1


def test_record_failure_keeps_raw_bytes_of_a_non_payload(resque: Resque) -> None:
    resque.record_failure("q", b"\xff not json", ValueError("bad"), worker="w")
    (record,) = resque.failures.all()
    assert record.payload == "\ufffd not json"
    assert record.exception == "ValueError"


def test_a_memory_store_runs_the_same_api() -> None:
    r = Resque(store=MemoryStore())
    r.enqueue(EmailJob, 1)
    assert r.size("email") == 1
    assert r.redis is None
    assert r.info()["pending"] == 1


def test_an_unknown_failure_backend_is_a_configuration_error(redis_client: redis.Redis, namespace: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown failure backend 'sentry'"):
        Resque(redis_client, namespace=namespace, failure_backend="sentry")


# -- plain job classes (Ruby runs any class that responds to perform) ---------------------------------
class PlainClientJob:
    """A Ruby-style job class: a queue and perform, no base class, no decorator."""

    queue = "plain"

    @classmethod
    def perform(cls, x: int) -> None: ...


def test_a_plain_class_handed_to_enqueue_is_registered_under_its_payload_name(resque: Resque) -> None:
    assert resque.enqueue(PlainClientJob, 1) is True
    assert resque.peek_raw("plain") == [b'{"class":"PlainClientJob","args":[1]}']
    assert resque.registry.resolve("PlainClientJob") is PlainClientJob


def test_a_class_without_perform_is_refused_at_enqueue_and_nothing_is_pushed(resque: Resque) -> None:
    class NoPerform:
        queue = "plain"

    refused = pytest.raises(NoClassError, match="NoPerform has no perform method")
    with refused:
        resque.enqueue(NoPerform, 1)
    with refused:
        resque.enqueue_to("q", NoPerform)
    with refused:
        resque.enqueue_many(NoPerform, [(1,)])
    with refused:
        resque.enqueue_in(60, NoPerform)
    assert resque.queues() == []
    assert "NoPerform" not in resque.registry


def test_a_plain_class_clashing_by_name_with_another_registered_class_is_refused(resque: Resque) -> None:
    class EmailJob:  # not tests.jobs.EmailJob, which holds the name "EmailJob"
        queue = "email"

        @staticmethod
        def perform() -> None: ...

    with pytest.raises(JobRegistrationError, match="already registered"):
        resque.enqueue(EmailJob)
    assert resque.size("email") == 0


# -- Ruby Resque 3.0 behaviours ------------------------------------------------------------------------
class Stamped:
    queue = "stamped"

    @staticmethod
    def before_enqueue_stamp(options: dict[str, Any]) -> None:
        options["stamped"] = True

    @staticmethod
    def before_schedule_stamp(options: dict[str, Any]) -> None:
        options["scheduled"] = True

    @staticmethod
    def perform(options: dict[str, Any]) -> None: ...


def test_a_before_enqueue_hook_can_change_the_arguments_pushed_as_in_ruby(resque: Resque) -> None:
    # Ruby's Resque.enqueue_to runs before_enqueue hooks with the args, then Job.create encodes them.
    resque.enqueue(Stamped, {"id": 1})
    resque.enqueue_many(Stamped, [({"id": 2},)])
    assert [job.args for job in resque.peek("stamped", 0, 10)] == [
        [{"id": 1, "stamped": True}],
        [{"id": 2, "stamped": True}],
    ]


def test_a_before_schedule_hook_can_change_the_arguments_scheduled_as_in_resque_scheduler(resque: Resque) -> None:
    resque.enqueue_in(60, Stamped, {"id": 1})
    (timestamp,) = resque.delayed_queue_peek(0, 10)
    assert [job.args for job in resque.delayed_timestamp_peek(timestamp, 0, 10)] == [[{"id": 1, "scheduled": True}]]


def test_arguments_json_cannot_carry_are_refused_before_any_hook_runs(resque: Resque) -> None:
    seen: list[Any] = []

    class Watched:
        queue = "watched"

        @staticmethod
        def before_enqueue_watch(*args: Any) -> None:
            seen.append(args)

        @staticmethod
        def perform(*args: Any) -> None: ...

    with pytest.raises(NotSerializableError):
        resque.enqueue(Watched, {1, 2})
    assert seen == []


def test_destroy_removes_matching_jobs_from_any_queue_like_ruby_job_destroy(resque: Resque) -> None:
    # Ruby's Resque::Job.destroy(queue, klass, *args) ignores the class's own queue and runs no hooks.
    for args in [(1,), (2,), (1,)]:
        resque.enqueue_to("elsewhere", EmailJob, *args)
    resque.enqueue_to("elsewhere", "Ruby::Other", 1)
    assert resque.destroy("elsewhere", EmailJob, 1) == 2
    assert resque.destroy("elsewhere", "EmailJob") == 1
    assert resque.peek_raw("elsewhere", 0, 10) == [b'{"class":"Ruby::Other","args":[1]}']
    assert resque.destroy("email", EmailJob) == 0


def test_dequeue_removes_from_the_class_queue_only(resque: Resque) -> None:
    resque.enqueue(EmailJob, 1)
    resque.enqueue_to("elsewhere", EmailJob, 1)
    assert resque.dequeue(EmailJob, 1) == 1
    assert resque.size("elsewhere") == 1
