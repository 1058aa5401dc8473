"""Jobs enqueued and scheduled with AsyncResque are run by the real Ruby Resque 3.0 (and moved by
resque-scheduler 5.0), and Ruby's ``Resque.dequeue`` finds them by their bytes.

These need Ruby Resque (see tests/ruby.py); they skip without it, and fail in CI.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import redis

from resque_impl.aio import AsyncResque
from resque_impl.testing import RedisServer
from tests.interop.test_ruby_live import RUBY_DRAIN, traces
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby


def test_a_ruby_worker_runs_jobs_the_async_client_enqueued_and_scheduled(
    redis_server: RedisServer, client: redis.Redis
) -> None:
    ruby = RubyResque.find(redis_server.url, scheduler=True)

    async def produce() -> None:
        async with AsyncResque(redis_server.url) as resque:
            await resque.enqueue_to("interop", "RubyTraceJob", 1, "ünï", {"three": [3.5, None, True]})
            await resque.enqueue_many("RubyTraceJob", [("many", 1), ("many", 2)], queue="interop")
            await resque.enqueue_to("interop", "RubyTraceJob", "dequeued by ruby")
            await resque.enqueue_in_with_queue("interop", timedelta(hours=1), "RubyTraceJob", "delayed")

    asyncio.run(produce())
    ruby.run(
        'require "resque-scheduler"\n'
        'Resque.dequeue(Class.new { def self.to_s = "RubyTraceJob"; @queue = :interop }, "dequeued by ruby")\n'
        "Resque.delayed_queue_peek(0, 10).each { |ts| Resque::Scheduler.enqueue_delayed_items_for_timestamp(ts) }\n"
        + RUBY_DRAIN
    )

    assert traces(client) == [
        ["ruby", 1, "ünï", {"three": [3.5, None, True]}],
        ["ruby", "many", 1],
        ["ruby", "many", 2],
        ["ruby", "delayed"],
    ]
    assert client.zcard("resque:delayed_queue_schedule") == 0
