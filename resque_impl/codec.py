"""JSON exactly as Ruby Resque writes it, and the validation that keeps payloads readable by Ruby.

Ruby's ``JSON.generate`` writes compact JSON (``,`` and ``:`` separators), keys in insertion order,
non-ASCII characters as raw UTF-8, and refuses NaN and Infinity; :func:`dumps` does the same, so the
bytes in Redis are identical for the same values. That matters: ``dequeue(cls, *args)`` and
``remove_delayed`` match entries by their exact bytes.

Arguments are checked before encoding (:func:`validate_args`) so a value that would change type on the
way through JSON, or that Ruby could not read back (a ``datetime``, a ``set``, NaN, an integer dict key,
nesting deeper than Ruby's limit of 100), fails at enqueue with the path of the offending value, not
later in a worker. The one known difference: Python writes ``1e+20`` where Ruby writes ``1.0e+20``;
both read back as the same float.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any, NoReturn
from uuid import UUID

from resque_impl.errors import NotSerializableError, PayloadDecodeError, PayloadTooLargeError

__all__ = [
    "DEFAULT_MAX_PAYLOAD_BYTES",
    "MAX_NESTING",
    "RAW_PAYLOAD_KEEP",
    "Payload",
    "decode_payload",
    "dumps",
    "encode_payload",
    "loads",
    "nesting",
    "validate_args",
]

#: Ruby's ``JSON.parse`` refuses documents nested deeper than this, so we refuse to write them.
MAX_NESTING = 100
DEFAULT_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
#: How much of a payload's bytes are kept where they are kept as text: in the failure record of bytes
#: that are not a payload or that a worker refused, and of a payload over the size limit a worker took.
RAW_PAYLOAD_KEEP = 64 * 1024

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, check_circular=False)
_PLAIN_SCALARS: frozenset[type] = frozenset({str, int, bool, type(None)})
_PAYLOAD_KEYS = ("class", "args")


# JSONEncoder.encode builds this C encoder anew on every call, which costs more than encoding a small
# payload; built once with the same settings, it writes the same text.
_ENCODE_C: Any = getattr(json.encoder, "c_make_encoder", None)
if _ENCODE_C is not None:
    _ENCODE_C = _ENCODE_C(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, False)


def dumps(value: Any) -> bytes:
    """Encode already-valid JSON data the way Ruby's ``JSON.generate`` does, as UTF-8 bytes."""
    if _ENCODE_C is None:  # no C accelerator in this interpreter
        return _ENCODER.encode(value).encode("utf-8")
    return "".join(_ENCODE_C(value, 0)).encode("utf-8")


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SCAN: Any = _DECODER.scan_once  # type: ignore[attr-defined]  # set by JSONDecoder.__init__


def loads(raw: bytes | str) -> Any:
    """Decode UTF-8 JSON strictly: NaN and Infinity, which Ruby never writes, are refused, and so is a
    document nested too deeply to decode (a :class:`ValueError` like any other unreadable one)."""
    text = raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw
    try:
        # The scanner alone reads a document with no whitespace around it (every payload a producer
        # writes) without the decoder's Python frames; anything else goes the long way, for its errors.
        try:
            value, end = _SCAN(text, 0)
        except StopIteration:
            end = -1
        if end == len(text):
            return value
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None


def nesting(value: Any) -> int:
    """How deeply ``value`` nests lists and dicts: 0 for a scalar, 1 for ``[1, 2]``, 2 for ``[[1]]``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (list, dict)))
    return deepest


@dataclass(frozen=True, slots=True)
class Payload:
    """A job payload: ``{"class": ..., "args": [...]}`` plus any extra keys another producer wrote.

    ``raw`` holds the exact bytes read from Redis (``None`` for payloads built here); operations that
    match by bytes use it, so payloads written by Ruby are matched as Ruby wrote them.
    """

    class_name: str
    args: list[Any]
    extras: Mapping[str, Any] = field(default_factory=dict)
    raw: bytes | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The payload as Ruby sees it, ``class`` and ``args`` first."""
        return {"class": self.class_name, "args": self.args, **self.extras}

    def encode(self) -> bytes:
        """The exact bytes read from Redis if known, else the canonical encoding."""
        return self.raw if self.raw is not None else dumps(self.to_dict())


def _format_path(parts: Sequence[str | int]) -> str:
    text = str(parts[0])
    for part in parts[1:]:
        text += f"[{part}]" if isinstance(part, int) else f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def _problem(value: object) -> str:
    """Why ``value`` cannot travel, and what to pass instead."""
    name = type(value).__name__
    if isinstance(value, (datetime, date, time, timedelta)):
        return f"{name} is not JSON-serializable; pass an id or an ISO string"
    if isinstance(value, Enum):
        return f"enum member {value!s} is not JSON-serializable; pass its .value"
    if isinstance(value, Decimal):
        return "Decimal is not JSON-serializable; pass str(value) to keep it exact, or a float"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"{name} is not JSON-serializable; decode it to str, or pass base64 text"
    if isinstance(value, (set, frozenset)):
        return f"{name} is not JSON-serializable; pass a sorted list"
    if isinstance(value, (UUID, PurePath)):
        return f"{name} is not JSON-serializable; pass str(value)"
    if isinstance(value, Mapping):
        return f"{name} is not a dict; pass dict(value)"
    if isinstance(value, Sequence):
        return f"{name} is not a list; pass list(value)"
    if isinstance(value, type) or callable(value):
        return f"{name} cannot travel in a payload; pass a name or an id instead"
    return f"{name} is not JSON-serializable; pass its id, or a dict of plain values"


class _Checker:
    """Walks arguments depth-first, keeping the path for the error message."""

    __slots__ = ("ancestors", "path")

    def __init__(self, root: str) -> None:
        self.path: list[str | int] = [root]
        self.ancestors: set[int] = set()

    def fail(self, problem: str) -> NoReturn:
        raise NotSerializableError(_format_path(self.path), problem)

    def container(self, value: list[Any] | tuple[Any, ...] | dict[Any, Any], depth: int) -> None:
        if depth > MAX_NESTING:
            self.fail(f"nested deeper than {MAX_NESTING} levels, Ruby's JSON limit")
        if id(value) in self.ancestors:
            self.fail("contains itself (a circular reference)")
        self.ancestors.add(id(value))
        if type(value) is dict:
            for key, item in value.items():
                if type(key) is not str:
                    self.fail(f"dict key {key!r} is a {type(key).__name__}; JSON object keys must be str")
                if type(item) not in _PLAIN_SCALARS:
                    self.path.append(key)
                    self.value(item, depth)
                    self.path.pop()
        else:
            for index, item in enumerate(value):
                if type(item) not in _PLAIN_SCALARS:
                    self.path.append(index)
                    self.value(item, depth)
                    self.path.pop()
        self.ancestors.discard(id(value))

    def value(self, value: object, parent_depth: int) -> None:
        kind = type(value)
        if kind in _PLAIN_SCALARS:
            return
        if kind is float:
            if not math.isfinite(value):  # type: ignore[arg-type]
                self.fail(f"{value} is not valid JSON; pass None or a string")
            return
        if kind is list or kind is tuple or kind is dict:
            self.container(value, parent_depth + 1)  # type: ignore[arg-type]
            return
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(f"{value} is not valid JSON; pass None or a string")
            return
        if isinstance(value, (str, int)):
            # Subclasses such as IntEnum and StrEnum members encode as their plain value.
            return
        self.fail(_problem(value))


def validate_args(args: Sequence[Any], root: str = "args") -> None:
    """Raise :class:`NotSerializableError` naming the first argument Ruby could not read back as sent.

    Accepted: ``str``, ``int``, finite ``float``, ``bool``, ``None``, lists and tuples (they arrive as
    lists) and dicts with ``str`` keys, nested at most to Ruby's JSON limit.
    """
    for value in args:
        if type(value) not in _PLAIN_SCALARS:
            break
    else:
        return  # the common case: only strings, integers, booleans and None
    # The payload object is nesting level 1 and its "args" array level 2.
    _Checker(root).container(args if isinstance(args, (list, tuple)) else list(args), 2)


def _surrogate_path(value: Any, parts: list[str | int]) -> list[str | int] | None:
    """Where the first string that cannot be UTF-8 encoded is (only called after such a failure)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return parts
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _surrogate_path(key, [*parts, repr(key)]) or _surrogate_path(item, [*parts, key])
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _surrogate_path(item, [*parts, index])
            if found:
                return found
    return None


def encode_payload(
    class_name: str,
    args: Sequence[Any],
    extras: Mapping[str, Any] | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
) -> bytes:
    """Validate ``args`` and encode ``{"class": class_name, "args": args, **extras}`` as Ruby would.

    Raises :class:`NotSerializableError` (naming the argument path) or :class:`PayloadTooLargeError`.
    """
    validate_args(args)
    body: dict[str, Any] = {"class": class_name, "args": args}
    if extras:
        body.update(extras)
    try:
        raw = dumps(body)
    except UnicodeEncodeError:
        where = _surrogate_path(args, ["args"]) or ["class"]
        raise NotSerializableError(
            _format_path(where), "string holds an unpaired surrogate and cannot be encoded as UTF-8"
        ) from None
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(len(raw), max_bytes)
    return raw


def decode_payload(raw: bytes) -> Payload:
    """Read a payload from Redis bytes; :class:`PayloadDecodeError` (keeping ``raw``) if it is not one."""
    try:
        data = loads(raw)
    except ValueError as exc:  # includes UnicodeDecodeError for bytes that are not UTF-8, and deep nesting
        raise PayloadDecodeError(f"payload is not valid JSON: {exc}", raw) from None
    if not isinstance(data, dict):
        raise PayloadDecodeError(f"payload is a JSON {type(data).__name__}, not an object", raw)
    class_name = data.get("class")
    if not isinstance(class_name, str) or not class_name:
        raise PayloadDecodeError('payload has no "class" string', raw)
    args = data.get("args")
    if args is None:
        args = []
    elif not isinstance(args, list):
        raise PayloadDecodeError(f'payload "args" is a JSON {type(args).__name__}, not a list', raw)
    extras = {} if len(data) == 2 and "args" in data else {k: v for k, v in data.items() if k not in _PAYLOAD_KEYS}
    return Payload(class_name, args, extras, raw)
