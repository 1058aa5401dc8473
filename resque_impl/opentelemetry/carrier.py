"""Reading the trace context a payload carries in its extra keys, through the global propagator, on
every job's path: so the common cases skip it when they can give the same answer for less."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.textmap import Getter, TextMapPropagator
from opentelemetry.trace import SpanContext, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["PayloadCarrier"]

# The one traceparent form every W3C reader accepts unchanged: version 00, lowercase hex, nothing
# around it. Anything else (other versions, spaces, upper case, junk) goes through the propagator.
_PLAIN_TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")
_W3C = (TraceContextTextMapPropagator, W3CBaggagePropagator)


class _PayloadGetter(Getter[Mapping[str, Any]]):
    """Reads propagation keys from a payload's extra keys; a key that is not a string reads as absent."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key)
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier)


_GETTER = _PayloadGetter()


def _only_w3c(textmap: TextMapPropagator) -> bool:
    """Whether ``textmap`` is W3C trace context, alone or with W3C baggage (the SDK's default)."""
    if type(textmap) is TraceContextTextMapPropagator:
        return True
    # A private attribute, read defensively: should it change, the shortcut is simply not taken.
    parts = getattr(textmap, "_propagators", None) if type(textmap) is CompositePropagator else None
    return (
        isinstance(parts, list | tuple)
        and any(type(part) is TraceContextTextMapPropagator for part in parts)
        and all(type(part) in _W3C for part in parts)
    )


class PayloadCarrier:
    """Reads payloads' trace context through whatever propagator is global at the time."""

    def __init__(self) -> None:
        # (the propagator, the keys it reads, whether it is W3C only); looked up again when it is replaced.
        self._known: tuple[object, frozenset[str], bool] = (None, frozenset(), False)

    def read(self, extras: Mapping[str, Any]) -> tuple[Context | None, SpanContext | None]:
        """What ``extras`` carry: ``(context, producer)``. ``context`` is what the propagator extracts,
        or None when it would extract nothing but ``producer`` (or nothing at all: then an empty
        context is what it extracts); ``producer`` is the valid remote span context, or None."""
        textmap = propagate.get_global_textmap()
        known = self._known
        if known[0] is not textmap:
            known = self._known = (textmap, frozenset(textmap.fields), _only_w3c(textmap))
        if not extras or known[1].isdisjoint(extras):
            return None, None
        if known[2] and "tracestate" not in extras and "baggage" not in extras:
            producer = _plain_traceparent(extras.get("traceparent"))
            if producer is not None:
                return None, producer
        context = textmap.extract(extras, getter=_GETTER)
        remote = trace.get_current_span(context).get_span_context()
        return context, remote if remote.is_valid else None


def _plain_traceparent(value: object) -> SpanContext | None:
    """The span context in a traceparent of the plain form, as the W3C propagator reads it."""
    match = _PLAIN_TRACEPARENT.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    trace_id, span_id = int(match[1], 16), int(match[2], 16)
    if not trace_id or not span_id:
        return None
    return SpanContext(trace_id, span_id, is_remote=True, trace_flags=TraceFlags(int(match[3], 16)))
