"""A failure record, as Ruby Resque writes and reads it.

A record is a JSON object with ``failed_at``, ``payload``, ``exception``, ``error``, ``backtrace``,
``worker`` and ``queue`` in that order (``retried_at`` is added when it is requeued):
:func:`build_record` writes one, :class:`FailureRecord` is one as read back, with its stable
:attr:`~FailureRecord.id`. The backends that keep records are in :mod:`resque_impl.failure`.
"""

from __future__ import annotations

import hashlib
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from resque_impl.clock import format_failed_at
from resque_impl.codec import dumps, loads
from resque_impl.errors import exception_message, exception_name

__all__ = ["MAX_BACKTRACE_LINES", "FailureRecord", "build_record", "digest", "format_backtrace"]

MAX_BACKTRACE_LINES = 200
_PACKAGE_DIR = str(Path(__file__).resolve().parent)


def format_backtrace(error: BaseException) -> list[str]:
    """The traceback as Ruby writes backtraces: ``"path:line:in `name'"``, innermost frame first.

    Frames of this library that merely called into the job are left out, like Ruby's filter.
    """
    frames: list[traceback.FrameSummary] = list(traceback.extract_tb(error.__traceback__))
    ours = [index for index, frame in enumerate(frames) if frame.filename.startswith(_PACKAGE_DIR)]
    if ours and ours[-1] + 1 < len(frames):
        frames = frames[ours[-1] + 1 :]
    lines = [f"{frame.filename}:{frame.lineno}:in `{frame.name}'" for frame in reversed(frames)]
    return lines[:MAX_BACKTRACE_LINES]


def build_record(
    payload: dict[str, Any] | str,
    error: BaseException,
    *,
    worker: str,
    queue: str,
    now: float,
    backtrace: list[str] | None = None,
) -> bytes:
    """Encode a failure record exactly as Ruby Resque's ``Failure::Redis#save`` does.

    Text that UTF-8 cannot carry (a lone surrogate in a message or a file name) is written with
    backslash escapes, so any exception can be recorded.
    """
    return dumps(
        {
            "failed_at": format_failed_at(now),
            "payload": payload,
            "exception": _utf8(exception_name(error)),
            "error": _utf8(exception_message(error)),
            "backtrace": [_utf8(line) for line in (format_backtrace(error) if backtrace is None else backtrace)],
            "worker": _utf8(worker),
            "queue": _utf8(queue),
        }
    )


def _utf8(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def digest(raw: bytes) -> str:
    """A short fingerprint of a record's bytes, as its :attr:`FailureRecord.id` carries."""
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FailureRecord:
    """One failure record as read, with where it was and its exact bytes."""

    list_name: str
    index: int
    raw: bytes
    data: dict[str, Any] = field(repr=False)

    @classmethod
    def read(cls, list_name: str, index: int, raw: bytes) -> FailureRecord:
        try:
            data = loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            data = {"error": "unreadable failure record", "payload": raw.decode("utf-8", "replace")}
        return cls(list_name, index, raw, data)

    @property
    def id(self) -> str:
        """A stable reference, ``<list>:<index>:<digest of the bytes>``, safe to put in a URL or form."""
        return f"{self.list_name}:{self.index}:{digest(self.raw)}"

    @property
    def failed_at(self) -> str | None:
        return self.data.get("failed_at")

    @property
    def payload(self) -> Any:
        return self.data.get("payload")

    @property
    def class_name(self) -> str | None:
        payload = self.payload
        value = payload.get("class") if isinstance(payload, dict) else None
        return value if isinstance(value, str) else None

    @property
    def args(self) -> list[Any]:
        payload = self.payload
        value = payload.get("args") if isinstance(payload, dict) else None
        return value if isinstance(value, list) else []

    @property
    def exception(self) -> str | None:
        return self.data.get("exception")

    @property
    def error(self) -> str | None:
        return self.data.get("error")

    @property
    def backtrace(self) -> list[str]:
        value = self.data.get("backtrace")
        return [str(line) for line in value] if isinstance(value, list) else []

    @property
    def worker(self) -> str | None:
        return self.data.get("worker")

    @property
    def queue(self) -> str | None:
        return self.data.get("queue")

    @property
    def retried_at(self) -> str | None:
        return self.data.get("retried_at")
