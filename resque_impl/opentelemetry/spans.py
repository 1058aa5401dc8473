"""The OpenTelemetry :class:`~resque_impl.instrumentation.JobTracer`: push and perform spans named and
attributed as Ruby's ``opentelemetry-instrumentation-resque`` names them, with the context carried in
the payload's top-level keys as that gem writes them."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType, TracebackType
from typing import Any, Literal

from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from resque_impl.activejob.envelope import WRAPPER_CLASS
from resque_impl.codec import Payload
from resque_impl.opentelemetry.carrier import PayloadCarrier
from resque_impl.version import __version__

__all__ = ["INVALID_CONTEXT_ATTRIBUTE", "PropagationStyle", "SpanNaming", "SpanTracer", "job_class_of"]

log = logging.getLogger("resque_impl.opentelemetry")

PropagationStyle = Literal["link", "child", "none"]
SpanNaming = Literal["queue", "job_class"]

#: Set (``True``) on a perform span whose payload carried a ``traceparent`` that could not be read.
INVALID_CONTEXT_ATTRIBUTE = "resque.trace_context.invalid"

_LABELS_KEPT = 1024
_NO_CONTEXT = Context()
_NEW_TRACE = trace.set_span_in_context(trace.INVALID_SPAN, _NO_CONTEXT)


def job_class_of(class_name: str, args: Sequence[Any]) -> str:
    """The class a job runs: the ActiveJob class for Rails' ``JobWrapper``, else the payload's class."""
    if class_name == WRAPPER_CLASS and args and isinstance(args[0], Mapping):
        wrapped = args[0].get("job_class")
        if isinstance(wrapped, str):
            return wrapped
    return class_name


def _attributes(queue: str, job_class: str, operation: str) -> dict[str, Any]:
    return {
        # The names Ruby's gem writes (older messaging semantic conventions), so one query serves both...
        "messaging.system": "resque",
        "messaging.destination": queue,
        "messaging.destination_kind": "queue",
        "messaging.resque.job_class": job_class,
        # ...and today's names for the same facts.
        "messaging.destination.name": queue,
        "messaging.operation.type": operation,
        "messaging.operation.name": operation,
    }


class SpanTracer:
    """Opens a producer span around each push and a consumer span around each perform."""

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None,
        meter_provider: metrics.MeterProvider | None,
        *,
        propagation_style: PropagationStyle,
        span_naming: SpanNaming,
        force_flush: bool | None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer = trace.get_tracer(__name__, __version__, tracer_provider)
        meter = metrics.get_meter(__name__, __version__, meter_provider)
        self.invalid_contexts = meter.create_counter(
            "resque.trace_context.invalid", unit="{job}", description="Jobs whose payload traceparent was unreadable"
        )
        self.propagation_style = propagation_style
        self.span_naming = span_naming
        self.force_flush = force_flush
        #: How many payloads in this process carried a ``traceparent`` that could not be read.
        self.invalid_count = 0
        self._counting = threading.Lock()  # job slots perform in several threads
        self._label_cache: dict[tuple[str, str, str], tuple[str, Mapping[str, Any]]] = {}
        self._carrier = PayloadCarrier()

    def _labels(self, queue: str, job_class: str, operation: str) -> tuple[str, Mapping[str, Any]]:
        """A span's name and attributes, made once per queue, class and operation: the SDK copies
        attributes into the span (and a sampler sees them read-only), so one mapping serves every job."""
        key = (queue, job_class, operation)
        labels = self._label_cache.get(key)
        if labels is None:
            if len(self._label_cache) >= _LABELS_KEPT:  # queue names can be made up at run time
                self._label_cache.clear()
            labels = self._label_cache[key] = (
                f"{job_class if self.span_naming == 'job_class' else queue} {operation}",
                MappingProxyType(_attributes(queue, job_class, operation)),
            )
        return labels

    @contextlib.contextmanager
    def sending(self, queue: str, class_name: str, args: Sequence[Any], count: int) -> Iterator[Mapping[str, str]]:
        name, attributes = self._labels(queue, job_class_of(class_name, args), "send")
        if count != 1:
            attributes = {**attributes, "messaging.batch.message_count": count}
        # Not made current: a scheduler batch holds one span per job open until the batch is pushed,
        # and they are siblings under the caller's span, not each other's children.
        span = self.tracer.start_span(name, kind=SpanKind.PRODUCER, attributes=attributes)
        try:
            headers: dict[str, str] = {}
            propagate.inject(headers, context=trace.set_span_in_context(span))
            yield headers
        except BaseException as error:
            if span.is_recording():
                _record(span, error)
            raise
        finally:
            span.end()

    def performing(self, queue: str, payload: Payload) -> _Performing:
        return _Performing(self, queue, payload)

    def start_perform_span(self, queue: str, payload: Payload) -> Span:
        """The consumer span for running ``payload`` (not made current; :class:`_Performing` does that)."""
        name, attributes = self._labels(queue, job_class_of(payload.class_name, payload.args), "process")
        extras = payload.extras
        context, producer = self._carrier.read(extras)
        if producer is None and "traceparent" in extras:
            self._count_invalid(payload)
            attributes = {**attributes, INVALID_CONTEXT_ATTRIBUTE: True}
        links: tuple[Link, ...] = ()
        if self.propagation_style == "child":
            parent = context if context is not None else _NO_CONTEXT
            if context is None and producer is not None:
                parent = trace.set_span_in_context(trace.NonRecordingSpan(producer), _NO_CONTEXT)
        else:
            # A new trace (what else was carried, such as baggage, kept), linked to the producer's span
            # for ``link``, as Ruby's gem does.
            parent = _NEW_TRACE if context is None else trace.set_span_in_context(trace.INVALID_SPAN, context)
            if self.propagation_style == "link" and producer is not None:
                links = (Link(producer),)
        return self.tracer.start_span(
            name,
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
            record_exception=False,
            set_status_on_exception=False,
        )

    def _count_invalid(self, payload: Payload) -> None:
        with self._counting:
            self.invalid_count += 1
        self.invalid_contexts.add(1, {"messaging.system": "resque"})
        log.warning(
            "%s job: unreadable traceparent %r; starting a new trace",
            payload.class_name,
            payload.extras.get("traceparent"),
        )

    def flush(self) -> None:
        """Export what the providers buffered (a forked child does this before it exits)."""
        for provider in (
            self.tracer_provider or trace.get_tracer_provider(),
            self.meter_provider or metrics.get_meter_provider(),
        ):
            flush = getattr(provider, "force_flush", None)
            if flush is not None:
                try:
                    flush()
                except Exception:  # exporting is best effort; the job's outcome must still be reported
                    log.exception("force_flush of %r failed", provider)

    def child_exiting(self) -> None:
        if self.force_flush is not False:
            self.flush()


class _Performing:
    """The consumer span around one perform, current while the job runs; a class rather than a
    generator-based context manager because it is on every job's path."""

    __slots__ = ("_payload", "_queue", "_span", "_token", "_tracer")

    def __init__(self, tracer: SpanTracer, queue: str, payload: Payload) -> None:
        self._tracer = tracer
        self._queue = queue
        self._payload = payload

    def __enter__(self) -> Span:
        span = self._span = self._tracer.start_perform_span(self._queue, self._payload)
        self._token = otel_context.attach(trace.set_span_in_context(span))
        return span

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        span = self._span
        try:
            if error is not None and span.is_recording():
                _record(span, error)
        finally:
            otel_context.detach(self._token)
            span.end()
            if self._tracer.force_flush:
                self._tracer.flush()


def _record(span: Span, error: BaseException) -> None:
    span.record_exception(error)
    span.set_status(Status(StatusCode.ERROR, f"Unhandled exception of type: {type(error).__name__}"))
