"""The backends that keep failure records: ``redis``, ``redis_multi_queue`` and ``multiple``.

A failure record is byte-compatible with Ruby Resque's (see :mod:`resque_impl.failure_record`, whose
names this module also exports).

Every operation that changes one record takes a *reference*: a :class:`FailureRecord` as returned by
:meth:`RedisBackend.all` / :meth:`RedisBackend.each`, its stable :attr:`FailureRecord.id` string (what a
web form carries), or a bare index as in Ruby. A record or id acts only on the record it names, even if
others were removed or added meanwhile; if that record is gone, :class:`FailureNotFoundError` is raised.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from resque_impl.clock import Clock, format_failed_at
from resque_impl.codec import dumps
from resque_impl.errors import FailureNotFoundError
from resque_impl.events import JOB_RETRIED, EventBus
from resque_impl.failure_record import FailureRecord, build_record, digest, format_backtrace
from resque_impl.instrumentation import sending, trace_headers
from resque_impl.store import StoreProtocol

__all__ = [
    "FailureBackend",
    "FailureRecord",
    "FailureRef",
    "FailureSink",
    "MultipleBackend",
    "RedisBackend",
    "RedisMultiQueueBackend",
    "build_record",
    "format_backtrace",
]

#: What operations on one record accept.
FailureRef = FailureRecord | str | int


@runtime_checkable
class FailureSink(Protocol):
    """The least a failure backend does: keep a record. Error trackers can implement just this."""

    def save(self, record: bytes, queue: str) -> None: ...


@runtime_checkable
class FailureBackend(FailureSink, Protocol):
    """A failure backend that can also be read and managed (what ``Resque.failures`` exposes)."""

    def count(self, queue: str | None = None, class_name: str | None = None) -> int: ...
    def all(self, offset: int = 0, limit: int | None = None) -> list[FailureRecord]: ...
    def each(
        self,
        offset: int = 0,
        limit: int | None = None,
        *,
        queue: str | None = None,
        class_name: str | None = None,
        newest_first: bool = True,
    ) -> Iterator[FailureRecord]: ...
    def get(self, ref: FailureRef) -> FailureRecord: ...
    def queues(self) -> list[str]: ...
    def clear(self, queue: str | None = None) -> None: ...
    def clear_retried(self) -> int: ...
    def requeue(self, ref: FailureRef, queue: str | None = None) -> None: ...
    def requeue_all(self) -> int: ...
    def requeue_queue(self, queue: str) -> int: ...
    def remove(self, ref: FailureRef) -> None: ...
    def remove_queue(self, queue: str) -> int: ...
    def retry_and_remove(self, ref: FailureRef, queue: str | None = None) -> None: ...


class _ListBackend:
    """Operations common to backends that keep records in Redis lists."""

    def __init__(self, store: StoreProtocol, clock: Clock, events: EventBus | None = None) -> None:
        self.store = store
        self.clock = clock
        #: Where retries are announced (``job.retried``); a backend built without one announces nothing.
        self.events = events

    # -- where records live (backends differ only here) ---------------------------------------------
    def _list_for(self, queue: str) -> str:
        raise NotImplementedError

    def _lists(self) -> list[str]:
        raise NotImplementedError

    def _key(self, list_name: str) -> str:
        return self.store.keys.key(list_name)

    def _default_list(self) -> str:
        return self._list_for("")

    # -- reading -------------------------------------------------------------------------------------
    def count(self, queue: str | None = None, class_name: str | None = None) -> int:
        """How many records (of one job queue and/or payload class, if given)."""
        if queue is None and class_name is None:
            return sum(self.store.failure_count(self._key(name)) for name in self._lists())
        return sum(1 for _ in self.each(queue=queue, class_name=class_name))

    def all(self, offset: int = 0, limit: int | None = None) -> list[FailureRecord]:
        """Records oldest first from position ``offset`` (``limit=None``: to the end).

        With several lists (multi-queue), positions run through them in list-name order.
        """
        records: list[FailureRecord] = []
        skip = max(0, offset)
        for name in self._lists():
            key = self._key(name)
            size = self.store.failure_count(key)
            if skip >= size:
                skip -= size
                continue
            want = size - skip if limit is None else min(size - skip, limit - len(records))
            for index, raw in enumerate(self.store.failure_range(key, skip, want), skip):
                records.append(FailureRecord.read(name, index, raw))
            skip = 0
            if limit is not None and len(records) >= limit:
                break
        return records

    def each(
        self,
        offset: int = 0,
        limit: int | None = None,
        *,
        queue: str | None = None,
        class_name: str | None = None,
        newest_first: bool = True,
    ) -> Iterator[FailureRecord]:
        """Records matching the filters, newest first by default; ``offset`` and ``limit`` count
        matching records, so they page a filtered view."""
        names = [self._list_for(queue)] if queue is not None else self._lists()
        to_skip, left = max(0, offset), limit
        for name in names:
            for index, raw in self.store.iter_failures(self._key(name), newest_first=newest_first):
                record = FailureRecord.read(name, index, raw)
                if (queue is not None and record.queue != queue) or (
                    class_name is not None and record.class_name != class_name
                ):
                    continue
                if to_skip:
                    to_skip -= 1
                    continue
                if left is not None:
                    if left <= 0:
                        return
                    left -= 1
                yield record

    def get(self, ref: FailureRef) -> FailureRecord:
        """The record ``ref`` names, as it is now; :class:`FailureNotFoundError` if it is gone."""
        if isinstance(ref, FailureRecord):
            return self._find(ref.list_name, ref.index, lambda raw: raw == ref.raw)
        if isinstance(ref, int):
            name = self._default_list()
            found = self.store.failure_range(self._key(name), ref, 1)
            if not found:
                raise FailureNotFoundError(f"no failure record at index {ref}")
            return FailureRecord.read(name, ref, found[0])
        try:
            name, index_text, wanted = ref.rsplit(":", 2)
            index = int(index_text)
        except ValueError:
            raise FailureNotFoundError(f"{ref!r} is not a failure record id") from None
        return self._find(name, index, lambda raw: digest(raw) == wanted)

    def _find(self, list_name: str, index: int, matches: Any) -> FailureRecord:
        key = self._key(list_name)
        seen = self.store.failure_range(key, index, 1)
        if seen and matches(seen[0]):
            return FailureRecord.read(list_name, index, seen[0])
        for position, raw in self.store.iter_failures(key):
            if matches(raw):
                return FailureRecord.read(list_name, position, raw)
        raise FailureNotFoundError("that failure record was removed or changed by someone else")

    def queues(self) -> list[str]:
        """The failure list names (``["failed"]`` for the ``redis`` backend)."""
        return self._lists()

    # -- writing -------------------------------------------------------------------------------------
    def _update(self, record: FailureRecord, replacement: bytes | None, requeue_to: str | None) -> None:
        if requeue_to is None:
            self._apply(record, replacement, None)
            return
        # A retry is a new push (Ruby's Job.create): a tracer's push span wraps it and its context,
        # not the failed run's, goes into the payload.
        with sending(requeue_to, record.class_name or "", record.args):
            payload = dumps({"class": record.class_name, "args": record.args, **(trace_headers() or {})})
            self._apply(record, replacement, (requeue_to, payload))
        if self.events is not None and self.events.listening(JOB_RETRIED):
            metadata = {
                "class": record.class_name,
                "queue": requeue_to,
                "source": "failure_list",
                "failed_queue": record.queue,
                "removed": replacement is None,
            }
            self.events.emit(JOB_RETRIED, {"count": 1}, metadata)

    def _apply(self, record: FailureRecord, replacement: bytes | None, push: tuple[str, bytes] | None) -> None:
        if not self.store.failure_update(self._key(record.list_name), record.index, record.raw, replacement, push):
            raise FailureNotFoundError("that failure record was removed or changed by someone else")

    def _target_queue(self, record: FailureRecord, queue: str | None) -> str:
        target = queue or record.queue
        if not target or record.class_name is None:
            raise FailureNotFoundError(f"failure record {record.id} has no job queue or class to requeue")
        return target

    def requeue(self, ref: FailureRef, queue: str | None = None) -> None:
        """Push the job back onto its queue (or ``queue``) and mark the record ``retried_at``.

        Like Ruby, the record stays in the list; see :meth:`retry_and_remove`. No enqueue hooks run.
        """
        record = self.get(ref)
        target = self._target_queue(record, queue)
        marked = dumps({**record.data, "retried_at": format_failed_at(self.clock.time())})
        self._update(record, marked, target)

    def retry_and_remove(self, ref: FailureRef, queue: str | None = None) -> None:
        """Push the job back onto its queue and delete the record, atomically."""
        record = self.get(ref)
        self._update(record, None, self._target_queue(record, queue))

    def remove(self, ref: FailureRef) -> None:
        """Delete one record."""
        self._update(self.get(ref), None, None)

    def _each_matching(self, wanted: Any) -> list[FailureRecord]:
        return [record for record in self.each(newest_first=False) if wanted(record)]

    def requeue_all(self) -> int:
        """Requeue every record (each stays, marked ``retried_at``); returns how many."""
        records = self._each_matching(lambda record: record.class_name is not None)
        for record in records:
            self.requeue(record)
        return len(records)

    def requeue_queue(self, queue: str) -> int:
        """Requeue every record of jobs from ``queue``; returns how many."""
        records = self._each_matching(lambda record: record.queue == queue)
        for record in records:
            self.requeue(record)
        return len(records)

    def remove_queue(self, queue: str) -> int:
        """Delete every record of jobs from ``queue``; returns how many."""
        records = self._each_matching(lambda record: record.queue == queue)
        for record in records:
            self.remove(record)
        return len(records)

    def clear_retried(self) -> int:
        """Delete every record that was requeued; returns how many."""
        records = self._each_matching(lambda record: record.retried_at is not None)
        for record in records:
            self.remove(record)
        return len(records)


class RedisBackend(_ListBackend):
    """Ruby's default backend: every record in one list, ``failed``."""

    def save(self, record: bytes, queue: str) -> None:
        self.store.failure_push(self.store.keys.failed, record)

    def _list_for(self, queue: str) -> str:
        return "failed"

    def _lists(self) -> list[str]:
        return ["failed"]

    def clear(self, queue: str | None = None) -> None:
        """Delete every record (of one job queue, if given)."""
        if queue is None:
            self.store.failure_clear(self.store.keys.failed)
        else:
            self.remove_queue(queue)


class RedisMultiQueueBackend(_ListBackend):
    """Ruby's ``redis_multi_queue`` backend: a list ``<queue>_failed`` per job queue, named in the
    ``failed_queues`` set."""

    def save(self, record: bytes, queue: str) -> None:
        name = self._list_for(queue)
        self.store.failure_push(self._key(name), record, list_name=name)

    def _list_for(self, queue: str) -> str:
        return f"{queue}_failed" if queue else "failed"

    def _lists(self) -> list[str]:
        return self.store.failure_list_names()

    def each(
        self,
        offset: int = 0,
        limit: int | None = None,
        *,
        queue: str | None = None,
        class_name: str | None = None,
        newest_first: bool = True,
    ) -> Iterator[FailureRecord]:
        """Records matching the filters, newest first by default.

        With a ``queue``, as Ruby's ``RedisMultiQueue.each``: the window of ``queue``'s list at positions
        ``offset`` to ``offset + limit - 1`` (oldest first; ``limit=None``: to the end) is taken first,
        then ordered, then filtered by ``class_name``, so a window may yield fewer than ``limit``
        records. Without a ``queue`` (every list, which Ruby's ``each`` does not offer), ``offset`` and
        ``limit`` count matching records, as :class:`RedisBackend` does.
        """
        if queue is None or (offset <= 0 and limit is None):
            return super().each(offset, limit, queue=queue, class_name=class_name, newest_first=newest_first)
        name = self._list_for(queue)
        key, start = self._key(name), max(0, offset)
        count = self.store.failure_count(key) - start if limit is None else limit
        raws = self.store.failure_range(key, start, count) if count > 0 else []
        window = [FailureRecord.read(name, index, raw) for index, raw in enumerate(raws, start)]
        if newest_first:
            window.reverse()
        return (
            record
            for record in window
            if record.queue == queue and (class_name is None or record.class_name == class_name)
        )

    def clear(self, queue: str | None = None) -> None:
        """Delete every record (of one job queue, if given)."""
        names = [self._list_for(queue)] if queue is not None else self._lists()
        for name in names:
            self.store.failure_clear(self._key(name), list_name=name)

    def remove_queue(self, queue: str) -> int:
        """Delete the whole failure list of ``queue``; returns how many records it held."""
        name = self._list_for(queue)
        count = self.store.failure_count(self._key(name))
        self.store.failure_clear(self._key(name), list_name=name)
        return count


class MultipleBackend:
    """Saves each record to every backend; reads and manages through the first (Ruby's ``multiple``).

    The other backends need only :class:`FailureSink`'s ``save``, e.g. an error tracker.
    """

    def __init__(self, primary: FailureBackend, *others: FailureSink) -> None:
        self.primary = primary
        self.others: Sequence[FailureSink] = others

    def save(self, record: bytes, queue: str) -> None:
        self.primary.save(record, queue)
        for backend in self.others:
            backend.save(record, queue)

    def count(self, queue: str | None = None, class_name: str | None = None) -> int:
        return self.primary.count(queue, class_name)

    def all(self, offset: int = 0, limit: int | None = None) -> list[FailureRecord]:
        return self.primary.all(offset, limit)

    def each(
        self,
        offset: int = 0,
        limit: int | None = None,
        *,
        queue: str | None = None,
        class_name: str | None = None,
        newest_first: bool = True,
    ) -> Iterator[FailureRecord]:
        return self.primary.each(offset, limit, queue=queue, class_name=class_name, newest_first=newest_first)

    def get(self, ref: FailureRef) -> FailureRecord:
        return self.primary.get(ref)

    def queues(self) -> list[str]:
        return self.primary.queues()

    def clear(self, queue: str | None = None) -> None:
        self.primary.clear(queue)

    def clear_retried(self) -> int:
        return self.primary.clear_retried()

    def requeue(self, ref: FailureRef, queue: str | None = None) -> None:
        self.primary.requeue(ref, queue)

    def requeue_all(self) -> int:
        return self.primary.requeue_all()

    def requeue_queue(self, queue: str) -> int:
        return self.primary.requeue_queue(queue)

    def remove(self, ref: FailureRef) -> None:
        self.primary.remove(ref)

    def remove_queue(self, queue: str) -> int:
        return self.primary.remove_queue(queue)

    def retry_and_remove(self, ref: FailureRef, queue: str | None = None) -> None:
        self.primary.retry_and_remove(ref, queue)
