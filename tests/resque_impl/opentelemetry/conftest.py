"""An instrumented process for one test: an SDK provider recording finished spans in memory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from resque_impl.opentelemetry import ResqueInstrumentor


@pytest.fixture
def provider() -> TracerProvider:
    return TracerProvider()


@pytest.fixture
def spans(provider: TracerProvider) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def instrument(provider: TracerProvider, spans: InMemorySpanExporter) -> Iterator[ResqueInstrumentor]:
    """Instrumented with ``link`` propagation and queue naming; a test wanting other settings
    re-instruments (``instrumentor.uninstrument(); instrumentor.instrument(...)``)."""
    instrumentor = ResqueInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    yield instrumentor
    instrumentor.uninstrument()
