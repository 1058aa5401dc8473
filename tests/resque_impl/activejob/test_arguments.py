"""ActiveJob's argument format: Python values to what Rails 6.1 writes, and back."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from resque_impl.activejob import (
    DateTime,
    DeserializationError,
    GlobalID,
    IndifferentHash,
    RubyModule,
    SerializationError,
    Symbol,
    TimeWithZone,
    deserialize_arguments,
    serialize_arguments,
)

S = "_aj_serialized"
P = "ActiveJob::Serializers::"


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (42, 42),
        ("text", "text"),
        (1.5, 1.5),
        (None, None),
        (True, True),
        ((1, [2]), [1, [2]]),
        ({"a": 1}, {"a": 1, "_aj_symbol_keys": []}),
        ({Symbol("amount"): 1.5, "mixed": 2}, {"amount": 1.5, "mixed": 2, "_aj_symbol_keys": ["amount"]}),
        (GlobalID("gid://app/User/42"), {"_aj_globalid": "gid://app/User/42"}),
        (Symbol("paid"), {S: P + "SymbolSerializer", "value": "paid"}),
        (
            datetime(2026, 1, 2, 3, 4, 5, 123456, timezone.utc),
            {S: P + "TimeSerializer", "value": "2026-01-02T03:04:05.123456000Z"},
        ),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7))),
            {S: P + "TimeSerializer", "value": "2026-01-02T03:04:05.000000000-07:00"},
        ),
        (
            DateTime.of(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)),
            {S: P + "DateTimeSerializer", "value": "2026-01-02T03:04:05.000000000Z"},
        ),
        (
            TimeWithZone.of(datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))),
            {S: P + "TimeWithZoneSerializer", "value": "2026-01-02T04:04:05.000000000+01:00"},
        ),
        (
            IndifferentHash({"k": {"a": 1}}),
            {"k": {"a": 1, "_aj_symbol_keys": []}, "_aj_hash_with_indifferent_access": True},
        ),
        (date(2026, 1, 2), {S: P + "DateSerializer", "value": "2026-01-02"}),
        (
            timedelta(hours=1, minutes=30),
            {
                S: P + "DurationSerializer",
                "value": 5400,
                "parts": [
                    [{S: P + "SymbolSerializer", "value": "hours"}, 1],
                    [{S: P + "SymbolSerializer", "value": "minutes"}, 30],
                ],
            },
        ),
        (RubyModule("Admin::Report"), {S: P + "ModuleSerializer", "value": "Admin::Report"}),
        (Decimal("1.50"), "0.15e1"),
    ],
    ids=repr,
)
def test_a_python_value_is_written_as_rails_writes_its_ruby_counterpart(value: Any, wire: Any) -> None:
    assert serialize_arguments([value]) == [wire]


def test_keyword_arguments_become_a_last_hash_rails_passes_as_keywords() -> None:
    assert serialize_arguments([7], {"amount": 1.5, "note": "x"}) == [
        7,
        {"amount": 1.5, "note": "x", "_aj_ruby2_keywords": ["amount", "note"]},
    ]


@pytest.mark.parametrize(
    ("value", "path", "problem"),
    [
        (b"bytes", "arguments[0]", "Unsupported argument type: builtins.bytes"),
        (datetime(2026, 1, 2), "arguments[0]", "naive datetime has no time zone"),
        ({"_aj_globalid": 1}, "arguments[0]", "Can't serialize a Hash with reserved key '_aj_globalid'"),
        ({1: "x"}, "arguments[0]", "Only string and symbol hash keys may be serialized"),
        ([{"at": float("nan")}], 'arguments[0][0]["at"]', "nan is not valid JSON"),
        (Decimal("NaN"), "arguments[0]", "Decimal NaN is not a finite number"),
        ({1, 2}, "arguments[0]", "Unsupported argument type: builtins.set"),
    ],
    ids=repr,
)
def test_a_value_rails_could_not_read_raises_serialization_error_naming_it(value: Any, path: str, problem: str) -> None:
    with pytest.raises(SerializationError) as raised:
        serialize_arguments([value])

    assert raised.value.path == path
    assert raised.value.problem.startswith(problem)


def test_a_value_that_contains_itself_is_refused_not_recursed_forever() -> None:
    loop: list[Any] = []
    loop.append(loop)

    with pytest.raises(SerializationError, match="nested deeper"):
        serialize_arguments([loop])


def test_reading_gives_python_values_and_keywords() -> None:
    wire = [
        {"amount": 1.5, "mixed": 2, "_aj_symbol_keys": ["amount"]},
        {S: P + "TimeWithZoneSerializer", "value": "2026-01-02T04:04:05.123456789+01:00"},
        {S: P + "DateTimeSerializer", "value": "2026-01-02T03:04:05.000000000-07:00"},
        {"k": 1, "_aj_hash_with_indifferent_access": True},
        {S: P + "BigDecimalSerializer", "value": "0.15e1"},
        {"note": "x", "_aj_ruby2_keywords": ["note"]},
    ]

    args, kwargs = deserialize_arguments(wire)

    assert args == [
        {"amount": 1.5, "mixed": 2},
        datetime(2026, 1, 2, 4, 4, 5, 123456, timezone(timedelta(hours=1))),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7))),
        {"k": 1},
        Decimal("1.5"),
    ]
    assert [type(key) for key in args[0]] == [Symbol, str]
    assert [type(arg) for arg in args[1:]] == [TimeWithZone, DateTime, IndifferentHash, Decimal]
    assert kwargs == {"note": "x"}


def test_a_keywords_hash_that_is_not_last_stays_a_hash() -> None:
    args, kwargs = deserialize_arguments([{"a": 1, "_aj_ruby2_keywords": ["a"]}, 2])

    assert (args, kwargs) == ([{Symbol("a"): 1}, 2], {})


def test_what_python_writes_reads_back_as_the_same_values() -> None:
    values = [
        {Symbol("s"): [Symbol("x"), date(2026, 1, 2)], "t": timedelta(days=-2, seconds=1)},
        datetime(2026, 1, 2, 3, 4, 5, 6, timezone(timedelta(hours=5, minutes=30))),
        GlobalID.create("app", "Admin::User", "a/b"),
        RubyModule("Comparable"),
        timedelta(seconds=1.5),
    ]

    assert deserialize_arguments(serialize_arguments(values, {"k": 1})) == (values, {"k": 1})


@pytest.mark.parametrize(
    ("wire", "problem"),
    [
        (
            {S: P + "RationalSerializer", "value": "1/3"},
            "arguments[0]: Serializer ActiveJob::Serializers::RationalSerializer is not known",
        ),
        ({"_aj_globalid": "gid://app/User"}, "arguments[0]: malformed GlobalID 'gid://app/User'"),
        (
            [{S: P + "TimeSerializer", "value": "2026-01-02 03:04:05"}],
            "arguments[0][0]: '2026-01-02 03:04:05' is not an ISO 8601 time",
        ),
        ({S: P + "DateSerializer", "value": "02/01/2026"}, "arguments[0]: '02/01/2026' is not an ISO 8601 date"),
        ({S: P + "SymbolSerializer"}, 'arguments[0]: ActiveJob::Serializers::SymbolSerializer hash has no "value"'),
        (
            {S: P + "DurationSerializer", "value": "1h", "parts": []},
            "arguments[0]: ActiveJob::Serializers::DurationSerializer \"value\" is '1h'",
        ),
        (
            {S: P + "ModuleSerializer", "value": "not a constant"},
            "arguments[0]: 'not a constant' is not a Ruby class or module name",
        ),
        ({"a": 1, "_aj_symbol_keys": "a"}, "arguments[0]: _aj_symbol_keys is 'a', not a list of key names"),
    ],
    ids=repr,
)
def test_an_unreadable_argument_raises_deserialization_error_saying_what_and_where(wire: Any, problem: str) -> None:
    with pytest.raises(DeserializationError) as raised:
        deserialize_arguments([wire])

    assert str(raised.value).startswith(f"Error while trying to deserialize arguments: {problem}")
