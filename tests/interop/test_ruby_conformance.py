"""Behaviours pinned by Ruby Resque 3.0's own test suite, checked live against the real Ruby Resque on one
Redis: each side acts on what the other wrote, or both act on the same data and must agree.

These need Ruby Resque (see tests/ruby.py: ``RESQUE_RUBY_LIB``); they skip without it, and fail in CI.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import redis

from resque_impl import Registry, Resque, job
from resque_impl.clock import format_heartbeat
from resque_impl.codec import Payload
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions
from tests.ruby import RubyResque
from tests.worker_jobs import ProcKillSelf

pytestmark = pytest.mark.ruby

#: A heartbeat older than Ruby's prune interval (five 60-second heartbeat intervals).
STALE_SECONDS = 301 + 60


def _server_time(client: redis.Redis) -> float:
    seconds, micros = client.time()
    return float(seconds) + micros / 1e6


def test_ruby_prunes_a_stale_heartbeat_python_left_without_a_registration(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis
) -> None:
    resque = Resque(redis_server.url)
    resque.store.heartbeat("gone:7:interop", format_heartbeat(_server_time(client) - STALE_SECONDS))

    out = ruby.run("""
        Resque::Worker.new("interop").prune_dead_workers
        puts JSON.generate(Resque::Worker.all_heartbeats)
    """)

    assert json.loads(out) == {}
    assert resque.store.heartbeats() == {}


def test_python_prunes_a_stale_heartbeat_ruby_left_without_a_registration(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis
) -> None:
    # Ruby's prune_dead_workers goes through the heartbeats (resque PR #1751); so does ours.
    ruby.run(f"""
        w = Resque::Worker.new("interop")
        w.to_s = "rb:9:interop"
        w.heartbeat!(Resque.data_store.server_time - {STALE_SECONDS})
    """)
    resque = Resque(redis_server.url)

    pruned = Worker(["interop"], resque=resque, hostname="py", pid=1).prune_dead_workers()

    assert pruned == ["rb:9:interop"]
    assert json.loads(ruby.run("puts JSON.generate(Resque::Worker.all_heartbeats)")) == {}


def test_ruby_reports_a_pruned_python_worker_whose_job_args_are_not_a_list_as_python_does(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis
) -> None:
    # Ruby's test: a job {"class":"GoodJob","args":"blah"} of a worker pruned for its stale heartbeat.
    def prune_in_ruby() -> dict[str, Any]:
        ruby.run(f"""
            w = Resque::Worker.new("jobs")
            w.to_s = "bar:3:jobs"
            w.register_worker
            job = {{"class" => "GoodJob", "args" => "blah"}}
            Resque.redis.set("worker:bar:3:jobs", JSON.generate("queue" => "jobs", "run_at" => "now", "payload" => job))
            w.heartbeat!(Resque.data_store.server_time - {STALE_SECONDS})
            Resque::Worker.new("jobs").prune_dead_workers
        """)
        record: dict[str, Any] = json.loads(client.lindex("resque:failed", 0) or b"null")
        return record

    ruby_record = prune_in_ruby()
    client.flushall()
    ours = Resque(redis_server.url)
    dead = Worker(["jobs"], resque=ours, hostname="bar", pid=3, options=WorkerOptions(reliable=False))
    dead.register()
    ours.store.heartbeat(dead.id, format_heartbeat(_server_time(client) - STALE_SECONDS))
    client.set(
        "resque:worker:bar:3:jobs",
        json.dumps({"queue": "jobs", "run_at": "now", "payload": {"class": "GoodJob", "args": "blah"}}),
    )
    Worker(["jobs"], resque=ours, hostname="py", pid=1).prune_dead_workers()
    (python_record,) = [record.data for record in ours.failures.all()]

    for field in ("payload", "exception", "error", "queue"):
        assert python_record[field] == ruby_record[field], field
    assert python_record["error"] == "Worker bar:3:jobs did not gracefully exit while processing GoodJob"


def test_ruby_multi_queue_each_windows_records_python_wrote_as_python_does(
    ruby: RubyResque, redis_server: RedisServer
) -> None:
    resque = Resque(redis_server.url, failure_backend="redis_multi_queue")
    for number, class_name in enumerate(["A", "B", "A", "B", "A", "B"]):
        resque.record_failure("queue1", Payload(class_name, [number]), ValueError("boom"), worker="w")

    out = ruby.run("""
        require "resque/failure/redis_multi_queue"
        seen = []
        backend = Resque::Failure::RedisMultiQueue
        backend.each(0, 4, :queue1_failed, "A") { |id, item| seen << [id, item["payload"]["args"]] }
        backend.each(1, 3, :queue1_failed) { |id, item| seen << [id, item["payload"]["args"]] }
        puts JSON.generate(seen)
    """)

    ours = [[r.index, r.args] for r in resque.failures.each(0, 4, queue="queue1", class_name="A")]
    ours += [[r.index, r.args] for r in resque.failures.each(1, 3, queue="queue1")]
    assert json.loads(out) == ours == [[2, [2]], [0, [0]], [3, [3]], [2, [2]], [1, [1]]]


def test_a_killed_child_is_recorded_in_rubys_words(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis
) -> None:
    ruby.run("""
        class KillsItself
          @queue = :rbkill
          def self.perform = Process.kill("KILL", Process.pid)
        end
        Resque.enqueue(KillsItself)
        Resque::Worker.new("rbkill").work(0)
    """)
    ruby_error = json.loads(client.lindex("resque:failed", 0) or b"null")["error"]
    resque = Resque(redis_server.url)
    resque.enqueue(ProcKillSelf)

    Worker(["proc"], resque=resque, options=WorkerOptions(reliable=False)).work(0)

    python_error = json.loads(client.lindex("resque:failed", 1) or b"null")["error"]
    shape = r"Child process received unhandled signal pid \d+ SIGKILL \(signal 9\)"
    assert re.fullmatch(shape, ruby_error), ruby_error
    assert re.fullmatch(shape, python_error), python_error
    assert ruby.run('puts Resque::Failure.all(1, 1)["exception"]').strip() == "Resque::DirtyExit"


class StandardError(Exception):
    """Named as Ruby's, so that both records name the same class."""


hook_registry = Registry()


@job(queue="interop", registry=hook_registry, name="HookFails")
class HookFails:
    @staticmethod
    def perform(*args: Any) -> None:
        raise StandardError("This job failed")

    @staticmethod
    def on_failure_raise(error: BaseException, *args: Any) -> None:
        raise RuntimeError("This failed too")


def test_a_failure_hooks_error_is_recorded_word_for_word_as_ruby_records_it(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis
) -> None:
    args = ["a", 1, None, {"k": [1.5, True]}, "#{x}"]
    ruby.run(f"""
        class HookFails
          @queue = :interop
          def self.perform(*a) = raise(StandardError, "This job failed")
          def self.on_failure_raise(e, *a) = raise("This failed too")
        end
        Resque.enqueue(HookFails, *JSON.parse('{json.dumps(args)}'))
        ENV["FORK_PER_JOB"] = "false"
        Resque::Worker.new("interop").work(0)
    """)
    resque = Resque(redis_server.url, registry=hook_registry)
    resque.enqueue(HookFails, *args)

    Worker(["interop"], resque=resque, options=WorkerOptions(fork_per_job=False)).work(0)

    ruby_record, python_record = (json.loads(raw) for raw in client.lrange("resque:failed", 0, 1))
    assert (python_record["exception"], python_record["error"]) == (ruby_record["exception"], ruby_record["error"])
    assert ruby_record["error"] == (
        "Additional error (RuntimeError: This failed too) occurred in running failure hooks for job "
        '(Job{interop} | HookFails | ["a", 1, nil, {"k"=>[1.5, true]}, "\\#{x}"])\n'
        "Original error that caused job failure was RuntimeError: StandardError: This job failed"
    )
