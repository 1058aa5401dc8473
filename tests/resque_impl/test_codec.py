"""The codec writes the bytes Ruby's JSON.generate writes, and refuses what Ruby could not read back."""

from __future__ import annotations

import enum
import json
import math
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resque_impl.codec import (
    MAX_NESTING,
    Payload,
    decode_payload,
    dumps,
    encode_payload,
    loads,
    nesting,
    validate_args,
)
from resque_impl.errors import NotSerializableError, PayloadDecodeError, PayloadTooLargeError


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


def test_payloads_are_compact_with_class_then_args() -> None:
    assert encode_payload("EmailJob", (42, "hi")) == b'{"class":"EmailJob","args":[42,"hi"]}'


def test_non_ascii_is_written_as_utf8_not_escaped() -> None:
    assert dumps(["ü", "日本"]) == '["ü","日本"]'.encode()


def test_control_characters_are_escaped_like_ruby() -> None:
    assert dumps(["a\nb\t\u0001\u007f/"]) == b'["a\\nb\\t\\u0001\x7f/"]'


def test_dict_keys_keep_insertion_order() -> None:
    assert dumps({"b": 1, "a": 2}) == b'{"b":1,"a":2}'


def test_extras_follow_class_and_args() -> None:
    raw = encode_payload("EmailJob", [1], {"enqueued_at": 1.5})
    assert raw == b'{"class":"EmailJob","args":[1],"enqueued_at":1.5}'


def test_tuples_travel_as_lists() -> None:
    assert decode_payload(encode_payload("J", ((1, 2), [3]))).args == [[1, 2], [3]]


def test_int_and_str_enums_travel_as_their_values() -> None:
    assert encode_payload("J", [Level.HIGH]) == b'{"class":"J","args":[3]}'


@pytest.mark.parametrize(
    ("args", "path", "advice"),
    [
        (
            [1, {"when": datetime(2026, 1, 1, tzinfo=timezone.utc)}],
            'args[1]["when"]',
            "pass an id or an ISO string",
        ),
        ([date(2026, 1, 1)], "args[0]", "pass an id or an ISO string"),
        ([Decimal("1.10")], "args[0]", "pass str(value)"),
        ([{1, 2}], "args[0]", "pass a sorted list"),
        ([b"bytes"], "args[0]", "decode it to str"),
        ([UUID(int=1)], "args[0]", "pass str(value)"),
        ([Color.RED], "args[0]", "pass its .value"),
        ([object()], "args[0]", "pass its id"),
        ([[float("nan")]], "args[0][0]", "pass None or a string"),
        ([{"x": math.inf}], 'args[0]["x"]', "pass None or a string"),
        ([{1: "a"}], "args[0]", "JSON object keys must be str"),
        ([print], "args[0]", "cannot travel in a payload"),
    ],
)
def test_unserializable_arguments_are_refused_with_their_path(args: list[Any], path: str, advice: str) -> None:
    with pytest.raises(NotSerializableError) as caught:
        encode_payload("EmailJob", args)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")
    assert advice in str(caught.value)


def test_the_datetime_message_reads_as_documented() -> None:
    with pytest.raises(NotSerializableError, match=r'^args\[1\]\["when"\]: datetime is not JSON-serializable; '):
        encode_payload("EmailJob", [1, {"when": datetime(2026, 1, 1, tzinfo=timezone.utc)}])


def test_circular_references_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(NotSerializableError, match=r"^args\[0\]\[0\]: contains itself"):
        validate_args([loop])


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def test_nesting_up_to_rubys_limit_is_accepted() -> None:
    # The payload object is level 1 and "args" level 2, so arguments may nest MAX_NESTING - 2 deep.
    raw = encode_payload("J", [_nested(MAX_NESTING - 2)])
    assert raw.count(b"[") == MAX_NESTING - 1


def test_nesting_beyond_rubys_limit_is_refused() -> None:
    with pytest.raises(NotSerializableError, match="nested deeper than 100 levels"):
        encode_payload("J", [_nested(MAX_NESTING - 1)])


def test_unpaired_surrogates_are_refused_with_their_path() -> None:
    with pytest.raises(NotSerializableError, match=r'^args\[0\]\["k"\]: string holds an unpaired surrogate'):
        encode_payload("J", [{"k": "a\ud800"}])


def test_payloads_over_the_limit_are_refused() -> None:
    with pytest.raises(PayloadTooLargeError, match="over the 100-byte limit") as caught:
        encode_payload("J", ["x" * 200], max_bytes=100)
    assert caught.value.size > 200


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"not json", "not valid JSON"),
        (b"\xff\xfe{", "not valid JSON"),
        (b'{"class":"J","args":[NaN]}', "NaN is not valid JSON"),
        (b"[1,2]", "a JSON list, not an object"),
        (b'{"args":[]}', 'no "class" string'),
        (b'{"class":"","args":[]}', 'no "class" string'),
        (b'{"class":"J","args":{"a":1}}', '"args" is a JSON dict, not a list'),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ],
)
def test_malformed_payloads_raise_decode_errors_keeping_the_bytes(raw: bytes, problem: str) -> None:
    with pytest.raises(PayloadDecodeError, match=problem) as caught:
        decode_payload(raw)
    assert caught.value.raw == raw


def test_loads_refuses_a_document_too_deep_to_decode_as_a_value_error() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        loads(b"[" * 100_000 + b"]" * 100_000)


@pytest.mark.parametrize(
    ("value", "depth"),
    [(1, 0), ("text", 0), ([], 1), ({"a": [1, {"b": []}]}, 4), ([[[]], []], 3)],
)
def test_nesting_counts_levels_of_lists_and_dicts(value: Any, depth: int) -> None:
    assert nesting(value) == depth


def test_nesting_walks_deep_values_without_recursion() -> None:
    value: list[Any] = []
    for _ in range(50_000):
        value = [value]
    assert nesting(value) == 50_001


def test_decoding_keeps_extra_keys_and_the_exact_bytes() -> None:
    raw = b'{"class":"J","args":[1.0e+20],"jid":"abc"}'
    payload = decode_payload(raw)
    assert payload == Payload("J", [1e20], {"jid": "abc"})
    assert payload.encode() == raw
    assert payload.to_dict() == {"class": "J", "args": [1e20], "jid": "abc"}


def test_missing_args_decode_as_an_empty_list() -> None:
    assert decode_payload(b'{"class":"J"}').args == []


def test_loads_refuses_infinity() -> None:
    with pytest.raises(ValueError, match="Infinity"):
        loads(b"[Infinity]")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


@given(st.lists(json_values, max_size=5))
def test_any_json_value_round_trips_unchanged(args: list[Any]) -> None:
    raw = encode_payload("J", args)
    assert decode_payload(raw).args == args
    assert raw == json.dumps({"class": "J", "args": args}, ensure_ascii=False, separators=(",", ":")).encode()
