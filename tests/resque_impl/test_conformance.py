"""Conformance with Ruby Resque 3.0: replay each fixture's calls through our API and compare the
database with the golden dump made by the real Ruby library, key by key and byte by byte.

Volatile parts (timestamps, host and pid, backtrace paths) are pinned by the manual clock or checked
by format, as the fixtures' README asks.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis

from resque_impl import FailureRecord, Resque, decode_payload
from tests.conftest import dumped, load_fixture, loaded
from tests.jobs import EmailJob, FailingJob, HookedJob

RUBY_WORKER_ID = "vm:19891:critical,email"


def _expected(fixture: dict[str, Any]) -> dict[str, Any]:
    return dict(sorted(fixture["keys"].items()))


def test_enqueue_writes_rubys_bytes(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    fixture = load_fixture("enqueue.json")
    assert resque.enqueue(EmailJob, 42, "Welcome to our service!") is True
    assert resque.enqueue_to("high", EmailJob, {"nested": [1, 2.5, None, True, "ü", 10**20, 1.0e20]}, [], "")

    expected = _expected(fixture)
    # The one documented difference: Ruby writes the float 1e20 as 1.0e+20, Python as 1e+20.
    high = expected["resque:queue:high"]["value"]
    expected["resque:queue:high"]["value"] = [high[0].replace("1.0e+20", "1e+20")]
    assert dumped(redis_client, namespace) == expected


def test_info_matches_ruby_after_enqueue(resque: Resque) -> None:
    fixture = load_fixture("enqueue.json")
    resque.enqueue(EmailJob, 42, "Welcome to our service!")
    resque.enqueue_to("high", EmailJob, {"nested": [1]}, [], "")

    info = resque.info()
    assert {key: info[key] for key in fixture["info"]} == fixture["info"]
    assert info["servers"] == [resque.store.description]


def test_dequeue_with_args_removes_exact_matches(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    fixture = load_fixture("dequeue_with_args.json")
    resque.enqueue(EmailJob, 1, "a")
    resque.enqueue(EmailJob, 2, "b")
    resque.enqueue(EmailJob, 1, "a")
    resque.enqueue(FailingJob, 1, "a")

    assert resque.dequeue(EmailJob, 1, "a") == fixture["returned"]
    assert dumped(redis_client, namespace) == _expected(fixture)


def test_dequeue_by_class_removes_every_job_of_that_class(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("dequeue_with_args.json")["keys"], namespace)
    fixture = load_fixture("dequeue_class.json")

    assert resque.dequeue(EmailJob) == fixture["returned"]
    assert dumped(redis_client, namespace) == _expected(fixture)


def test_before_enqueue_false_vetoes_the_push(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    fixture = load_fixture("before_enqueue_false.json")
    returned = [resque.enqueue(HookedJob, "skip"), resque.enqueue(HookedJob, "go")]

    assert returned == [False, True]  # Ruby returns nil, then true
    assert dumped(redis_client, namespace) == _expected(fixture)


def test_requeue_of_a_ruby_failure_record(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("worker_processed_and_failed.json")["keys"], namespace)

    resque.failures.requeue(0)

    assert dumped(redis_client, namespace) == _expected(load_fixture("failure_requeued.json"))


def test_remove_of_a_ruby_failure_record(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("failure_requeued.json")["keys"], namespace)

    resque.failures.remove(1)

    assert dumped(redis_client, namespace) == _expected(load_fixture("failure_removed.json"))


def test_failure_record_bytes_match_ruby_except_the_backtrace(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    ruby = load_fixture("worker_processed_and_failed.json")["keys"]["resque:failed"]["value"][0]
    payload = decode_payload(b'{"class":"FailingJob","args":[7,{"k":"v"}]}')
    try:
        FailingJob.perform(*payload.args)
    except Exception as error:
        resque.record_failure("critical", payload, error, worker=RUBY_WORKER_ID)

    ours = redis_client.lrange(f"{namespace}:failed", 0, -1)[0].decode()
    strip_backtrace = re.compile(r'"backtrace":\[.*?\]')
    assert strip_backtrace.sub('"backtrace":[]', ours) == strip_backtrace.sub('"backtrace":[]', ruby)
    innermost = json.loads(ours)["backtrace"][0]
    assert re.fullmatch(r".+/tests/jobs\.py:\d+:in `perform'", innermost)


@pytest.mark.parametrize(
    "name",
    [
        "enqueue.json",
        "dequeue_with_args.json",
        "dequeue_class.json",
        "before_enqueue_false.json",
        "worker_processed_and_failed.json",
        "failure_requeued.json",
        "failure_removed.json",
        "worker_busy.json",
        "worker_unregistered_while_busy.json",
        "delayed.json",
        "delayed_removed.json",
    ],
)
def test_every_ruby_payload_and_record_decodes(name: str) -> None:
    for key, entry in load_fixture(name)["keys"].items():
        if entry["type"] != "list":
            continue
        for raw in entry["value"]:
            data = raw.encode()
            if key.endswith((":failed", "_failed")):
                record = FailureRecord.read("failed", 0, data)
                assert record.exception
                assert record.class_name
                assert record.queue
                assert re.fullmatch(r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d UTC", record.failed_at or "")
            else:
                payload = decode_payload(data)
                assert payload.class_name
                assert payload.encode() == data


def test_ruby_working_on_record_decodes() -> None:
    record = load_fixture("worker_busy.json")["keys"]["resque:worker:vm:19891:high,email"]["value"]
    from resque_impl.codec import loads

    data = loads(record)
    assert list(data) == ["queue", "run_at", "payload"]
    assert decode_payload(record.encode().split(b'"payload":', 1)[1][:-1]).args == [5, "x"]
