"""What a test mode records about each job it ran: :class:`Performed`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from resque_impl.codec import Payload
from resque_impl.testing.assertions import describe_call

__all__ = ["Performed", "Status"]

#: ``performed``; ``skipped`` (a ``before_perform`` hook raised ``DontPerform``, or an around hook did
#: not yield); ``failed``.
Status = Literal["performed", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Performed:
    """One job a test mode ran: where it came from, its payload as a worker read it, and how it ended.

    ``exception`` and ``error`` are the failure's exception name and message, as in a failure record.
    """

    queue: str
    raw: bytes
    payload: Payload | None
    status: Status
    exception: str | None = None
    error: str | None = None

    @property
    def class_name(self) -> str | None:
        return self.payload.class_name if self.payload is not None else None

    @property
    def args(self) -> list[Any]:
        return self.payload.args if self.payload is not None else []

    @property
    def failed(self) -> bool:
        return self.status == "failed"

    def describe(self) -> str:
        """``EmailJob(42, "hi") from email: failed (ValueError: boom)``."""
        call = describe_call(self.class_name or "<unreadable payload>", self.args)
        outcome = f"failed ({self.exception}: {self.error})" if self.failed else self.status
        return f"{call} from {self.queue}: {outcome}"
