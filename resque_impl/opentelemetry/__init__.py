"""OpenTelemetry tracing for resque-impl, wire-compatible with Ruby's ``opentelemetry-instrumentation-resque``.

Install with ``pip install 'resque-impl[otel]'``; then either run a process under
``opentelemetry-instrument`` (this instrumentor is registered under the ``opentelemetry_instrumentor``
entry point, so ``opentelemetry-instrument resque-impl work ...`` traces a worker unchanged), or::

    from resque_impl.opentelemetry import ResqueInstrumentor

    ResqueInstrumentor().instrument(tracer_provider=provider, propagation_style="link", span_naming="queue")
    ...
    ResqueInstrumentor().uninstrument()

Every push of a job gets a ``PRODUCER`` span (``"<queue> send"``) whose context is written into the
payload as top-level ``traceparent``/``tracestate`` keys; every perform gets a ``CONSUMER`` span
(``"<queue> process"``) that continues it: a new trace linked to it (``link``, the default), a child
of it (``child``) or neither (``none``). Without an argument, ``propagation_style`` and ``span_naming``
come from ``OTEL_PYTHON_RESQUE_PROPAGATION_STYLE`` / ``OTEL_PYTHON_RESQUE_SPAN_NAMING``. See
``docs/tracing.md``.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any, cast

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from resque_impl import instrumentation
from resque_impl.opentelemetry.spans import (
    INVALID_CONTEXT_ATTRIBUTE,
    PropagationStyle,
    SpanNaming,
    SpanTracer,
    job_class_of,
)

__all__ = [
    "INVALID_CONTEXT_ATTRIBUTE",
    "PROPAGATION_STYLE_ENV",
    "SPAN_NAMING_ENV",
    "PropagationStyle",
    "ResqueInstrumentor",
    "SpanNaming",
    "job_class_of",
]

PROPAGATION_STYLE_ENV = "OTEL_PYTHON_RESQUE_PROPAGATION_STYLE"
SPAN_NAMING_ENV = "OTEL_PYTHON_RESQUE_SPAN_NAMING"
_STYLES = ("link", "child", "none")
_NAMINGS = ("queue", "job_class")


def _choice(value: Any, variable: str, allowed: tuple[str, ...], default: str) -> str:
    chosen = value if value is not None else os.environ.get(variable) or default
    if chosen not in allowed:
        source = "argument" if value is not None else variable
        raise ValueError(f"{source} must be one of {', '.join(allowed)}; got {chosen!r}")
    return str(chosen)


class ResqueInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces every push and perform of resque-impl jobs in this process (a singleton, as every
    OpenTelemetry instrumentor is).

    ``instrument()`` keywords: ``tracer_provider`` and ``meter_provider`` (default: the global ones);
    ``propagation_style`` (``"link"``, ``"child"`` or ``"none"``); ``span_naming`` (``"queue"`` or
    ``"job_class"``); ``force_flush`` (``None``, the default: flush in a forked job child before it
    exits; ``True``: after every job too; ``False``: never).
    """

    _tracer: SpanTracer | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ("resque-impl",)

    @property
    def tracer(self) -> SpanTracer | None:
        """The installed span tracer while instrumented (its ``invalid_count`` counts unreadable contexts)."""
        return self._tracer

    def _instrument(self, **kwargs: Any) -> None:
        style = _choice(kwargs.get("propagation_style"), PROPAGATION_STYLE_ENV, _STYLES, "link")
        naming = _choice(kwargs.get("span_naming"), SPAN_NAMING_ENV, _NAMINGS, "queue")
        self._tracer = SpanTracer(
            kwargs.get("tracer_provider"),
            kwargs.get("meter_provider"),
            propagation_style=cast(PropagationStyle, style),
            span_naming=cast(SpanNaming, naming),
            force_flush=kwargs.get("force_flush"),
        )
        instrumentation.install(self._tracer)

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._tracer is not None:
            instrumentation.uninstall(self._tracer)
            self._tracer = None
