"""Python stand-ins for the Ruby values ActiveJob carries that Python has no type for.

* :class:`Symbol` -- a Ruby symbol (``:paid``). It is a ``str``, so a hash Rails sent with symbol keys
  reads as ``data["amount"]``; sent back, its keys are symbols again.
* :class:`GlobalID` -- a reference to a record (``gid://app/User/42``); Python receives the reference,
  never the record.
* :class:`RubyModule` -- a Ruby class or module by name (``Admin::Report``); never imported or
  resolved.
* :class:`DateTime`, :class:`TimeWithZone` -- aware ``datetime`` values that remember which Ruby class
  they came from, so they go back to Rails as that class (a plain ``datetime`` goes as a Time).
* :class:`IndifferentHash` -- a ``dict`` that goes back to Rails as a HashWithIndifferentAccess.

Each compares equal to the plain Python value it stands for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote

__all__ = ["DateTime", "GlobalID", "IndifferentHash", "RubyModule", "Symbol", "TimeWithZone"]

_Moment = TypeVar("_Moment", bound=datetime)

# URI::GID: gid://<app>/<model name>/<model id>[?params]; the app is a host name, the id URL-escaped.
_GID = re.compile(
    r"gid://(?P<app>[A-Za-z0-9][A-Za-z0-9.\-]*)/(?P<model>[^/?#]+)/(?P<id>[^?#]+)(?:\?(?P<params>[^#]*))?"
)
_CONSTANT = re.compile(r"[A-Z][A-Za-z0-9_]*(?:::[A-Z][A-Za-z0-9_]*)*")


class Symbol(str):
    """A Ruby symbol. Equal to (and hashed like) the string of its name, so it works as a dict key
    wherever the plain string does."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Symbol({str.__repr__(self)})"


@dataclass(frozen=True, slots=True)
class GlobalID:
    """A GlobalID URI, ``gid://<app>/<model name>/<model id>``: how ActiveJob passes a record.

    Raises :class:`ValueError` for a string that is not one.
    """

    uri: str

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or _GID.fullmatch(self.uri) is None:
            raise ValueError(f"malformed GlobalID {self.uri!r}: expected gid://<app>/<model name>/<model id>")

    @classmethod
    def create(cls, app: str, model_name: str, model_id: object) -> GlobalID:
        """The GlobalID of record ``model_id`` of ``model_name`` (e.g. ``"User"``) in ``app``."""
        return cls(f"gid://{app}/{model_name}/{quote(str(model_id), safe='')}")

    def _part(self, name: str) -> str:
        match = _GID.fullmatch(self.uri)
        assert match is not None  # checked in __post_init__
        return match[name]

    @property
    def app(self) -> str:
        return self._part("app")

    @property
    def model_name(self) -> str:
        return self._part("model")

    @property
    def model_id(self) -> str:
        """The record's id, unescaped (always a string, as in Ruby)."""
        return unquote(self._part("id"))

    def __str__(self) -> str:
        return self.uri


@dataclass(frozen=True, slots=True)
class RubyModule:
    """A Ruby class or module, by its constant name (``"Admin::Report"``).

    Raises :class:`ValueError` for a name that is not a Ruby constant.
    """

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or _CONSTANT.fullmatch(self.name) is None:
            raise ValueError(f"{self.name!r} is not a Ruby class or module name")

    def __str__(self) -> str:
        return self.name


class _RubyTime(datetime):
    @classmethod
    def of(cls: type[_Moment], value: datetime) -> _Moment:
        """``value`` as this class."""
        return cls(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            value.tzinfo,
            fold=value.fold,
        )


class DateTime(_RubyTime):
    """A Ruby ``DateTime`` (ActiveJob's ``DateTimeSerializer``)."""


class TimeWithZone(_RubyTime):
    """An ``ActiveSupport::TimeWithZone`` (``TimeWithZoneSerializer``): Rails reads it back in its
    configured ``Time.zone``; only the UTC offset travels."""


class IndifferentHash(dict[str, Any]):
    """An ``ActiveSupport::HashWithIndifferentAccess``: string keys, marked so Rails restores it."""
