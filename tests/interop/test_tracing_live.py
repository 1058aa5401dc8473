"""Trace context across Ruby Resque 3.0 and Python on one live Redis, as Ruby's
``opentelemetry-instrumentation-resque`` writes it: top-level ``traceparent``/``tracestate`` keys.

The Ruby gem is not installed here: Ruby pushes the payload the gem would write (``Resque.push`` with
the key beside ``class`` and ``args``). Needs Ruby Resque (see tests/ruby.py); skips without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from resque_impl import Resque
from resque_impl.opentelemetry import ResqueInstrumentor
from resque_impl.testing import RedisServer
from tests.resque_impl.opentelemetry.live import run_traced_worker, span_ids
from tests.ruby import RubyResque

pytestmark = pytest.mark.ruby

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"
RUBY_FAILING_JOB = """
class TracedJob
  @queue = :traced
  def self.perform(outcome)
    raise ArgumentError, "ruby says no" if outcome == "fail"
    Resque.redis.redis.rpush("traced:ran", JSON.generate(["ruby", outcome]))
  end
end
ENV["FORK_PER_JOB"] = "false"
"""


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = ResqueInstrumentor()
    instrumentor.instrument(tracer_provider=provider, propagation_style="child")
    yield exporter
    instrumentor.uninstrument()


def test_a_ruby_traced_payload_continues_its_trace_in_a_python_worker(
    ruby: RubyResque, redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    ruby.run(f'Resque.push(:traced, {{class: "TracedJob", args: ["ok"], "traceparent" => "{TRACEPARENT}"}})')
    assert client.lrange("resque:queue:traced", 0, -1) == [
        f'{{"class":"TracedJob","args":["ok"],"traceparent":"{TRACEPARENT}"}}'.encode()
    ]

    (process,) = run_traced_worker(redis_server.url, tmp_path / "worker.out", "--fork", style="child")

    assert span_ids(process)[0] == int(TRACE_ID, 16)
    assert int(process["parent_id"], 16) == int(SPAN_ID, 16)
    assert process["attributes"]["messaging.resque.job_class"] == "TracedJob"


def test_our_traced_payload_is_byte_for_byte_what_ruby_s_gem_writes(
    ruby: RubyResque, client: redis.Redis, redis_server: RedisServer, spans: InMemorySpanExporter
) -> None:
    Resque(redis_server.url).enqueue_to("traced", "TracedJob", "ok", {"n": 1})
    (ours,) = client.lrange("resque:queue:traced", 0, -1)
    traceparent = json.loads(ours)["traceparent"]

    ruby.run(
        f'Resque.push(:ruby, {{class: "TracedJob", args: ["ok", {{"n" => 1}}], "traceparent" => "{traceparent}"}})'
    )

    assert client.lrange("resque:queue:ruby", 0, -1) == [ours]


def test_a_ruby_worker_runs_our_traced_payloads_and_its_failure_record_keeps_the_key(
    ruby: RubyResque, client: redis.Redis, redis_server: RedisServer, spans: InMemorySpanExporter
) -> None:
    resque = Resque(redis_server.url)
    resque.enqueue_to("traced", "TracedJob", "ok")
    resque.enqueue_to("traced", "TracedJob", "fail")
    pushed = [json.loads(raw) for raw in client.lrange("resque:queue:traced", 0, -1)]
    assert all("traceparent" in payload for payload in pushed)

    ruby.run(RUBY_FAILING_JOB + 'Resque::Worker.new("traced").work(0)\n')

    assert [json.loads(raw) for raw in client.lrange("traced:ran", 0, -1)] == [["ruby", "ok"]]
    (record,) = resque.failures.all()
    assert record.payload == pushed[1]
    assert record.exception == "ArgumentError"
