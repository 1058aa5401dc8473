"""ResqueInstrumentor: push and perform spans named, attributed and linked as Ruby's gem makes them,
with the trace context carried in the payload's top-level keys."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import fakeredis
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanContext, SpanKind, StatusCode

from resque_impl import ManualClock, Registry, Resque, instrumentation, job
from resque_impl.aio import AsyncResque
from resque_impl.codec import Payload
from resque_impl.opentelemetry import INVALID_CONTEXT_ATTRIBUTE, ResqueInstrumentor, job_class_of
from resque_impl.scheduler import Recurring, parse_schedule
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import fake_mode, inline_mode
from resque_impl.worker import Worker

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def jobs() -> Registry:
    registry = Registry()

    @job(queue="mail", registry=registry)
    class SendMail:
        @staticmethod
        def perform(address: str) -> None:
            if "@" not in address:
                raise ValueError(f"not an address: {address}")

    return registry


def make_resque() -> Resque:
    return Resque(store=MemoryStore(), registry=jobs())


def work_off(resque: Resque) -> None:
    worker = Worker(["mail"], resque=resque)
    reserved = worker.reserve()
    while reserved is not None:
        reserved = worker.done(reserved, worker.perform(reserved), reserve_next=True)


def by_kind(spans: InMemorySpanExporter, kind: SpanKind) -> list[ReadableSpan]:
    return [span for span in spans.get_finished_spans() if span.kind == kind]


def ids(span: ReadableSpan | SpanContext | None) -> tuple[int, int]:
    context = span if isinstance(span, SpanContext) or span is None else span.context
    assert context is not None
    return context.trace_id, context.span_id


def hexes(traceparent: str) -> tuple[int, int]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


def test_the_instrumentor_is_registered_for_opentelemetry_instrument() -> None:
    (point,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "resque_impl"]
    assert point.load() is ResqueInstrumentor


def test_without_instrumentation_payloads_are_ruby_s_bytes() -> None:
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "ann@example.com")
    assert resque.peek_raw("mail") == [b'{"class":"SendMail","args":["ann@example.com"]}']


@pytest.mark.usefixtures("instrument")
def test_enqueue_writes_the_producer_span_s_context_as_top_level_keys(spans: InMemorySpanExporter) -> None:
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "ann@example.com")
    (send,) = spans.get_finished_spans()
    body = json.loads(resque.peek_raw("mail")[0])
    assert list(body) == ["class", "args", "traceparent"]
    assert hexes(body["traceparent"]) == ids(send)


@pytest.mark.usefixtures("instrument")
def test_producer_span_has_ruby_s_name_kind_and_attributes_plus_current_semconv(
    spans: InMemorySpanExporter,
) -> None:
    make_resque().enqueue_to("mail", "SendMail", "ann@example.com")
    (send,) = spans.get_finished_spans()
    assert (send.name, send.kind) == ("mail send", SpanKind.PRODUCER)
    assert dict(send.attributes or {}) == {
        "messaging.system": "resque",
        "messaging.destination": "mail",
        "messaging.destination_kind": "queue",
        "messaging.resque.job_class": "SendMail",
        "messaging.destination.name": "mail",
        "messaging.operation.type": "send",
        "messaging.operation.name": "send",
    }


def test_link_style_starts_a_new_trace_linked_to_the_producer(
    instrument: ResqueInstrumentor, spans: InMemorySpanExporter
) -> None:
    resque = make_resque()
    resque.enqueue(resque.registry.resolve("SendMail"), "ann@example.com")
    work_off(resque)
    (send,) = by_kind(spans, SpanKind.PRODUCER)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert process.name == "mail process"
    assert process.parent is None
    assert ids(process)[0] != ids(send)[0]
    assert [ids(link.context) for link in process.links] == [ids(send)]


def test_child_style_continues_the_producer_s_trace(
    instrument: ResqueInstrumentor, provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    instrument.uninstrument()
    instrument.instrument(tracer_provider=provider, propagation_style="child", span_naming="job_class")
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "ann@example.com")
    work_off(resque)
    (send,) = by_kind(spans, SpanKind.PRODUCER)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert (send.name, process.name) == ("SendMail send", "SendMail process")
    assert process.parent is not None
    assert (process.parent.trace_id, process.parent.span_id) == ids(send)
    assert not process.links


def test_none_style_neither_continues_nor_links(
    instrument: ResqueInstrumentor, provider: TracerProvider, spans: InMemorySpanExporter
) -> None:
    instrument.uninstrument()
    instrument.instrument(tracer_provider=provider, propagation_style="none")
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "ann@example.com")
    work_off(resque)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert process.parent is None
    assert not process.links


def test_a_bad_option_is_refused() -> None:
    with pytest.raises(ValueError, match="link, child, none"):
        ResqueInstrumentor().instrument(propagation_style="sideways")
    ResqueInstrumentor().uninstrument()


@pytest.mark.usefixtures("instrument")
def test_a_failing_job_s_span_records_the_exception_and_an_error_status(spans: InMemorySpanExporter) -> None:
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "nobody")
    work_off(resque)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert process.status.status_code == StatusCode.ERROR
    assert process.status.description == "Unhandled exception of type: ValueError"
    (event,) = process.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.message"] == "not an address: nobody"
    assert resque.failures.count() == 1


@pytest.mark.usefixtures("instrument")
def test_an_unknown_class_fails_inside_the_perform_span(spans: InMemorySpanExporter) -> None:
    resque = make_resque()
    resque.enqueue_to("mail", "Ruby::Only", 1)
    work_off(resque)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert process.status.status_code == StatusCode.ERROR
    assert dict(process.attributes or {})["messaging.resque.job_class"] == "Ruby::Only"


@pytest.mark.usefixtures("instrument")
def test_activejob_wrapper_spans_name_the_wrapped_class(spans: InMemorySpanExporter) -> None:
    wrapper = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"
    make_resque().enqueue_to("default", wrapper, {"job_class": "WelcomeJob", "arguments": []})
    (send,) = spans.get_finished_spans()
    assert dict(send.attributes or {})["messaging.resque.job_class"] == "WelcomeJob"
    assert job_class_of(wrapper, ["not a hash"]) == wrapper


def test_a_malformed_traceparent_starts_a_new_trace_is_counted_and_the_job_runs(
    instrument: ResqueInstrumentor, spans: InMemorySpanExporter
) -> None:
    resque = make_resque()
    resque.store.push("mail", b'{"class":"SendMail","args":["ann@example.com"],"traceparent":"00-nonsense"}')
    resque.store.push("mail", b'{"class":"SendMail","args":["bob@example.com"],"traceparent":42}')
    work_off(resque)
    processes = by_kind(spans, SpanKind.CONSUMER)
    assert [dict(p.attributes or {}).get(INVALID_CONTEXT_ATTRIBUTE) for p in processes] == [True, True]
    assert all(p.parent is None and not p.links for p in processes)
    assert instrument.tracer is not None
    assert instrument.tracer.invalid_count == 2
    assert resque.failures.count() == 0
    assert resque.stat("processed") == 2


@pytest.mark.usefixtures("instrument")
def test_enqueue_many_is_one_producer_span_whose_context_every_payload_carries(
    spans: InMemorySpanExporter,
) -> None:
    resque = make_resque()
    assert resque.enqueue_many("SendMail", [["a@x"], ["b@x"]], queue="mail") == 2
    (send,) = spans.get_finished_spans()
    assert dict(send.attributes or {})["messaging.batch.message_count"] == 2
    parents = {json.loads(raw)["traceparent"] for raw in resque.peek_raw("mail", 0, 2)}
    assert [hexes(parent) for parent in parents] == [ids(send)]


@pytest.mark.usefixtures("instrument")
def test_push_of_a_ready_payload_is_a_push_span_and_replaces_an_old_context(spans: InMemorySpanExporter) -> None:
    resque = make_resque()
    resque.push("mail", {"class": "SendMail", "args": [1], "traceparent": TRACEPARENT, "custom": True})
    (send,) = spans.get_finished_spans()
    body = json.loads(resque.peek_raw("mail")[0])
    assert list(body) == ["class", "args", "traceparent", "custom"]  # replaced in place, as Ruby's hash update
    assert hexes(body["traceparent"]) == ids(send)


@pytest.mark.usefixtures("instrument")
def test_retrying_a_failure_is_a_new_push_with_a_new_context(spans: InMemorySpanExporter) -> None:
    resque = make_resque()
    resque.enqueue_to("mail", "SendMail", "nobody")
    work_off(resque)
    spans.clear()
    resque.failures.retry_and_remove(resque.failures.all(0, 1)[0])
    (send,) = spans.get_finished_spans()
    assert send.name == "mail send"
    body = json.loads(resque.peek_raw("mail")[0])
    assert (list(body), hexes(body["traceparent"])) == (["class", "args", "traceparent"], ids(send))


@pytest.mark.usefixtures("instrument")
def test_a_delayed_job_continues_from_the_scheduler_s_push_span_not_the_enqueue_at_call(
    spans: InMemorySpanExporter,
) -> None:
    resque = make_resque()
    when = int(resque.clock.time()) + 60
    resque.enqueue_at(when, "SendMail", "ann@example.com")
    (delayed,) = resque.store.delayed_range(when, 0, 1)
    assert b"traceparent" not in delayed  # remove_delayed matches delayed items by their bytes
    assert spans.get_finished_spans() == ()
    assert resque.release_due(when + 1) == 1
    (send,) = spans.get_finished_spans()
    assert send.name == "mail send"
    assert hexes(json.loads(resque.peek_raw("mail")[0])["traceparent"]) == ids(send)


@pytest.mark.usefixtures("instrument")
def test_a_recurring_tick_is_a_push_span_in_the_scheduler(spans: InMemorySpanExporter) -> None:
    clock = ManualClock()
    resque = Resque(store=MemoryStore(), registry=jobs(), clock=clock)
    recurring = Recurring(resque, parse_schedule({"m": {"cron": "* * * * *", "class": "Min", "queue": "q"}}))
    now = clock.advance(600)
    assert recurring.fire_due(now - 60, now) == ["m"]
    (send,) = spans.get_finished_spans()
    assert (send.name, dict(send.attributes or {})["messaging.resque.job_class"]) == ("q send", "Min")
    assert hexes(json.loads(resque.peek_raw("q")[0])["traceparent"]) == ids(send)


@pytest.mark.usefixtures("instrument")
def test_fake_mode_makes_the_same_spans_as_a_worker(spans: InMemorySpanExporter) -> None:
    with fake_mode(registry=jobs()) as fake:
        fake.resque.enqueue_to("mail", "SendMail", "ann@example.com")
        fake.drain()
    (send,) = by_kind(spans, SpanKind.PRODUCER)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert (send.name, process.name) == ("mail send", "mail process")
    assert [ids(link.context) for link in process.links] == [ids(send)]


@pytest.mark.usefixtures("instrument")
def test_inline_mode_makes_the_same_spans_as_a_worker(spans: InMemorySpanExporter) -> None:
    with inline_mode():
        make_resque().enqueue_to("mail", "SendMail", "ann@example.com")
    (send,) = by_kind(spans, SpanKind.PRODUCER)
    (process,) = by_kind(spans, SpanKind.CONSUMER)
    assert (send.name, process.name) == ("mail send", "mail process")
    assert [ids(link.context) for link in process.links] == [ids(send)]


def test_uninstrument_removes_the_hooks() -> None:
    instrumentor = ResqueInstrumentor()
    instrumentor.instrument(tracer_provider=TracerProvider())
    assert instrumentation.installed() is instrumentor.tracer
    instrumentor.uninstrument()
    assert instrumentation.installed() is None
    resque = make_resque()
    resque.push("mail", Payload("SendMail", [1]))
    assert resque.peek_raw("mail") == [b'{"class":"SendMail","args":[1]}']


@pytest.mark.usefixtures("instrument")
@pytest.mark.asyncio
async def test_the_asyncio_client_opens_the_same_producer_spans(spans: InMemorySpanExporter) -> None:
    server = fakeredis.FakeServer()
    resque = AsyncResque(fakeredis.FakeAsyncRedis(server=server), registry=jobs())
    await resque.enqueue_to("mail", "SendMail", "ann@example.com")
    await resque.enqueue_many("SendMail", [["bob@example.com"], ["cy@example.com"]], queue="mail")
    await resque.push("mail", {"class": "SendMail", "args": ["di@example.com"]})
    await resque.aclose()
    sends = spans.get_finished_spans()
    assert [(span.name, span.kind) for span in sends] == [("mail send", SpanKind.PRODUCER)] * 3
    assert dict(sends[1].attributes or {})["messaging.batch.message_count"] == 2
    payloads = [json.loads(raw) for raw in fakeredis.FakeRedis(server=server).lrange("resque:queue:mail", 0, -1)]
    assert [hexes(body["traceparent"]) for body in payloads] == [
        ids(sends[0]),
        ids(sends[1]),
        ids(sends[1]),
        ids(sends[2]),
    ]
