"""Delayed jobs: resque-scheduler 5.0's producer API, and the move of due jobs onto their queues.

::

    r.enqueue_at(datetime(2027, 1, 1, tzinfo=timezone.utc), EmailJob, 42)   # True; False if vetoed
    r.enqueue_in(30, EmailJob, 42)                  # or a timedelta
    r.enqueue_at_with_queue("high", when, EmailJob, 42)
    r.remove_delayed(EmailJob, 42)                  # by exact bytes; returns how many were removed
    r.scheduled_at(EmailJob, 42); r.delayed_queue_schedule_size(); r.find_delayed(EmailJob)

The keys and bytes are resque-scheduler's, so a Ruby process and this one can each schedule what the
other's scheduler enqueues. A delayed item is ``{"class":"EmailJob","args":[42],"queue":"email"}``;
when it is due it is pushed to its queue as ``{"class":"EmailJob","args":[42]}``, as resque-scheduler's
``Resque.enqueue_to`` does, after ``before_delayed_enqueue`` and ``before_enqueue`` hooks (a veto drops
it) when this process knows the class.

Times:

* ``when`` is an aware :class:`~datetime.datetime` or epoch seconds. A **naive datetime is refused**
  (:class:`ScheduleError`): ``datetime.now()`` is local time, and reading it as UTC would silently
  shift every job by the UTC offset.
* Like resque-scheduler, a time whose whole second is already past, or a negative delay, enqueues the
  job at once through :meth:`~resque_impl.Resque.enqueue_to`, so its ``before_enqueue`` hooks run
  (and may veto the push) and its ``after_enqueue`` hooks, between the schedule hooks, as
  resque-scheduler 5.0's ``Resque.enqueue_to`` does; so does inline mode with ``delayed="now"``, as
  under Ruby's ``Resque.inline``. The current second still goes through the delayed queue, which the
  scheduler empties on its next poll (resque-scheduler enqueues it at once: see the compatibility
  notes).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from resque_impl.codec import Payload, decode_payload, loads
from resque_impl.errors import NoClassError, NoQueueError, PayloadDecodeError, ScheduleError
from resque_impl.hooks import (
    hook_names,
    run_after_enqueue,
    run_after_schedule,
    run_before_delayed_enqueue,
    run_before_enqueue,
    run_before_schedule,
)
from resque_impl.instrumentation import sending
from resque_impl.job import queue_of
from resque_impl.store.delayed import RELEASE_CHANGED

if TYPE_CHECKING:
    from resque_impl.clock import Clock
    from resque_impl.registry import Registry
    from resque_impl.store import StoreProtocol

__all__ = ["DEFAULT_BATCH_SIZE", "DelayedJob", "DelayedJobs", "When", "delay_seconds", "job_arguments", "to_epoch"]

#: A moment: an aware datetime, or seconds since the Unix epoch.
When = datetime | float | int
#: Items moved per atomic step, as resque-scheduler's ``DELAYED_REQUEUE_BATCH_SIZE``.
DEFAULT_BATCH_SIZE = 100
#: Keys of a delayed item that are not carried over to the payload pushed when it is due: the item's
#: own, and an enqueue stamp, which is restamped (or left out) when the job really is enqueued.
_NOT_CARRIED = ("class", "args", "queue", "enqueued_at")
_PAGE = 1000


def to_epoch(when: When) -> float:
    """``when`` as epoch seconds; :class:`ScheduleError` for a naive datetime or a non-finite number."""
    if isinstance(when, datetime):
        if when.tzinfo is None or when.utcoffset() is None:
            raise ScheduleError(
                f"naive datetime {when.isoformat()} has no time zone; pass an aware one, e.g. "
                "datetime.now(timezone.utc) + timedelta(minutes=5), or epoch seconds"
            )
        return when.timestamp()
    if isinstance(when, bool) or not isinstance(when, (int, float)):
        raise ScheduleError(f"a time must be an aware datetime or epoch seconds, not {type(when).__name__}")
    if not math.isfinite(when):
        raise ScheduleError(f"a time must be a finite number of epoch seconds, not {when}")
    return float(when)


def delay_seconds(delay: timedelta | float | int) -> float:
    if isinstance(delay, timedelta):
        return delay.total_seconds()
    if isinstance(delay, bool) or not isinstance(delay, (int, float)):
        raise ScheduleError(f"a delay must be seconds or a timedelta, not {type(delay).__name__}")
    if not math.isfinite(delay):
        raise ScheduleError(f"a delay must be a finite number of seconds, not {delay}")
    return float(delay)


def job_arguments(args: Any) -> list[Any]:
    """resque-scheduler's reading of a configured ``args``: a dict is one argument, a list is the
    arguments, nothing is none, anything else is one argument."""
    if args is None:
        return []
    if isinstance(args, list):
        return args
    return [args]


@dataclass(frozen=True, slots=True)
class DelayedJob:
    """One delayed item: when it is due, the queue it goes to, and its payload (``raw``: exact bytes)."""

    timestamp: int
    queue: str | None
    payload: Payload
    raw: bytes

    @classmethod
    def read(cls, timestamp: int, raw: bytes) -> DelayedJob:
        """Decode an item; :class:`PayloadDecodeError` if it is not one."""
        payload = decode_payload(raw)
        extras = dict(payload.extras)
        queue = extras.pop("queue", None)
        return cls(
            timestamp, queue if isinstance(queue, str) else None, Payload(payload.class_name, payload.args, extras), raw
        )

    @property
    def class_name(self) -> str:
        return self.payload.class_name

    @property
    def args(self) -> list[Any]:
        return self.payload.args


class DelayedJobs:
    """resque-scheduler's ``DelayingExtensions``, mixed into :class:`~resque_impl.client.Resque`."""

    if TYPE_CHECKING:
        # Properties on Resque (a test mode may stand in for them; see resque_impl.testmode).
        @property
        def store(self) -> StoreProtocol: ...
        @property
        def clock(self) -> Clock: ...

        registry: Registry
        max_payload_bytes: int

        def _identify(self, job_class: type | str) -> tuple[str, type | None]: ...
        def _queue_for(self, name: str, cls: type | None, queue: str | None) -> str: ...
        def _encode(self, name: str, args: Sequence[Any], extras: dict[str, Any] | None = None) -> bytes: ...
        def _item(
            self, name: str, args: Sequence[Any], queue: str | None, extras: dict[str, Any] | None = None
        ) -> bytes: ...
        def _schedule(self, when: When) -> tuple[int, bool]: ...
        def enqueue_to(self, queue: str | None, job_class: type | str, *args: Any) -> bool: ...
        def record_failure(
            self, queue: str, payload: Payload | bytes, error: BaseException, *, worker: str = ""
        ) -> None: ...

    # -- scheduling ---------------------------------------------------------------------------------
    def enqueue_at(self, when: When, job_class: type | str, *args: Any) -> bool:
        """Enqueue a job on its class's queue at ``when``. ``False`` if a ``before_schedule`` hook
        vetoed it; a time already past enqueues it now."""
        name, cls = self._identify(job_class)
        return self.enqueue_at_with_queue(self._queue_for(name, cls, None), when, job_class, *args)

    def enqueue_at_with_queue(self, queue: str, when: When, job_class: type | str, *args: Any) -> bool:
        """Enqueue a job on ``queue`` at ``when`` (see :meth:`enqueue_at`)."""
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        timestamp, past = self._schedule(when)
        item = self._item(name, args, target)  # refuse bad arguments before any hook runs
        if cls is not None:
            if not run_before_schedule(cls, args):
                return False
            if hook_names(cls, "before_schedule"):  # as in Ruby, a hook may change the arguments
                item = self._item(name, args, target)
        # An inline test mode that runs delayed jobs at once stands for Ruby's Resque.inline.
        if past or getattr(self.store, "delayed_now", False):
            self.enqueue_to(target, job_class, *args)  # a veto here still runs after_schedule, as in Ruby
        else:
            self.store.delayed_push(timestamp, item)
        if cls is not None:
            run_after_schedule(cls, args)
        return True

    def enqueue_in(self, delay: timedelta | float | int, job_class: type | str, *args: Any) -> bool:
        """Enqueue a job ``delay`` seconds (or a timedelta) from now; a negative delay enqueues now."""
        return self.enqueue_at(self.clock.time() + delay_seconds(delay), job_class, *args)

    def enqueue_in_with_queue(
        self, queue: str, delay: timedelta | float | int, job_class: type | str, *args: Any
    ) -> bool:
        """Enqueue a job on ``queue`` ``delay`` seconds from now."""
        return self.enqueue_at_with_queue(queue, self.clock.time() + delay_seconds(delay), job_class, *args)

    def push_at(self, when: When, queue: str, item: dict[str, Any] | Payload) -> None:
        """Schedule a ready-made payload (extra keys kept, e.g. a retry count) on ``queue`` at ``when``,
        without hooks; a time already past pushes it now. The delayed counterpart of ``push``."""
        if not isinstance(item, Payload):
            item = Payload(str(item.get("class") or ""), item.get("args") or [], item)
        if not item.class_name:
            raise NoClassError('a scheduled item needs a "class"')
        if not queue:
            raise NoQueueError("push_at needs a queue name")
        timestamp = math.floor(to_epoch(when))
        extras = {key: value for key, value in item.extras.items() if key not in _NOT_CARRIED}
        if timestamp < math.floor(self.clock.time()):
            self.store.push(queue, self._encode(item.class_name, item.args, extras))
        else:
            self.store.delayed_push(timestamp, self._item(item.class_name, item.args, queue, extras))

    # -- removing -----------------------------------------------------------------------------------
    def _lookup_item(self, job_class: type | str, args: Sequence[Any]) -> bytes:
        """The bytes Ruby's ``job_to_hash`` gives: the queue is the class's (``null`` if unknown here)."""
        name, cls = self._identify(job_class)
        return self._item(name, args, queue_of(cls) if cls is not None else None)

    def remove_delayed(self, job_class: type | str, *args: Any) -> int:
        """Remove every delayed copy of this exact job (class, args and the class's queue); returns how
        many were removed."""
        return self.store.delayed_remove(self._lookup_item(job_class, args))

    def remove_delayed_job_from_timestamp(self, when: When, job_class: type | str, *args: Any) -> int:
        """Remove this exact job from one timestamp only; returns how many were removed."""
        return self.store.delayed_remove_from(math.floor(to_epoch(when)), self._lookup_item(job_class, args))

    def remove_delayed_item(self, when: When, item: bytes) -> int:
        """Remove the item with exactly these bytes from ``when`` (with any identical copy due then);
        returns how many were removed. Unlike :meth:`remove_delayed_job_from_timestamp` it needs no
        class here, and finds items with extra keys or written by any producer (the dashboard's cancel)."""
        return self.store.delayed_remove_from(math.floor(to_epoch(when)), item)

    def remove_delayed_selection(
        self, job_class: type | str | None = None, where: Callable[[list[Any]], bool] | None = None
    ) -> int:
        """Remove every delayed job :meth:`find_delayed` finds; returns how many were removed."""
        found = {job.raw for job in self.find_delayed(job_class, where)}
        return sum(self.store.delayed_remove(raw) for raw in found)

    def reset_delayed_queue(self) -> None:
        """Delete every delayed job."""
        self.store.delayed_reset()

    def enqueue_delayed(self, job_class: type | str, *args: Any) -> int:
        """Take this exact job out of the delayed queue and enqueue it now (hooks run); returns how
        many copies were enqueued."""
        removed = self.remove_delayed(job_class, *args)
        for _ in range(removed):
            self.enqueue_to(None, job_class, *args)
        return removed

    # -- inspecting ---------------------------------------------------------------------------------
    def delayed_queue_schedule_size(self) -> int:
        """How many distinct timestamps have delayed jobs."""
        return self.store.delayed_schedule_size()

    def delayed_timestamp_size(self, when: When) -> int:
        """How many jobs are due at ``when`` (its whole second)."""
        return self.store.delayed_timestamp_size(math.floor(to_epoch(when)))

    def count_all_scheduled_jobs(self) -> int:
        """How many delayed jobs there are in all."""
        return self.store.delayed_count()

    def delayed_queue_peek(self, start: int = 0, count: int = 1) -> list[int]:
        """Scheduled timestamps from position ``start``, earliest first."""
        return self.store.delayed_timestamps(start, count)

    def delayed_timestamp_peek(self, when: When, start: int = 0, count: int = 1) -> list[DelayedJob]:
        """Jobs due at ``when``, from position ``start``."""
        timestamp = math.floor(to_epoch(when))
        return [DelayedJob.read(timestamp, raw) for raw in self.store.delayed_range(timestamp, start, count)]

    def next_delayed_timestamp(self) -> int | None:
        """The earliest timestamp with delayed jobs, if any."""
        return self.store.next_delayed_timestamp()

    def scheduled_at(self, job_class: type | str, *args: Any) -> list[int]:
        """The timestamps at which this exact job is scheduled, ascending."""
        return self.store.delayed_item_timestamps(self._lookup_item(job_class, args))

    def is_delayed(self, job_class: type | str, *args: Any) -> bool:
        """Whether this exact job is scheduled (Ruby's ``delayed?``)."""
        return bool(self.scheduled_at(job_class, *args))

    def find_delayed(
        self, job_class: type | str | None = None, where: Callable[[list[Any]], bool] | None = None
    ) -> list[DelayedJob]:
        """Every delayed job of ``job_class`` (any, if ``None``) whose args satisfy ``where``, earliest
        first. Items that are not valid payloads are skipped."""
        name = self._identify(job_class)[0] if job_class is not None else None
        found: list[DelayedJob] = []
        start = 0
        while stamps := self.store.delayed_timestamps(start, 100):
            start += len(stamps)
            for timestamp in stamps:
                for raw in self._bucket(timestamp):
                    try:
                        job = DelayedJob.read(timestamp, raw)
                    except PayloadDecodeError:
                        continue
                    if (name is None or job.class_name == name) and (where is None or where(job.args)):
                        found.append(job)
        return found

    def _bucket(self, timestamp: int) -> list[bytes]:
        items: list[bytes] = []
        while page := self.store.delayed_range(timestamp, len(items), _PAGE):
            items.extend(page)
            if len(page) < _PAGE:
                break
        return items

    # -- moving due jobs ----------------------------------------------------------------------------
    def release_due(
        self,
        until: float | None = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        keep_going: Callable[[], bool] | None = None,
        worker: str = "",
    ) -> int:
        """Push every delayed job due by ``until`` (default: now) onto its queue; returns how many were
        pushed. What the scheduler does on each poll.

        Each batch moves in one atomic step, so a process killed meanwhile loses or doubles nothing.
        ``keep_going`` is asked between batches (the scheduler stops there when shutting down or no
        longer master). Items that cannot be enqueued (not a payload, no queue, a hook raised) become
        failure records naming ``worker``.
        """
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        limit = math.floor(self.clock.time() if until is None else until)
        go_on = keep_going or (lambda: True)
        pushed = 0
        while go_on():
            timestamp = self.store.next_delayed_timestamp(limit)
            if timestamp is None:
                break
            pushed += self._release_timestamp(timestamp, batch_size, go_on, worker)
        return pushed

    def enqueue_delayed_timestamp(self, when: When, *, worker: str = "") -> int:
        """Push every job due at ``when`` onto its queue now (the dashboard's "queue now")."""
        return self._release_timestamp(math.floor(to_epoch(when)), DEFAULT_BATCH_SIZE, lambda: True, worker)

    def _release_timestamp(self, timestamp: int, batch_size: int, go_on: Callable[[], bool], worker: str) -> int:
        pushed = 0
        while True:
            batch = self.store.delayed_range(timestamp, 0, batch_size)
            release = _Release()
            for raw in batch:
                self._plan(raw, release)
            with release.sends:  # the tracer's push spans (if any) end once the batch is pushed
                moved = self.store.delayed_release(timestamp, batch, release.pushes)
            if moved == RELEASE_CHANGED:
                return pushed  # someone else took or changed the head; the caller looks again
            pushed += moved
            for queue, body, error in release.failures:
                self.record_failure(queue, body, error, worker=worker)
            for cls, args in release.enqueued:
                run_after_enqueue(cls, args)
            if len(batch) < batch_size or not go_on():
                return pushed

    def _plan(self, raw: bytes, release: _Release) -> None:
        """Decide what becomes of one due item: a push, a veto, or a failure record."""
        queue: str | None = None
        try:
            data = loads(raw)
            if not isinstance(data, dict) or not isinstance(data.get("class"), str) or not data["class"]:
                raise PayloadDecodeError('a delayed item must be a JSON object with a "class" string', raw)
            name: str = data["class"]
            args = job_arguments(data.get("args"))
            cls = self.registry.get(name)
            queue = data.get("queue") or (queue_of(cls) if cls is not None else None)
            if not isinstance(queue, str):
                raise NoQueueError(f"delayed {name} job names no queue and no class here infers one")
            if cls is not None:
                run_before_delayed_enqueue(cls, args)
                if not run_before_enqueue(cls, args):
                    return
            extras = {key: value for key, value in data.items() if key not in _NOT_CARRIED}
            with contextlib.ExitStack() as send:
                send.enter_context(sending(queue, name, args))  # a payload that cannot be encoded ends it
                release.pushes.append((queue, self._encode(name, args, extras)))
                release.sends.enter_context(send.pop_all())  # ...else it ends once the batch is pushed
            if cls is not None:
                release.enqueued.append((cls, args))
        except Exception as error:  # a bad item or a raising hook: recorded as a failure, never lost
            release.failures.append((queue or "", raw, error))


@dataclass
class _Release:
    """What one batch becomes: pushes, after-enqueue hooks to run, and failure records to write."""

    pushes: list[tuple[str, bytes]] = field(default_factory=list)
    enqueued: list[tuple[type, list[Any]]] = field(default_factory=list)
    failures: list[tuple[str, Payload | bytes, BaseException]] = field(default_factory=list)
    sends: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
