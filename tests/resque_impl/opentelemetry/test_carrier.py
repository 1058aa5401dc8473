"""PayloadCarrier: a payload's trace context read as the global propagator reads it, its shortcut for a
plain ``traceparent`` included."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry import propagate, trace
from opentelemetry.baggage import get_all
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import CarrierT, Getter, default_getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from resque_impl.opentelemetry.carrier import PayloadCarrier

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture
def w3c() -> Iterator[None]:
    before = propagate.get_global_textmap()
    propagate.set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))
    yield
    propagate.set_global_textmap(before)


def w3c_reads(extras: Mapping[str, Any]) -> trace.SpanContext | None:
    context = TraceContextTextMapPropagator().extract({k: v for k, v in extras.items() if isinstance(v, str)})
    span_context = trace.get_current_span(context).get_span_context()
    return span_context if span_context.is_valid else None


@pytest.mark.parametrize(
    "traceparent",
    [
        TRACEPARENT,
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
        "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-future",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-nonsense",
        "",
    ],
)
def test_a_traceparent_reads_as_the_w3c_propagator_reads_it(w3c: None, traceparent: str) -> None:
    _, producer = PayloadCarrier().read({"traceparent": traceparent})
    assert producer == w3c_reads({"traceparent": traceparent})


def test_tracestate_and_baggage_are_kept_in_what_is_read(w3c: None) -> None:
    context, producer = PayloadCarrier().read(
        {"traceparent": TRACEPARENT, "tracestate": "vendor=abc", "baggage": "tenant=acme"}
    )
    assert producer is not None
    assert producer.trace_state.get("vendor") == "abc"
    assert context is not None
    assert dict(get_all(context)) == {"tenant": "acme"}


def test_a_payload_without_context_keys_reads_as_nothing(w3c: None) -> None:
    assert PayloadCarrier().read({}) == (None, None)
    assert PayloadCarrier().read({"enqueued_at": 1.5}) == (None, None)


def test_a_propagator_the_application_installed_reads_every_payload() -> None:
    carriers: list[object] = []

    class Recording(TraceContextTextMapPropagator):
        def extract(
            self, carrier: CarrierT, context: Context | None = None, getter: Getter[CarrierT] = default_getter
        ) -> Context:
            carriers.append(carrier)
            return super().extract(carrier, context, getter)

    before = propagate.get_global_textmap()
    propagate.set_global_textmap(Recording())
    try:
        _, producer = PayloadCarrier().read({"traceparent": TRACEPARENT})
    finally:
        propagate.set_global_textmap(before)
    assert carriers == [{"traceparent": TRACEPARENT}]
    assert producer == w3c_reads({"traceparent": TRACEPARENT})
