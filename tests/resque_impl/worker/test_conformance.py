"""Workers leave exactly the keys and records Ruby Resque 3.0's workers leave (golden dumps in
tests/fixtures/ruby-resque-3.0), on fakeredis and a real redis-server.

The fixtures' worker id ``vm:19891:...`` is reproduced by giving the worker that host and pid, and the
manual clock pins every timestamp, so most keys compare byte for byte; backtraces (paths differ by
language) are checked by format, and Ruby's ``NameError`` message by its start.
"""

from __future__ import annotations

import json
import re
from typing import Any

import redis

from resque_impl import Keys, Resque
from resque_impl.codec import loads
from resque_impl.worker import Worker, WorkerOptions
from tests.conftest import dumped, load_fixture
from tests.jobs import EmailJob, FailingJob

BACKTRACE_LINE = re.compile(r".+:\d+:in `.+'")


def ruby_worker(resque: Resque, queues: list[str], **options: Any) -> Worker:
    """A worker that leaves exactly Ruby's keys: job metrics (an extension Ruby does not write) off."""
    options.setdefault("job_metrics", False)
    return Worker(queues, resque=resque, options=WorkerOptions(**options), hostname="vm", pid=19891)


def split_failures(keys: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    rest = dict(keys)
    entry = rest.pop("resque:failed", {"value": []})
    return rest, [loads(raw) for raw in entry["value"]]


def test_no_fork_burst_worker_matches_worker_processed_and_failed(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    fixture = load_fixture("worker_processed_and_failed.json")
    resque.enqueue(FailingJob, 7, {"k": "v"})
    resque.enqueue(EmailJob, 8, "ok")
    redis_client.rpush(f"{namespace}:queue:critical", '{"class":"Missing::Job","args":[1]}')

    assert ruby_worker(resque, ["critical", "email"], fork_per_job=False).work(0) == 0

    ours, our_records = split_failures(dumped(redis_client, namespace))
    theirs, their_records = split_failures(fixture["keys"])
    # Every key, reliable fetch's in-flight lists included, is as Ruby leaves it after a clean finish.
    assert ours == theirs
    assert len(our_records) == len(their_records) == 2
    for mine, ruby in zip(our_records, their_records, strict=True):
        assert list(mine) == list(ruby)
        assert all(BACKTRACE_LINE.fullmatch(line) for line in mine["backtrace"])
        assert mine["backtrace"]
        volatile: dict[str, Any] = {"backtrace": []}
        if ruby["exception"] == "NameError":
            assert mine["error"].startswith("uninitialized constant Missing")
            volatile["error"] = ""
        assert {**mine, **volatile} == {**ruby, **volatile}
    info = resque.info()
    assert {key: info[key] for key in fixture["info"]} == fixture["info"]


def busy_worker(resque: Resque, reliable: bool) -> Worker:
    resque.enqueue_to("email", EmailJob, 5, "x")
    worker = ruby_worker(resque, ["high", "email"], reliable=reliable)
    worker.register()
    worker.heartbeat()
    assert worker.reserve() is not None
    return worker


def without_queues_set(keys: dict[str, Any]) -> dict[str, Any]:
    # Ruby's fixture builds the job in memory (Job.new) instead of enqueuing it, so it has no `queues` set.
    return {key: value for key, value in keys.items() if key != "resque:queues"}


def test_busy_worker_matches_worker_busy(resque: Resque, redis_client: redis.Redis, namespace: str) -> None:
    fixture = load_fixture("worker_busy.json")
    busy_worker(resque, reliable=False)
    assert without_queues_set(dumped(redis_client, namespace)) == fixture["keys"]
    info = resque.info()
    assert {key: info[key] for key in fixture["info"] if key != "queues"} == {
        key: value for key, value in fixture["info"].items() if key != "queues"
    }


def test_busy_reliable_worker_adds_only_its_documented_in_flight_keys(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    fixture = load_fixture("worker_busy.json")
    busy_worker(resque, reliable=True)
    keys = without_queues_set(dumped(redis_client, namespace))
    # Reliable fetch's extension keys exist exactly while a job is in flight; Ruby ignores them.
    assert keys.pop("{resque:queue:email}:inflight:vm:19891:high,email") == {
        "type": "list",
        "value": ['{"class":"EmailJob","args":[5,"x"]}'],
    }
    assert keys.pop("resque:inflight:vm:19891:high,email") == {"type": "set", "value": ["email"]}
    assert keys == fixture["keys"]


def test_unregistering_a_busy_worker_matches_worker_unregistered_while_busy(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    fixture = load_fixture("worker_unregistered_while_busy.json")
    busy_worker(resque, reliable=False).unregister()
    assert without_queues_set(dumped(redis_client, namespace)) == fixture["keys"]


def test_our_working_on_record_is_byte_identical_to_rubys(
    resque: Resque, redis_client: redis.Redis, namespace: str
) -> None:
    fixture = load_fixture("worker_busy.json")
    busy_worker(resque, reliable=True)
    key = "resque:worker:vm:19891:high,email"
    assert redis_client.get(Keys(namespace).worker("vm:19891:high,email")) == fixture["keys"][key]["value"].encode()
    assert json.loads(fixture["keys"][key]["value"])["payload"] == {"class": "EmailJob", "args": [5, "x"]}
