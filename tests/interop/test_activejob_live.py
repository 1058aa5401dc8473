"""Rails' ActiveJob (Debian's ruby-activejob 6.1) and Python on one live Redis, through Ruby Resque 3.0:
Rails enqueues and Python runs, Python enqueues and Rails runs, and every argument kind goes round
the loop Rails -> Python -> Rails unchanged (compared by Ruby's ``inspect``).

These need Ruby Resque and resque-scheduler (see tests/ruby.py) and ``ruby-activejob``; they skip
without them, and fail in CI.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest
import redis

from resque_impl import Resque
from resque_impl.activejob import ActiveJob, DateTime, GlobalID, IndifferentHash, RubyModule, Symbol, TimeWithZone
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby

UTC = timezone.utc

#: Rails with ActiveJob on Resque, and the Ruby side of every test: a record class GlobalID can find,
#: a module to pass, and Live::RubyJob, which records what it received (and the arguments' classes) as
#: Ruby's inspect text.
RAILS = """
require "active_job"
require "global_id"
require "bigdecimal"
# Resque 3.0's bundled adapter is written for Rails >= 7.2 and needs this base class, absent in 6.1.
unless defined?(ActiveJob::QueueAdapters::AbstractAdapter)
  module ActiveJob::QueueAdapters; class AbstractAdapter; end; end
end
ActiveJob::Base.queue_adapter = :resque
ActiveJob::Base.logger = Logger.new(nil)
GlobalID.app = "app"
Time.zone = "Europe/Paris"  # as a Rails app configures it; TimeWithZone arguments are read back in it
class User
  include GlobalID::Identification
  attr_reader :id
  def initialize(id) = @id = id.to_s
  def self.find(id) = new(id)
  def inspect = "#<User #{id}>"
end
module Admin; class Report; end; end
def received(*args, **kwargs) = [args, kwargs, args.map(&:class)].inspect
module Live
  class RubyJob < ActiveJob::Base
    queue_as :live
    def perform(*args, **kwargs) = Resque.redis.redis.rpush("live:ruby", received(*args, **kwargs))
  end
  class PyJob < ActiveJob::Base; queue_as :live; end
  class EchoJob < ActiveJob::Base; queue_as :live; end
  class MissingJob < ActiveJob::Base; queue_as :live; end
end
"""
RUBY_DRAIN = 'ENV["FORK_PER_JOB"] = "false"\nResque::Worker.new("live", "back").work(0)\n'

#: (case, Ruby arguments, what Python receives for them) for every argument kind that reads back as
#: the same Ruby value after Python has held it.
SAME_BOTH_WAYS: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    ("plain", '42, "text", 1.5, true, false, nil, [1, [2]]', [42, "text", 1.5, True, False, None, [1, [2]]], {}),
    ("string keys", '{"a" => 1, "b" => {"c" => nil}}', [{"a": 1, "b": {"c": None}}], {}),
    ("symbol keys", '{amount: 1.5, "mixed" => 2}', [{Symbol("amount"): 1.5, "mixed": 2}], {}),
    ("keywords", '7, amount: 1.5, note: "x"', [7], {"amount": 1.5, "note": "x"}),
    ("global id", "User.new(42)", [GlobalID("gid://app/User/42")], {}),
    ("symbol", ":paid", [Symbol("paid")], {}),
    ("time", "Time.utc(2026, 1, 2, 3, 4, 5, 123456)", [datetime(2026, 1, 2, 3, 4, 5, 123456, UTC)], {}),
    (
        "time with offset",
        'Time.new(2026, 1, 2, 3, 4, 5.5r, "+05:30")',
        [datetime(2026, 1, 2, 3, 4, 5, 500000, timezone(timedelta(hours=5, minutes=30)))],
        {},
    ),
    ("date", "Date.new(2026, 1, 2)", [date(2026, 1, 2)], {}),
    ("duration", "1.hour + 30.minutes, 2.days", [timedelta(minutes=90), timedelta(days=2)], {}),
    ("module", "Admin::Report, Comparable", [RubyModule("Admin::Report"), RubyModule("Comparable")], {}),
    (
        "date time",
        'DateTime.new(2026, 1, 2, 3, 4, 5, "-07:00")',
        [DateTime.of(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7))))],
        {},
    ),
    (
        "time with zone",
        'Time.utc(2026, 1, 2, 3, 4, 5, 123456).in_time_zone("Europe/Paris")',
        [TimeWithZone.of(datetime(2026, 1, 2, 4, 4, 5, 123456, timezone(timedelta(hours=1))))],
        {},
    ),
    ("indifferent hash", '{"k" => {"a" => 1}}.with_indifferent_access', [IndifferentHash({"k": {"a": 1}})], {}),
]
#: Rails 6.1 itself sends a BigDecimal as its string (and so does Python a Decimal), and Ruby's
#: nanoseconds are cut to Python's microseconds.
RAILS_TO_PYTHON_ONLY: list[tuple[str, str, list[Any], dict[str, Any]]] = [
    ("big decimal", 'BigDecimal("1.5")', ["0.15e1"], {}),
    ("nanoseconds", "Time.utc(2026, 1, 2, 3, 4, 5, 123456.789r)", [datetime(2026, 1, 2, 3, 4, 5, 123456, UTC)], {}),
]
CASES = SAME_BOTH_WAYS + RAILS_TO_PYTHON_ONLY


class LivePyJob(ActiveJob):
    job_class = "Live::PyJob"
    received: ClassVar[list[tuple[list[Any], dict[str, Any], int]]] = []

    def perform(self, *args: Any, **kwargs: Any) -> None:
        self.received.append((list(args), kwargs, self.executions))


class LiveEchoJob(ActiveJob):
    """Sends what it received on to Live::RubyJob, on a queue only the Ruby worker takes."""

    job_class = "Live::EchoJob"
    resque: ClassVar[Resque | None] = None

    def perform(self, *args: Any, **kwargs: Any) -> None:
        assert self.resque is not None
        self.resque.enqueue_active_job("Live::RubyJob", *args, queue="back", **kwargs)


@pytest.fixture
def ruby(redis_server: RedisServer, client: redis.Redis) -> RubyResque:
    found = RubyResque.find(redis_server.url, scheduler=True)  # skips first when Ruby itself is missing
    _require_activejob()
    return found


def _require_activejob() -> None:
    found = subprocess.run(["ruby", "-e", 'require "active_job"'], capture_output=True, check=False)
    if found.returncode != 0:
        reason = "Rails' ActiveJob is not installed for ruby (apt-get install ruby-activejob)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI must run the ActiveJob interop tests (see .ci/run)")
        pytest.skip(reason)


@pytest.fixture
def resque(redis_server: RedisServer, client: redis.Redis) -> Iterator[Resque]:
    LivePyJob.received.clear()
    LiveEchoJob.resque = Resque(redis_server.url)
    yield LiveEchoJob.resque
    LiveEchoJob.resque = None


def drain_in_python(resque: Resque) -> None:
    Worker(["live"], resque=resque, options=WorkerOptions(fork_per_job=False, interval=0)).work(0)


def ruby_received(client: redis.Redis) -> list[str]:
    return [item.decode() for item in client.lrange("live:ruby", 0, -1)]


def ruby_expected(ruby: RubyResque, literals: list[str]) -> list[str]:
    """What a Ruby job given each of these argument lists receives, as inspect text."""
    script = RAILS + "".join(f"puts received({literal})\n" for literal in literals)
    return ruby.run(script).splitlines()


def test_python_runs_what_rails_enqueued_with_the_python_values(
    ruby: RubyResque, resque: Resque, client: redis.Redis
) -> None:
    ruby.run(RAILS + "".join(f"Live::PyJob.perform_later({literal})\n" for _, literal, _, _ in CASES))

    drain_in_python(resque)

    assert resque.failures.count() == 0
    assert LivePyJob.received == [(args, kwargs, 1) for _, _, args, kwargs in CASES]
    assert [[type(arg) for arg in args] for args, _, _ in LivePyJob.received] == [
        [type(arg) for arg in args] for _, _, args, _ in CASES
    ]


def test_rails_runs_what_python_enqueued_with_the_ruby_values(
    ruby: RubyResque, resque: Resque, client: redis.Redis
) -> None:
    for _, _, args, kwargs in SAME_BOTH_WAYS:
        resque.enqueue_active_job("Live::RubyJob", *args, queue="live", **kwargs)
    resque.enqueue_active_job("Live::RubyJob", Decimal("1.50"), queue="live")

    ruby.run(RAILS + RUBY_DRAIN)

    literals = [literal for _, literal, _, _ in SAME_BOTH_WAYS] + ['"0.15e1"']
    assert ruby_received(client) == ruby_expected(ruby, literals)
    assert ruby.run("puts Resque::Failure.count").strip() == "0"


def test_every_argument_kind_goes_rails_to_python_to_rails_unchanged(
    ruby: RubyResque, resque: Resque, client: redis.Redis
) -> None:
    ruby.run(RAILS + "".join(f"Live::EchoJob.perform_later({literal})\n" for _, literal, _, _ in SAME_BOTH_WAYS))

    drain_in_python(resque)
    ruby.run(RAILS + RUBY_DRAIN)

    literals = [literal for _, literal, _, _ in SAME_BOTH_WAYS]
    assert ruby_received(client) == ruby_expected(ruby, literals)


def test_delayed_jobs_cross_over_through_resque_scheduler(
    ruby: RubyResque, resque: Resque, client: redis.Redis
) -> None:
    ruby.run(RAILS + "Live::PyJob.set(wait: 1.hour).perform_later(1)\n")
    resque.enqueue_active_job("Live::RubyJob", 2, queue="live", wait=timedelta(hours=2))

    (from_rails,) = [
        job
        for job in resque.find_delayed("ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper")
        if job.args[0]["job_class"] == "Live::PyJob"
    ]
    resque.enqueue_delayed_timestamp(from_rails.timestamp)  # as the scheduler does when it falls due
    drain_in_python(resque)
    ruby.run(
        RAILS
        + "Resque.delayed_queue_peek(0, 10).each { |ts| Resque::Scheduler.enqueue_delayed_items_for_timestamp(ts) }\n"
        + RUBY_DRAIN
    )

    assert LivePyJob.received == [([1], {}, 1)]
    assert ruby_received(client) == ["[[2], {}, [Integer]]"]


def test_rails_sees_a_python_failure_naming_the_missing_class(ruby: RubyResque, resque: Resque) -> None:
    ruby.run(RAILS + "Live::MissingJob.perform_later(3)\n")

    drain_in_python(resque)

    out = ruby.run(
        RAILS
        + """
        f = Resque::Failure.all(0, 1)
        puts JSON.generate([f["exception"], f["error"], f["payload"]["args"][0]["job_class"], f["queue"]])
    """
    )
    exception, error, job_class, queue = json.loads(out)
    assert (exception, job_class, queue) == ("NameError", "Live::MissingJob", "live")
    assert error.startswith("uninitialized constant Live::MissingJob")
