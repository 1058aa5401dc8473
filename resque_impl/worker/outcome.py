"""The values a worker's steps pass around: a reserved job, and how running it turned out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from resque_impl.codec import Payload, decode_payload, loads
from resque_impl.errors import PayloadDecodeError
from resque_impl.events import Event
from resque_impl.job import QueuedJob

__all__ = ["Outcome", "ReservedJob", "Status"]

Status = Literal["performed", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class ReservedJob:
    """A job a worker took from ``queue``: the exact bytes, and the payload if they are one.

    ``payload`` is ``None`` (and ``decode_error`` says why) when the bytes are not a Resque payload;
    such a job becomes a failure record that keeps the bytes.
    """

    queue: str
    raw: bytes
    payload: Payload | None
    decode_error: PayloadDecodeError | None = None

    @classmethod
    def read(cls, queue: str, raw: bytes) -> ReservedJob:
        try:
            return cls(queue, raw, decode_payload(raw))
        except PayloadDecodeError as error:
            return cls(queue, raw, None, error)

    @classmethod
    def oversized(cls, queue: str, head: bytes, size: int, limit: int) -> ReservedJob:
        """A payload of ``size`` bytes, over the worker's ``limit``, of which only ``head`` was taken."""
        problem = PayloadDecodeError(
            f"payload is {size:,} bytes, over this worker's {limit:,}-byte limit (Resque(max_payload_bytes=...)); "
            f"only its first {len(head):,} bytes were kept",
            head,
        )
        return cls(queue, head, None, problem)

    @property
    def class_name(self) -> str | None:
        return self.payload.class_name if self.payload is not None else None

    @property
    def args(self) -> list[Any]:
        return self.payload.args if self.payload is not None else []

    def as_queued(self) -> QueuedJob | None:
        """The job as a :class:`~resque_impl.job.QueuedJob` (``None`` if the bytes are not a payload)."""
        return QueuedJob(self.queue, self.payload) if self.payload is not None else None

    def payload_object(self) -> dict[str, Any] | None:
        """The bytes as Ruby reads them when they are a JSON object naming a class, even one that is not
        a valid payload here (``args`` not a list, as in ``{"class": "GoodJob", "args": "blah"}``);
        ``None`` for anything else."""
        try:
            data = loads(self.raw)
        except (ValueError, UnicodeError):
            return None
        return data if isinstance(data, dict) and isinstance(data.get("class"), str) and data["class"] else None

    def describe(self) -> str:
        """A short text for logs and process titles: the payload's class, as Ruby names it even for a
        payload this worker cannot run."""
        if self.payload is not None:
            return self.payload.class_name
        data = self.payload_object()
        return str(data["class"]) if data is not None else "<unreadable payload>"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a job ended: ``performed``, ``skipped`` (a ``before_perform`` hook raised ``DontPerform`` or an
    around hook did not yield; still counted as processed) or ``failed``.

    A failed outcome carries the failure record to save (``record``) and its ``exception`` name and
    ``error`` message. ``perform_time`` is the seconds the job's ``perform`` method ran (hooks
    excluded, measured with the worker's clock in the job's process), ``None`` when it was never called
    (a hook skipped it, the class is unknown, the child was killed or an ``after_fork`` hook failed).
    ``events`` are the events the job announced in a forked child, for the worker's process to
    deliver (see :meth:`resque_impl.events.EventBus.capture`). Neither takes part in comparisons.
    """

    status: Status
    exception: str | None = None
    error: str | None = None
    record: bytes | None = None
    perform_time: float | None = field(default=None, compare=False)
    events: tuple[Event, ...] = field(default=(), compare=False)

    def timed(self, seconds: float) -> Outcome:
        """This outcome with ``perform_time`` set to ``seconds``."""
        return Outcome(self.status, self.exception, self.error, self.record, seconds, self.events)

    def with_events(self, events: tuple[Event, ...]) -> Outcome:
        """This outcome carrying ``events``."""
        return Outcome(self.status, self.exception, self.error, self.record, self.perform_time, events)

    def without_events(self) -> Outcome:
        """This outcome without its events."""
        return self.with_events(()) if self.events else self

    @property
    def failed(self) -> bool:
        return self.status == "failed"


PERFORMED = Outcome("performed")
SKIPPED = Outcome("skipped")
