"""Matching jobs against what a test expected, and failure messages that show what happened instead.

A message lists every job that was there, marking the near misses and saying how each differs::

    expected EmailJob(42, "hi") on queue email once, found it 0 times
    enqueued (2):
      email  EmailJob(42, "hello")   <- args[1]: "hello", expected "hi"
      low    EmailJob(42, "hi")      <- on queue low, expected email
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from resque_impl.codec import dumps

__all__ = ["Expectation", "Seen", "describe_call", "first_difference", "times"]

#: Jobs listed in a message before the rest are summarised.
MAX_LISTED = 50


def _text(value: Any) -> str:
    return dumps(value).decode()


def describe_call(class_name: str, args: Sequence[Any]) -> str:
    """``EmailJob(42, "hi")``: arguments as they travel, in JSON."""
    return f"{class_name}({', '.join(_text(arg) for arg in args)})"


def first_difference(actual: Any, expected: Any, path: str = "args") -> str | None:
    """Where ``actual`` first differs from ``expected`` (``args[1]["to"]: 1, expected 2``), or ``None``."""
    if type(actual) is not type(expected) and not (
        isinstance(actual, (int, float)) and isinstance(expected, (int, float)) and not isinstance(actual, bool)
    ):
        return f"{path}: {_text(actual)}, expected {_text(expected)}"
    if isinstance(actual, list):
        for index, (left, right) in enumerate(zip(actual, expected, strict=False)):
            found = first_difference(left, right, f"{path}[{index}]")
            if found:
                return found
        if len(actual) != len(expected):
            return f"{path}: {len(actual)} items, expected {len(expected)}"
        return None
    if isinstance(actual, dict):
        for key in expected:
            if key not in actual:
                return f"{path}: no key {_text(key)}"
            found = first_difference(actual[key], expected[key], f"{path}[{_text(key)}]")
            if found:
                return found
        extra = [key for key in actual if key not in expected]
        return f"{path}: unexpected key {_text(extra[0])}" if extra else None
    return None if actual == expected else f"{path}: {_text(actual)}, expected {_text(expected)}"


@dataclass(frozen=True, slots=True)
class Seen:
    """One job a test mode saw: where (a queue, or a place such as ``delayed until ...``) and what."""

    where: str
    class_name: str
    args: list[Any]
    queue: str


@dataclass(frozen=True, slots=True)
class Expectation:
    """A job a test expects: its class name, its arguments (``None``: any), its queue (``None``: any)."""

    class_name: str
    args: list[Any] | None
    queue: str | None

    def matches(self, job: Seen) -> bool:
        return (
            job.class_name == self.class_name
            and (self.queue is None or job.queue == self.queue)
            and (self.args is None or job.args == self.args)
        )

    def describe(self) -> str:
        call = f"{self.class_name}(...)" if self.args is None else describe_call(self.class_name, self.args)
        return call if self.queue is None else f"{call} on queue {self.queue}"

    def why_not(self, job: Seen) -> str | None:
        """For a job of the same class that does not match: how it differs."""
        if job.class_name != self.class_name:
            return None
        if self.args is not None and job.args != self.args:
            return first_difference(job.args, self.args)
        if self.queue is not None and job.queue != self.queue:
            return f"on queue {job.queue}, expected {self.queue}"
        return None

    def listing(self, title: str, jobs: Sequence[Seen]) -> str:
        """``title (n):`` and one line per job, near misses marked."""
        if not jobs:
            return f"{title}: none"
        shown = [(job.where, describe_call(job.class_name, job.args), self.why_not(job)) for job in jobs[:MAX_LISTED]]
        where_width = max(len(where) for where, _, _ in shown)
        call_width = max((len(call) for _, call, note in shown if note), default=0)
        lines = [f"{title} ({len(jobs)}):"]
        for where, call, note in shown:
            if note:
                lines.append(f"  {where:<{where_width}}  {call:<{call_width}}   <- {note}")
            else:
                lines.append(f"  {where:<{where_width}}  {call}")
        if len(jobs) > MAX_LISTED:
            lines.append(f"  ... and {len(jobs) - MAX_LISTED} more")
        return "\n".join(lines)


def times(count: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")
