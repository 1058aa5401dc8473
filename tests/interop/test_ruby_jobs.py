"""Ruby Resque 3.0's job behaviours, checked live against the real Ruby Resque on one Redis: how a
payload's class name resolves, ``Resque.push`` of any item, ``Job.destroy``, ``Job#==``, and
``before_enqueue`` hooks changing the arguments pushed (issue #15).

These need Ruby Resque (see tests/ruby.py: ``RESQUE_RUBY_LIB``); they skip without it, and fail in CI.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis

from resque_impl import Registry, Resque
from resque_impl.job import register_module_jobs
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions
from tests.interop import interop_jobs
from tests.interop.interop_jobs import TRACE_KEY, PyTraceJob
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby

RUBY_SOME_TRACE_JOB = """
class SomeTraceJob
  @queue = :interop
  def self.perform(*args)
    Resque.redis.redis.rpush("interop:trace", JSON.generate(["ruby", *args]))
  end
end
"""


@pytest.fixture
def resque(redis_server: RedisServer, client: redis.Redis) -> Resque:
    PyTraceJob.url = redis_server.url
    register_module_jobs(interop_jobs)  # as a worker started with --jobs tests.interop.interop_jobs
    return Resque(redis_server.url)


def traces(client: redis.Redis) -> list[list[Any]]:
    return [json.loads(item) for item in client.lrange(TRACE_KEY, 0, -1)]


def drain_in_python(resque: Resque) -> None:
    Worker(["interop"], resque=resque, options=WorkerOptions(fork_per_job=False, interval=0)).work(0)


def test_a_dashed_class_name_runs_the_camel_cased_class_in_ruby_and_in_python(
    ruby: RubyResque, resque: Resque, client: redis.Redis
) -> None:
    # Ruby's constantize classifies "some-trace-job" to SomeTraceJob; so does our registry.
    ruby.run('Resque.push(:interop, "class" => "some-trace-job", "args" => [1])')
    drain_in_python(resque)
    ruby.run('Resque.push(:interop, "class" => "some-trace-job", "args" => [2])')
    ruby.run(RUBY_SOME_TRACE_JOB + 'ENV["FORK_PER_JOB"] = "false"\nResque::Worker.new("interop").work(0)\n')
    assert traces(client) == [["python", "plain", 1], ["ruby", 2]]
    assert resque.failures.count() == 0


def test_jobs_are_equal_as_ruby_job_eq_says(ruby: RubyResque, resque: Resque) -> None:
    pairs = [
        ({"class": "some-trace-job", "args": [1]}, {"class": "SomeTraceJob", "args": [1]}),
        ({"class": "SomeTraceJob", "args": [1], "enqueued_at": 1.5}, {"class": "SomeTraceJob", "args": [1]}),
        ({"class": "SomeTraceJob", "args": [1]}, {"class": "SomeTraceJob", "args": [2]}),
    ]
    for a, b in pairs:
        resque.push("interop", a)
        resque.push("interop", b)
    out = ruby.run(
        RUBY_SOME_TRACE_JOB
        + "jobs = Resque.peek(:interop, 0, 100).map { |p| Resque::Job.new('interop', p) }\n"
        + "puts JSON.generate(jobs.each_slice(2).map { |a, b| a == b })"
    )
    ours = resque.peek("interop", 0, 100)
    assert [ours[i] == ours[i + 1] for i in range(0, len(ours), 2)] == json.loads(out) == [True, True, False]


def test_push_writes_an_item_without_a_class_as_ruby_does(ruby: RubyResque, resque: Resque) -> None:
    ruby.run('Resque.push(:ruby_items, "args" => [1], "note" => "no class")')
    resque.push("python_items", {"args": [1], "note": "no class"})
    assert resque.peek_raw("ruby_items") == resque.peek_raw("python_items") == [b'{"args":[1],"note":"no class"}']
    assert json.loads(ruby.run("puts JSON.generate(Resque.peek(:python_items))")) == {"args": [1], "note": "no class"}


def test_destroy_removes_what_ruby_job_destroy_removes(ruby: RubyResque, resque: Resque) -> None:
    def fill(queue: str) -> None:
        for args in ([1], [2], [1]):
            resque.push(queue, {"class": "PyTraceJob", "args": args})
        resque.push(queue, {"class": "OtherJob", "args": [1]})

    fill("ruby_side")
    fill("python_side")
    removed_by_ruby = ruby.run(
        'puts Resque::Job.destroy(:ruby_side, "PyTraceJob", 1)\nputs Resque::Job.destroy(:ruby_side, "PyTraceJob")'
    ).split()
    removed_by_us = [resque.destroy("python_side", PyTraceJob, 1), resque.destroy("python_side", "PyTraceJob")]
    assert [int(n) for n in removed_by_ruby] == removed_by_us == [2, 1]
    assert resque.peek_raw("ruby_side", 0, 10) == resque.peek_raw("python_side", 0, 10)


def test_destroy_with_args_also_removes_a_copy_carrying_extra_keys_which_ruby_leaves(
    ruby: RubyResque, resque: Resque
) -> None:
    # A deliberate difference (docs/compatibility.md): Ruby matches by exact bytes, so a payload
    # another producer stamped with enqueued_at would stay queued forever after a dequeue.
    for queue in ("ruby_side", "python_side"):
        resque.push(queue, {"class": "PyTraceJob", "args": [1], "enqueued_at": 1.5})
    assert ruby.run('puts Resque::Job.destroy(:ruby_side, "PyTraceJob", 1)').strip() == "0"
    assert resque.destroy("python_side", PyTraceJob, 1) == 1


def test_a_before_enqueue_hook_changes_the_payload_in_both(ruby: RubyResque, redis_server: RedisServer) -> None:
    class StampJob:
        queue = "stamped"

        @staticmethod
        def before_enqueue_stamp(options: dict[str, Any]) -> None:
            options["stamped"] = True

        @staticmethod
        def perform(options: dict[str, Any]) -> None: ...

    resque = Resque(redis_server.url, registry=Registry())
    ruby.run("""
        class StampJob
          @queue = :ruby_stamped
          def self.before_enqueue_stamp(options) = options["stamped"] = true
        end
        Resque.enqueue(StampJob, {"id" => 1})
    """)
    resque.enqueue(StampJob, {"id": 1})
    assert resque.peek_raw("ruby_stamped") == resque.peek_raw("stamped")
    assert resque.peek("stamped")[0].args == [{"id": 1, "stamped": True}]


def test_a_due_enqueue_at_runs_the_enqueue_hooks_as_resque_scheduler_does(
    redis_server: RedisServer, client: redis.Redis
) -> None:
    ruby = RubyResque.find(redis_server.url, scheduler=True)
    calls: list[str] = []

    class HookJob:
        queue = "hooked"

        @staticmethod
        def before_schedule_a(*args: Any) -> None:
            calls.append("before_schedule")

        @staticmethod
        def after_schedule_a(*args: Any) -> None:
            calls.append("after_schedule")

        @staticmethod
        def before_enqueue_a(*args: Any) -> bool:
            calls.append("before_enqueue")
            return args != ("veto",)

        @staticmethod
        def after_enqueue_a(*args: Any) -> None:
            calls.append("after_enqueue")

        @staticmethod
        def perform(*args: Any) -> None: ...

    out = ruby.run("""
        $log = []
        class HookJob
          @queue = :ruby_hooked
          def self.before_schedule_a(*a) = $log << "before_schedule"
          def self.after_schedule_a(*a) = $log << "after_schedule"
          def self.before_enqueue_a(*a) = ($log << "before_enqueue"; a != ["veto"])
          def self.after_enqueue_a(*a) = $log << "after_enqueue"
        end
        Resque.enqueue_at(Time.now - 10, HookJob, 1)
        Resque.enqueue_at(Time.now - 10, HookJob, "veto")
        puts JSON.generate($log)
    """)
    resque = Resque(redis_server.url, registry=Registry())
    resque.enqueue_in(-10, HookJob, 1)
    resque.enqueue_in(-10, HookJob, "veto")
    assert calls == json.loads(out)
    assert resque.peek_raw("hooked", 0, 10) == resque.peek_raw("ruby_hooked", 0, 10)
