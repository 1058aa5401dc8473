"""ActiveJob's argument format (Rails' ``ActiveJob::Arguments``), both ways.

Python -> Rails (:func:`serialize_arguments`):

* ``str``, ``int``, finite ``float``, ``bool``, ``None``, and lists (or tuples) of them: as they are.
* a ``dict`` -> a Ruby Hash; its :class:`~resque_impl.activejob.values.Symbol` keys are symbols
  (listed in ``_aj_symbol_keys``), its ``str`` keys strings.
* keyword arguments -> a last Hash of symbol keys marked ``_aj_ruby2_keywords``, which Rails passes to
  ``perform`` as keywords.
* a :class:`~resque_impl.activejob.values.GlobalID` -> ``{"_aj_globalid": "gid://app/User/42"}``.
* an :class:`~resque_impl.activejob.values.IndifferentHash` -> a HashWithIndifferentAccess.
* ``datetime`` (aware), ``date``, ``timedelta``, ``Decimal``, ``Symbol``, ``RubyModule``: see
  :mod:`resque_impl.activejob.serializers`.

Anything else, a naive datetime, a dict key that is neither ``str`` nor ``Symbol`` or that is one of
ActiveJob's reserved ``_aj_`` keys, raises :class:`~resque_impl.errors.SerializationError` naming the
argument, before anything is written.

Rails -> Python (:func:`deserialize_arguments`) reverses this, and a problem (an unknown serializer,
a malformed GlobalID or time, a mistyped marker) raises
:class:`~resque_impl.errors.DeserializationError` naming the argument.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from resque_impl.activejob.serializers import SERIALIZED_KEY, decimal_text, deserialize_object, serialize_object
from resque_impl.activejob.values import GlobalID, IndifferentHash, Symbol
from resque_impl.codec import MAX_NESTING
from resque_impl.errors import DeserializationError, SerializationError

__all__ = ["RESERVED_KEYS", "deserialize_arguments", "serialize_arguments"]

GLOBALID_KEY = "_aj_globalid"
SYMBOL_KEYS_KEY = "_aj_symbol_keys"
RUBY2_KEYWORDS_KEY = "_aj_ruby2_keywords"
INDIFFERENT_KEY = "_aj_hash_with_indifferent_access"
#: Hash keys ActiveJob keeps for itself; a job argument may not use them.
RESERVED_KEYS = frozenset({GLOBALID_KEY, SYMBOL_KEYS_KEY, RUBY2_KEYWORDS_KEY, SERIALIZED_KEY, INDIFFERENT_KEY})


def _key_text(key: str) -> str:
    return f'["{key}"]'


class _Serializer:
    """Walks Python arguments, keeping the path of the current one for error messages."""

    def __init__(self) -> None:
        self.path: list[str] = []

    def fail(self, problem: str) -> SerializationError:
        return SerializationError("arguments" + "".join(self.path), problem)

    def argument(self, value: Any, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise self.fail(f"nested deeper than {MAX_NESTING} levels (or contains itself)")
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, Symbol):
            return self.serialized(value, depth)
        if isinstance(value, str):
            return str(value)
        if isinstance(value, int):
            return int(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.fail(f"{value} is not valid JSON; Rails cannot read it")
            return float(value)
        if isinstance(value, (list, tuple)):
            return self.items(value, depth)
        if isinstance(value, IndifferentHash):
            return self.hash(value, INDIFFERENT_KEY, depth)
        if isinstance(value, dict):
            return self.hash(value, SYMBOL_KEYS_KEY, depth)
        if isinstance(value, GlobalID):
            return {GLOBALID_KEY: value.uri}
        if isinstance(value, Decimal):
            try:
                return decimal_text(value)
            except ValueError as error:
                raise self.fail(str(error)) from None
        return self.serialized(value, depth)

    def items(self, values: Sequence[Any], depth: int) -> list[Any]:
        result = []
        for index, item in enumerate(values):
            self.path.append(f"[{index}]")
            result.append(self.argument(item, depth + 1))
            self.path.pop()
        return result

    def serialized(self, value: Any, depth: int) -> Any:
        try:
            found = serialize_object(value, lambda nested: self.argument(nested, depth + 1))
        except ValueError as error:
            raise self.fail(str(error)) from None
        if found is None:
            raise self.fail(f"Unsupported argument type: {type(value).__module__}.{type(value).__qualname__}")
        return found

    def hash(self, value: Mapping[Any, Any], marker: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        symbols: list[str] = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise self.fail(
                    f"Only string and symbol hash keys may be serialized as job arguments, but {key!r} "
                    f"is a {type(key).__name__}"
                )
            if key in RESERVED_KEYS:
                raise self.fail(f"Can't serialize a Hash with reserved key {key!r}")
            if isinstance(key, Symbol) or marker == RUBY2_KEYWORDS_KEY:
                symbols.append(str(key))
            self.path.append(_key_text(key))
            result[str(key)] = self.argument(item, depth + 1)
            self.path.pop()
        # Rails marks an indifferent hash with true (its keys are all strings), others with their symbols.
        result[marker] = True if marker == INDIFFERENT_KEY else symbols
        return result


def serialize_arguments(args: Sequence[Any], kwargs: Mapping[str, Any] | None = None) -> list[Any]:
    """``args`` (and ``kwargs``, as Ruby keyword arguments) as ActiveJob's ``"arguments"`` list.

    Raises :class:`~resque_impl.errors.SerializationError` naming the first value Rails could not read.
    """
    walker = _Serializer()
    result = walker.items(args, 1)
    if kwargs:
        walker.path.append(f"[{len(result)}]")
        result.append(walker.hash(kwargs, RUBY2_KEYWORDS_KEY, 2))
    return result


class _Deserializer:
    """Walks ActiveJob arguments read from JSON, keeping the path for error messages."""

    def __init__(self) -> None:
        self.path: list[str] = []

    def fail(self, problem: str) -> DeserializationError:
        where = "arguments" + "".join(self.path)
        return DeserializationError(f"Error while trying to deserialize arguments: {where}: {problem}")

    def argument(self, value: Any) -> Any:
        if isinstance(value, list):
            return self.items(value)
        if isinstance(value, dict):
            return self.hash(value)[0]
        return value

    def items(self, values: list[Any]) -> list[Any]:
        result = []
        for index, item in enumerate(values):
            self.path.append(f"[{index}]")
            result.append(self.argument(item))
            self.path.pop()
        return result

    def hash(self, value: dict[str, Any]) -> tuple[Any, bool]:
        """The value of a JSON object, and whether it was a Ruby keyword-arguments hash."""
        if len(value) == 1 and GLOBALID_KEY in value:
            try:
                return GlobalID(value[GLOBALID_KEY]), False
            except ValueError as error:
                raise self.fail(str(error)) from None
        if SERIALIZED_KEY in value:
            try:
                return deserialize_object(value, self.argument), False
            except ValueError as error:
                raise self.fail(str(error)) from None
        result: dict[str, Any] = {}
        for key, item in value.items():
            self.path.append(_key_text(key))
            result[key] = self.argument(item)
            self.path.pop()
        if result.pop(INDIFFERENT_KEY, None):
            return IndifferentHash(result), False
        for marker in (SYMBOL_KEYS_KEY, RUBY2_KEYWORDS_KEY):
            if marker in result:
                symbols = result.pop(marker)
                if not isinstance(symbols, list) or not all(isinstance(name, str) for name in symbols):
                    raise self.fail(f"{marker} is {symbols!r}, not a list of key names")
                wanted = set(symbols)
                keyed = {Symbol(key) if key in wanted else key: item for key, item in result.items()}
                return keyed, marker == RUBY2_KEYWORDS_KEY
        return result, False


def deserialize_arguments(arguments: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """ActiveJob's ``"arguments"`` as Python positional and keyword arguments: a last hash Rails
    marked as keywords becomes the keywords.

    Raises :class:`~resque_impl.errors.DeserializationError` naming the first argument it cannot read.
    """
    walker = _Deserializer()
    if not arguments or not isinstance(arguments[-1], dict):
        return walker.items(arguments), {}
    head = walker.items(arguments[:-1])
    walker.path.append(f"[{len(arguments) - 1}]")
    last, keywords = walker.hash(arguments[-1])
    if keywords:
        return head, {str(key): item for key, item in last.items()}
    return [*head, last], {}
