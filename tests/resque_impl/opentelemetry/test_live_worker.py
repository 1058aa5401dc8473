"""A producer span here and the perform span in a real ``resque-impl work`` process, instrumented only
by ``opentelemetry-instrument``, end up in one trace (``child``) or linked (``link``), with jobs forked
or not; a malformed ``traceparent`` starts a new trace, is marked, and never fails its job."""

from __future__ import annotations

from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from resque_impl import Resque
from resque_impl.opentelemetry import INVALID_CONTEXT_ATTRIBUTE, ResqueInstrumentor
from resque_impl.testing import RedisServer
from tests.resque_impl.opentelemetry.live import run_traced_worker, span_ids

MALFORMED = b'{"class":"TracedJob","args":["ok"],"traceparent":"00-not-a-trace-01"}'


@pytest.mark.parametrize("fork", ["--fork", "--no-fork"])
@pytest.mark.parametrize("style", ["link", "child"])
def test_a_traced_enqueue_continues_in_a_real_worker(
    redis_server: RedisServer,
    tmp_path: Path,
    instrument: ResqueInstrumentor,
    provider: TracerProvider,
    spans: InMemorySpanExporter,
    style: str,
    fork: str,
) -> None:
    instrument.uninstrument()
    instrument.instrument(tracer_provider=provider, propagation_style=style)
    redis_server.client().flushall()
    resque = Resque(redis_server.url)
    resque.enqueue_to("traced", "TracedJob", "ok")
    resque.enqueue_to("traced", "TracedJob", "fail")
    resque.store.push("traced", MALFORMED)
    sends = [(s.context.trace_id, s.context.span_id) for s in spans.get_finished_spans() if s.context]

    processes = run_traced_worker(redis_server.url, tmp_path / "worker.out", fork, style=style)

    assert [p["name"] for p in processes] == ["traced process"] * 3
    ok, failed, malformed = processes
    for send, process in zip(sends, (ok, failed), strict=True):
        if style == "child":
            assert span_ids(process)[0] == send[0]
            assert int(process["parent_id"], 16) == send[1]
        else:
            assert process["parent_id"] is None
            assert [span_ids(link) for link in process["links"]] == [send]
    assert failed["status"] == {"status_code": "ERROR", "description": "Unhandled exception of type: RuntimeError"}
    assert failed["events"][0]["attributes"]["exception.message"] == "asked to fail"
    assert (malformed["parent_id"], malformed["links"]) == (None, [])
    assert malformed["attributes"][INVALID_CONTEXT_ATTRIBUTE] is True
    assert malformed["status"] == {"status_code": "UNSET"}
    assert (resque.stat("processed"), resque.stat("failed")) == (3, 1)
