"""ActiveJob's ``_aj_serialized`` values: the serializers Rails ships, mapped to Python types.

=========================  ===========================================  ==============================
serializer (``ActiveJob::  on the wire (Rails 6.1)                      Python
Serializers::...``)
=========================  ===========================================  ==============================
``SymbolSerializer``       ``{"value": "paid"}``                        :class:`Symbol`
``TimeSerializer``         ``{"value": "2026-01-02T03:04:05.123456789Z"}``  aware ``datetime``
``DateTimeSerializer``     same format                                  :class:`DateTime`
``TimeWithZoneSerializer`` same format                                  :class:`TimeWithZone`
``DateSerializer``         ``{"value": "2026-01-02"}``                  ``date``
``DurationSerializer``     ``{"value": 5400, "parts": [[:hours, 1], ...]}``  ``timedelta``
``ModuleSerializer``       ``{"value": "Admin::Report"}``               :class:`RubyModule`
``BigDecimalSerializer``   ``{"value": "0.15e1"}`` (Rails >= 7.1)      ``Decimal`` (read only)
=========================  ===========================================  ==============================

Times keep Ruby's nanoseconds only to the microsecond (Python's precision). A ``Decimal`` is sent as
Rails 6.1 sends a ``BigDecimal``: as its Ruby string (``"0.15e1"``), which Rails hands to ``perform``
as a String; 6.1 has no serializer for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from resque_impl.activejob.values import DateTime, RubyModule, Symbol, TimeWithZone

__all__ = [
    "SERIALIZED_KEY",
    "decimal_text",
    "deserialize_object",
    "format_time",
    "parse_time",
    "serialize_object",
]

#: The key marking a hash as one serializer's output; its value names the serializer.
SERIALIZED_KEY = "_aj_serialized"
_PREFIX = "ActiveJob::Serializers::"
SYMBOL = _PREFIX + "SymbolSerializer"
TIME = _PREFIX + "TimeSerializer"
DATE_TIME = _PREFIX + "DateTimeSerializer"
TIME_WITH_ZONE = _PREFIX + "TimeWithZoneSerializer"
DATE = _PREFIX + "DateSerializer"
DURATION = _PREFIX + "DurationSerializer"
MODULE = _PREFIX + "ModuleSerializer"
BIG_DECIMAL = _PREFIX + "BigDecimalSerializer"

_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})T(?P<h>\d{2}):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<frac>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:?\d{2})"
)

#: Serializes one nested value (the argument serializer, passed in to keep the recursion in one place).
Nested = Callable[[Any], Any]


def format_time(value: datetime, digits: int = 9) -> str:
    """``value`` as Ruby's ``Time#iso8601(digits)`` writes it: ``Z`` for UTC, else ``+HH:MM``.

    Raises :class:`ValueError` for a naive datetime or an offset with seconds (Ruby cannot write one).
    """
    offset = value.utcoffset()
    if offset is None:
        raise ValueError("naive datetime has no time zone; pass an aware one, e.g. datetime.now(timezone.utc)")
    # Formatted by hand: strftime's %Y does not pad years before 1000 on every platform.
    text = f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    if digits:
        text += "." + f"{value.microsecond:06d}{'0' * 9}"[:digits]
    if not offset and value.tzname() == "UTC":
        return text + "Z"
    minutes, seconds = divmod(int(offset.total_seconds()), 60)
    if seconds or offset.microseconds:
        raise ValueError(f"UTC offset {offset} has seconds, which Ruby's ISO 8601 times cannot carry")
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def parse_time(text: object) -> datetime:
    """An ISO 8601 time as Ruby writes it, with its offset, to the microsecond; :class:`ValueError`
    for anything else (a time without an offset too: it would be read in some machine's local zone)."""
    match = _TIME.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 time with a UTC offset")
    zone = match["zone"]
    if zone == "Z":
        tz = timezone.utc
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    day = date.fromisoformat(match["date"])
    micro = int((match["frac"] or "0")[:6].ljust(6, "0"))
    return datetime(day.year, day.month, day.day, int(match["h"]), int(match["m"]), int(match["s"]), micro, tz)


def decimal_text(value: Decimal) -> str:
    """``value`` as Ruby's ``BigDecimal#to_s`` writes it: ``Decimal("1.50")`` -> ``"0.15e1"``."""
    if not value.is_finite():
        raise ValueError(f"Decimal {value} is not a finite number")
    sign, digit_tuple, exponent = value.as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    minus = "-" if sign else ""
    if not digits:
        return f"{minus}0.0"
    assert isinstance(exponent, int)  # finite
    return f"{minus}0.{digits.rstrip('0')}e{len(digits) + exponent}"


def _duration_parts(value: timedelta) -> list[list[Any]]:
    """Days, hours, minutes and seconds, as Rails' ``2.days + 3.hours`` lists them (never weeks or
    months, which Rails adds by the calendar)."""
    sign = -1 if value < timedelta(0) else 1
    whole = abs(value)
    hours, rest = divmod(whole.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    second_part: float = seconds + whole.microseconds / 1_000_000 if whole.microseconds else seconds
    parts = [("days", whole.days), ("hours", hours), ("minutes", minutes), ("seconds", second_part)]
    return [[Symbol(name), sign * amount] for name, amount in parts if amount] or [[Symbol("seconds"), 0]]


def _seconds(value: timedelta) -> int | float:
    if value.microseconds:
        return value.total_seconds()
    return value.days * 86400 + value.seconds


def serialize_object(value: Any, nested: Nested) -> dict[str, Any] | None:
    """The ``_aj_serialized`` hash for ``value``, or ``None`` if no serializer takes it.

    Raises :class:`ValueError` for a value a serializer takes but cannot write (a naive datetime).
    """
    if isinstance(value, Symbol):
        return {SERIALIZED_KEY: SYMBOL, "value": str(value)}
    if isinstance(value, datetime):
        name = DATE_TIME if isinstance(value, DateTime) else TIME_WITH_ZONE if isinstance(value, TimeWithZone) else TIME
        return {SERIALIZED_KEY: name, "value": format_time(value)}
    if isinstance(value, date):
        return {SERIALIZED_KEY: DATE, "value": value.isoformat()}
    if isinstance(value, timedelta):
        return {SERIALIZED_KEY: DURATION, "value": _seconds(value), "parts": nested(_duration_parts(value))}
    if isinstance(value, RubyModule):
        return {SERIALIZED_KEY: MODULE, "value": value.name}
    return None


def _value(data: dict[str, Any]) -> Any:
    if "value" not in data:
        raise ValueError(f'{data[SERIALIZED_KEY]} hash has no "value"')
    return data["value"]


def _string(data: dict[str, Any]) -> str:
    value = _value(data)
    if not isinstance(value, str):
        raise ValueError(f'{data[SERIALIZED_KEY]} "value" is a {type(value).__name__}, not a string')
    return value


def _duration(data: dict[str, Any], nested: Nested) -> timedelta:
    value = _value(data)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{DURATION} "value" is {value!r}, not a number of seconds')
    parts = data.get("parts")
    if not isinstance(parts, list):
        raise ValueError(f'{DURATION} "parts" is {parts!r}, not a list')
    nested(parts)  # read for its errors: the seconds in "value" are what Python keeps
    return timedelta(seconds=value)


def _decimal(data: dict[str, Any]) -> Decimal:
    text = _string(data)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None


def deserialize_object(data: dict[str, Any], nested: Nested) -> Any:
    """The Python value of a ``_aj_serialized`` hash; :class:`ValueError` saying what is wrong with it
    (an unknown serializer, a missing or mistyped value)."""
    name = data[SERIALIZED_KEY]
    if name == SYMBOL:
        return Symbol(_string(data))
    if name == TIME:
        return parse_time(_string(data))
    if name == DATE_TIME:
        return DateTime.of(parse_time(_string(data)))
    if name == TIME_WITH_ZONE:
        return TimeWithZone.of(parse_time(_string(data)))
    if name == DATE:
        text = _string(data)
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not an ISO 8601 date") from None
    if name == DURATION:
        return _duration(data, nested)
    if name == MODULE:
        return RubyModule(_string(data))
    if name == BIG_DECIMAL:
        return _decimal(data)
    raise ValueError(f"Serializer {name} is not known")
