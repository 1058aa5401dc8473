"""Python and the real Ruby Resque 3.0 on one live Redis: each side runs what the other enqueued and
reads what the other wrote (workers, stats, failures).

These need Ruby Resque (see tests/ruby.py: ``RESQUE_RUBY_LIB``); they skip without it, and fail in CI.
"""

from __future__ import annotations

import json

import pytest
import redis

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions
from tests.interop.interop_jobs import TRACE_KEY, PyTraceJob
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby

# A Ruby job class that traces like PyTraceJob, and one that raises.
RUBY_JOBS = """
class RubyTraceJob
  @queue = :interop
  def self.perform(*args)
    Resque.redis.redis.rpush("interop:trace", JSON.generate(["ruby", *args]))
  end
end
class PyTraceJob < RubyTraceJob; end
class RubyFailingJob
  @queue = :interop
  def self.perform(*args)
    raise ArgumentError, "ruby says no: #{args.inspect}"
  end
end
"""
RUBY_DRAIN = RUBY_JOBS + 'ENV["FORK_PER_JOB"] = "false"\nResque::Worker.new("interop").work(0)\n'


@pytest.fixture
def resque(redis_server: RedisServer, client: redis.Redis) -> Resque:
    PyTraceJob.url = redis_server.url
    return Resque(redis_server.url)


def traces(client: redis.Redis) -> list[list[object]]:
    return [json.loads(item) for item in client.lrange(TRACE_KEY, 0, -1)]


def drain_in_python(resque: Resque) -> None:
    worker = Worker(["interop"], resque=resque, options=WorkerOptions(fork_per_job=False, interval=0))
    worker.work(0)


def test_a_ruby_worker_runs_jobs_python_enqueued(ruby: RubyResque, resque: Resque, client: redis.Redis) -> None:
    resque.enqueue_to("interop", "RubyTraceJob", 1, "two", {"three": [3.5, None, True]})
    resque.enqueue(PyTraceJob, "by class")

    ruby.run(RUBY_DRAIN)

    assert traces(client) == [["ruby", 1, "two", {"three": [3.5, None, True]}], ["ruby", "by class"]]
    assert resque.info()["processed"] == 2


def test_a_python_worker_runs_jobs_ruby_enqueued(ruby: RubyResque, resque: Resque, client: redis.Redis) -> None:
    ruby.run('Resque.enqueue_to(:interop, "PyTraceJob", 1, "ünïcode", {"k" => [1.5, nil]})')

    drain_in_python(resque)

    assert traces(client) == [["python", 1, "ünïcode", {"k": [1.5, None]}]]


def test_ruby_reads_python_stats_and_failures(ruby: RubyResque, resque: Resque) -> None:
    resque.enqueue_to("interop", "NoSuchJobAnywhere", 7)
    resque.enqueue(PyTraceJob, "fine")
    drain_in_python(resque)

    out = ruby.run("""
        f = Resque::Failure.all(0, 1)
        puts JSON.generate([Resque.info[:processed], Resque.info[:failed], Resque::Failure.count,
                            f["payload"], f["exception"], f["queue"]])
    """)

    processed, failed, count, payload, exception, queue = json.loads(out)
    assert (processed, failed, count) == (2, 1, 1)
    assert payload == {"class": "NoSuchJobAnywhere", "args": [7]}
    assert exception == "NameError"
    assert queue == "interop"


def test_python_retries_a_ruby_failure_and_ruby_runs_it(ruby: RubyResque, resque: Resque, client: redis.Redis) -> None:
    ruby.run(RUBY_JOBS + 'Resque.enqueue_to(:interop, "RubyFailingJob", "x")\n' + RUBY_DRAIN.removeprefix(RUBY_JOBS))
    (record,) = resque.failures.all()
    assert record.exception == "ArgumentError"
    assert record.error == 'ruby says no: ["x"]'

    resque.failures.requeue(record.id)
    ruby.run(
        RUBY_JOBS
        + 'class RubyFailingJob; def self.perform(*a) = RubyTraceJob.perform("retried", *a); end\n'
        + RUBY_DRAIN.removeprefix(RUBY_JOBS)
    )

    assert traces(client) == [["ruby", "retried", "x"]]
    assert ruby.run('puts Resque::Failure.all(0, 1)["retried_at"].nil?').strip() == "false"


def test_ruby_sees_a_python_worker_and_leaves_it_alone(ruby: RubyResque, resque: Resque) -> None:
    worker = Worker(["interop", "other"], resque=resque, options=WorkerOptions(fork_per_job=False, interval=0))
    worker.register()
    try:
        out = ruby.run("""
            Resque::Worker.new("x").prune_dead_workers
            puts JSON.generate(Resque.workers.map { |w| [w.to_s, w.queues] })
        """)
    finally:
        worker.unregister()

    assert json.loads(out) == [[worker.id, ["interop", "other"]]]
