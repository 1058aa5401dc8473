"""Units, normalised once: times to float seconds, rates to float per second, sizes to float MB,
probabilities and shares to floats in [0, 1]; and the annotated field types that parse them.

Every parser raises ``ValueError`` with a message fit for a user.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, TypeGuard

from annotated_types import Gt
from pydantic import BeforeValidator, Field

from resque_sim.scenario.errors import show

__all__ = [
    "Fraction",
    "Megabytes",
    "Name",
    "PositiveMegabytes",
    "PositiveRate",
    "PositiveSeconds",
    "Rate",
    "Seconds",
    "parse_duration",
    "parse_fraction",
    "parse_interval",
    "parse_megabytes",
    "parse_rate",
    "split_queue_list",
]


_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DURATION_RE = re.compile(rf"\s*({_NUMBER})\s*(ms|s|m|h|d)?\s*")
_RATE_RE = re.compile(rf"\s*({_NUMBER})\s*/\s*(s|m|h)\s*")
_PERCENT_RE = re.compile(rf"\s*({_NUMBER})\s*%\s*")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass, but `true` is never a sensible number of seconds
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_duration(value: object) -> float:
    """Seconds from ``250ms``, ``0.5s``, ``30m``, ``2h``, ``1d`` or a bare (non-negative) number of seconds.

    Raises ``ValueError`` with a message fit for a user.
    """
    if _is_number(value):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{show(value)} is not a duration; durations are finite and not negative")
        return float(value)
    match = _DURATION_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{show(value)} is not a duration; use a number with ms, s, m, h or d (e.g. 500ms, 30s, 10m),"
            " or a bare number of seconds"
        )
    return float(match[1]) * _SECONDS_PER_UNIT[match[2] or "s"]


def parse_rate(value: object) -> float:
    """Events per second from ``5/s``, ``300/m``, ``1000/h`` or a bare (non-negative) number per second."""
    if _is_number(value) and math.isfinite(value) and value >= 0:
        return float(value)
    match = _RATE_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{show(value)} is not a rate; use N/s, N/m or N/h")
    return float(match[1]) / _SECONDS_PER_UNIT[match[2]]


def parse_fraction(value: object) -> float:
    """A probability or share: a number in [0, 1] or a percentage string like ``5%``."""
    if _is_number(value):
        fraction = float(value)
    elif isinstance(value, str) and (match := _PERCENT_RE.fullmatch(value)):
        fraction = float(match[1]) / 100
    else:
        raise ValueError(f"{show(value)} is not a fraction; use a number from 0 to 1, or a percentage like 5%")
    if not 0 <= fraction <= 1:
        raise ValueError(f"{show(value)} is outside 0..1")
    return fraction


def parse_megabytes(value: object) -> float:
    if not (_is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{show(value)} is not a size; use a non-negative number of megabytes")
    return float(value)


def split_queue_list(value: object) -> object:
    """Queues may also be written like Resque's QUEUES variable: ``"critical,email,*"``."""
    return [queue.strip() for queue in value.split(",")] if isinstance(value, str) else value


def parse_interval(value: object) -> float | str:
    if value == "instant":
        return value
    seconds = parse_duration(value)
    if seconds == 0:
        # Resque's INTERVAL=0 means "drain the queues and exit", which a simulated pool cannot model
        raise ValueError(
            'must be above 0 (Resque\'s INTERVAL=0 drains and exits); use "instant" '
            "for workers woken at once on enqueue"
        )
    return seconds


Seconds = Annotated[float, BeforeValidator(parse_duration)]
PositiveSeconds = Annotated[Seconds, Gt(0)]
Rate = Annotated[float, BeforeValidator(parse_rate)]
PositiveRate = Annotated[Rate, Gt(0)]
Fraction = Annotated[float, BeforeValidator(parse_fraction)]
Megabytes = Annotated[float, BeforeValidator(parse_megabytes)]
PositiveMegabytes = Annotated[Megabytes, Gt(0)]
Name = Annotated[str, Field(min_length=1)]
