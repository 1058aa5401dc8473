"""The job hash ActiveJob puts in a Resque payload: ``{"class": WRAPPER_CLASS, "args": [job_data]}``.

``job_data`` is what Rails' ``ActiveJob::Base#serialize`` writes, keys in this order::

    {"job_class": "InvoiceJob", "job_id": "<uuid>", "provider_job_id": null, "queue_name": "mailers",
     "priority": null, "arguments": [...], "executions": 0, "exception_executions": {},
     "locale": "en", "timezone": null, "enqueued_at": "2026-12-06T19:19:35Z"}

Keys a newer Rails adds (``scheduled_at`` in 7.1) are kept in :attr:`JobData.extras` and written back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from resque_impl.errors import DeserializationError

__all__ = ["WRAPPER_CLASS", "JobData"]

#: The Resque class name every ActiveJob job is enqueued under, whatever its own class.
WRAPPER_CLASS = "ActiveJob::QueueAdapters::ResqueAdapter::JobWrapper"

_FIELDS = (
    "job_class",
    "job_id",
    "provider_job_id",
    "queue_name",
    "priority",
    "arguments",
    "executions",
    "exception_executions",
    "locale",
    "timezone",
    "enqueued_at",
)


def _check(data: Mapping[str, Any], key: str, kinds: tuple[type, ...], *, required: bool) -> Any:
    """``data[key]`` if it is one of ``kinds`` (``None`` allowed when not required)."""
    if key not in data:
        if required:
            raise DeserializationError(f"ActiveJob payload has no {key!r}")
        return None
    value = data[key]
    if value is None and not required:
        return None
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise DeserializationError(
            f"ActiveJob payload field {key!r} is {value!r} ({type(value).__name__}), expected {expected}"
        )
    return value


@dataclass(frozen=True, slots=True)
class JobData:
    """One ActiveJob job as it travels: ``arguments`` stay in ActiveJob's serialized form (see
    :mod:`resque_impl.activejob.arguments`)."""

    job_class: str
    job_id: str
    queue_name: str
    arguments: list[Any]
    provider_job_id: str | None = None
    priority: int | None = None
    executions: int = 0
    exception_executions: Mapping[str, int] = field(default_factory=dict)
    locale: str | None = "en"
    timezone: str | None = None
    enqueued_at: str | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The job hash as Rails writes it, keys in Rails' order, then :attr:`extras`."""
        return {
            "job_class": self.job_class,
            "job_id": self.job_id,
            "provider_job_id": self.provider_job_id,
            "queue_name": self.queue_name,
            "priority": self.priority,
            "arguments": self.arguments,
            "executions": self.executions,
            "exception_executions": dict(self.exception_executions),
            "locale": self.locale,
            "timezone": self.timezone,
            "enqueued_at": self.enqueued_at,
            **self.extras,
        }

    @classmethod
    def from_args(cls, args: list[Any]) -> JobData:
        """Read a ``JobWrapper`` payload's ``args``: exactly one job hash.

        Raises :class:`~resque_impl.errors.DeserializationError` saying which field is missing or
        mistyped (``job_class``, ``job_id`` and ``arguments`` are required, as Rails needs them).
        """
        if len(args) != 1 or not isinstance(args[0], dict):
            raise DeserializationError(
                f"a JobWrapper payload's args must be one ActiveJob job hash, got {len(args)} argument(s)"
                + (f" starting with a {type(args[0]).__name__}" if args else "")
            )
        data: dict[str, Any] = args[0]
        job_class = _check(data, "job_class", (str,), required=True)
        if not job_class:
            raise DeserializationError("ActiveJob payload field 'job_class' is empty")
        exception_executions = _check(data, "exception_executions", (dict,), required=False) or {}
        executions = _check(data, "executions", (int,), required=False)
        return cls(
            job_class=job_class,
            job_id=_check(data, "job_id", (str,), required=True),
            queue_name=_check(data, "queue_name", (str,), required=False) or "",
            arguments=_check(data, "arguments", (list,), required=True),
            provider_job_id=_check(data, "provider_job_id", (str,), required=False),
            priority=_check(data, "priority", (int,), required=False),
            executions=executions or 0,
            exception_executions=exception_executions,
            locale=_check(data, "locale", (str,), required=False),
            timezone=_check(data, "timezone", (str,), required=False),
            enqueued_at=_check(data, "enqueued_at", (str,), required=False),
            extras={key: value for key, value in data.items() if key not in _FIELDS},
        )
