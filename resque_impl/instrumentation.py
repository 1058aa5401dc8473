"""Hook points for a tracer: a context manager around each push of a job and one around each perform.

The job-event stream (:mod:`resque_impl.events`) reports what happened after the fact, in the
worker's own process. Tracing needs two things it cannot give: to *wrap* the push, so the trace
context can be written into the payload being pushed, and to wrap ``perform`` where it runs (in the
forked child when jobs fork). This module is those two points, process-wide because a tracer is
(OpenTelemetry's providers and propagators are globals, and ``opentelemetry-instrument`` installs
instrumentation before the application builds its :class:`~resque_impl.Resque`).

A :class:`JobTracer` is installed with :func:`install` (one at a time; installing another replaces
it). The library calls:

- :func:`sending` around every push of a job: ``enqueue``/``enqueue_to``, ``enqueue_many`` (once for
  the batch), ``push``, a retry from the failure list, the scheduler moving a delayed job or firing a
  recurring one. The mapping the tracer's context manager yields (for OpenTelemetry, ``traceparent``
  and ``tracestate``) is added as top-level keys to each payload encoded inside it, after ``class``
  and ``args``, as Ruby's ``opentelemetry-instrumentation-resque`` writes them.
- :func:`performing` around running a job (hooks and ``perform``) in the worker, the fake test mode
  and the inline test mode alike; an exception from the job passes through it.
- :func:`child_exiting` in a forked job child once the job ran, before it reports and leaves with
  ``os._exit`` (which skips ``atexit``): a tracer exports its buffered spans there.

With no tracer installed each call is one global look-up, and payloads are byte-identical to Ruby
Resque's. ``resque_impl.opentelemetry.ResqueInstrumentor`` is the OpenTelemetry tracer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Protocol

from resque_impl.codec import Payload

__all__ = [
    "JobTracer",
    "child_exiting",
    "install",
    "installed",
    "performing",
    "sending",
    "trace_headers",
    "uninstall",
]


class JobTracer(Protocol):
    """What :func:`install` takes."""

    def sending(
        self, queue: str, class_name: str, args: Sequence[Any], count: int
    ) -> contextlib.AbstractContextManager[Mapping[str, str]]:
        """Wrap pushing ``count`` jobs of ``class_name`` (``args``: the first job's) onto ``queue``;
        yield the keys to add to each payload pushed (empty for none)."""
        ...

    def performing(self, queue: str, payload: Payload) -> contextlib.AbstractContextManager[object]:
        """Wrap running the job in ``payload``, taken from ``queue``; exceptions pass through."""
        ...

    def child_exiting(self) -> None:
        """A forked job child is about to leave (with ``os._exit``): export what is buffered now."""
        ...


_tracer: JobTracer | None = None
_headers: ContextVar[Mapping[str, str] | None] = ContextVar("resque_impl_trace_headers", default=None)
_NOTHING: contextlib.nullcontext[None] = contextlib.nullcontext()


def install(tracer: JobTracer) -> None:
    """Make ``tracer`` wrap every push and perform in this process from now on."""
    global _tracer  # noqa: PLW0603 - the one process-wide slot, as OpenTelemetry's own globals are
    _tracer = tracer


def uninstall(tracer: JobTracer | None = None) -> None:
    """Remove the installed tracer (only if it is ``tracer``, when given)."""
    global _tracer  # noqa: PLW0603
    if tracer is None or _tracer is tracer:
        _tracer = None


def installed() -> JobTracer | None:
    """The installed tracer, if any."""
    return _tracer


def sending(
    queue: str, class_name: str, args: Sequence[Any], count: int = 1
) -> contextlib.AbstractContextManager[object]:
    """Wrap a push; payloads encoded inside carry the tracer's keys (see :func:`trace_headers`)."""
    tracer = _tracer
    if tracer is None:
        return _NOTHING
    return _sending(tracer, queue, class_name, args, count)


@contextlib.contextmanager
def _sending(tracer: JobTracer, queue: str, class_name: str, args: Sequence[Any], count: int) -> Iterator[None]:
    with tracer.sending(queue, class_name, args, count) as headers:
        token = _headers.set(headers or None)
        try:
            yield
        finally:
            _headers.reset(token)


def trace_headers() -> Mapping[str, str] | None:
    """The keys the innermost :func:`sending` asks to add to a payload being encoded now (``None``
    outside one, so that encoding a payload to compare it, as ``dequeue`` does, adds nothing)."""
    return _headers.get() if _tracer is not None else None


def performing(queue: str, payload: Payload) -> contextlib.AbstractContextManager[object]:
    """Wrap running the job in ``payload``."""
    tracer = _tracer
    if tracer is None:
        return _NOTHING
    return tracer.performing(queue, payload)


def child_exiting() -> None:
    """Tell the tracer a forked job child is about to leave."""
    tracer = _tracer
    if tracer is not None:
        tracer.child_exiting()
