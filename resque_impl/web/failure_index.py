"""An incremental index of failure lists: the job class and queue of each record, by position.

Filtering 100,000 failure records by class or queue, or counting them per class, would otherwise read
and parse every record on every request. The index remembers what it read: a contiguous range of
positions ``[lo, hi)`` of each list, grown newest first by at most ``budget`` records and about
``seconds`` of work per request, so no request does unbounded work (even on a loaded machine) and the
first requests already cover the newest records.

Failure lists change in two ways: workers append (``RPUSH``) at the tail, and operators remove or
rewrite records anywhere. Appends leave known positions where they were, so the index reads only the
new tail. Before each use the index checks the list still holds, byte for byte, the records it saw at
both ends of its range; if not (records were removed, the list was cleared), it starts again. A
removal that happens to leave both ends in place is caught when a page is read: callers re-check each
record they fetch and call :meth:`FailureIndex.forget` on a mismatch.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from resque_impl.store import StoreProtocol

__all__ = ["FailureIndex", "ListIndex"]

#: Records read per LRANGE while indexing.
CHUNK = 1000


# Ruby Resque and this library write a record's payload first with "class" as its first key, and
# "queue" as the record's last key (or just before "retried_at"). In valid JSON an unescaped quote
# never occurs inside a string, so these anchored patterns read exactly what a full parse would; a
# record written any other way falls back to the parser. Parsing every record is what makes indexing
# 100,000 records slow; these patterns take a fifth of the time.
_STRING = rb'"((?:[^"\\]|\\.)*)"'
_CLASS = re.compile(rb'\{"failed_at":"[^"\\]*","payload":\{"class":' + _STRING)
_QUEUE = re.compile(rb',"queue":' + _STRING + rb'(?:,"retried_at":"[^"\\]*")?\}\Z')


def _string(raw: bytes) -> str | None:
    if b"\\" not in raw:
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return None
    try:
        value = json.loads(b'"' + raw + b'"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _class_and_queue(raw: bytes) -> tuple[str | None, str | None]:
    """The payload class and the job queue of a failure record (``None`` where it has none)."""
    class_match = _CLASS.match(raw)
    queue_match = _QUEUE.match(raw, raw.rfind(b',"queue":"')) if class_match else None
    if class_match and queue_match:
        return _string(class_match.group(1)), _string(queue_match.group(1))
    try:
        data = json.loads(raw)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    payload = data.get("payload")
    class_name = payload.get("class") if isinstance(payload, dict) else None
    queue = data.get("queue")
    return (
        class_name if isinstance(class_name, str) else None,
        queue if isinstance(queue, str) else None,
    )


@dataclass
class ListIndex:
    """What is known about one failure list: positions ``lo`` to ``hi - 1`` of ``size`` records."""

    size: int
    lo: int
    hi: int
    entries: list[tuple[str | None, str | None] | None]
    first: bytes = b""
    last: bytes = b""
    classes: Counter[str | None] = field(default_factory=Counter)
    queues: Counter[str | None] = field(default_factory=Counter)

    @property
    def complete(self) -> bool:
        """Whether every record of the list is indexed."""
        return self.lo == 0 and self.hi == self.size

    def newest_first(self) -> Iterator[tuple[int, str | None, str | None]]:
        """``(position, class, queue)`` of each indexed record, newest first."""
        entries = self.entries
        for position in range(self.hi - 1, self.lo - 1, -1):
            entry = entries[position]
            if entry is not None:
                yield position, entry[0], entry[1]


class FailureIndex:
    """Indexes of the failure lists of one store, safe to share between request threads.

    :param budget: most records read per :meth:`refresh`.
    :param seconds: stop reading (after the current chunk of :data:`CHUNK` records) once a refresh
        has taken this long; ``None`` for no time limit. Measured with ``timer``.
    """

    def __init__(
        self,
        store: StoreProtocol,
        budget: int = 20_000,
        seconds: float | None = 0.1,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.store = store
        self.budget = max(CHUNK, budget)
        self.seconds = seconds
        self.timer = timer
        self._lists: dict[str, ListIndex] = {}
        self._lock = threading.Lock()
        self._interned: dict[tuple[str | None, str | None], tuple[str | None, str | None]] = {}

    def forget(self, list_key: str) -> None:
        """Drop what is known about ``list_key``: the next :meth:`refresh` starts again."""
        with self._lock:
            self._lists.pop(list_key, None)

    def refresh(self, list_key: str) -> ListIndex:
        """The index of ``list_key``, first checked against the list and grown by up to ``budget``
        records (new records at the tail first, then older ones)."""
        with self._lock:
            for _attempt in range(2):
                try:
                    index = self._grow(list_key)
                except _Shrunk:
                    self._lists.pop(list_key, None)
                    continue
                self._lists[list_key] = index
                return index
            return ListIndex(size=0, lo=0, hi=0, entries=[])

    def _grow(self, list_key: str) -> ListIndex:
        size = self.store.failure_count(list_key)
        index = self._lists.get(list_key)
        if index is not None and not self._still_valid(list_key, index, size):
            index = None
        if index is None or size - index.hi > self.budget:
            index = ListIndex(size=size, lo=size, hi=size, entries=[None] * size)
        index.entries.extend([None] * (size - len(index.entries)))
        index.size = size
        left = self.budget
        deadline = None if self.seconds is None else self.timer() + self.seconds
        while index.hi < size and left > 0:
            count = min(CHUNK, size - index.hi)
            self._read(list_key, index, index.hi, count)
            left -= count
            if deadline is not None and self.timer() > deadline:
                return index
        while index.lo > 0 and left > 0:
            count = min(CHUNK, index.lo, left)
            self._read(list_key, index, index.lo - count, count)
            left -= count
            if deadline is not None and self.timer() > deadline:
                return index
        return index

    def _still_valid(self, list_key: str, index: ListIndex, size: int) -> bool:
        if size < index.hi:
            return False
        if index.lo == index.hi:
            return True
        first = self.store.failure_range(list_key, index.lo, 1)
        last = self.store.failure_range(list_key, index.hi - 1, 1)
        return first == [index.first] and last == [index.last]

    def _read(self, list_key: str, index: ListIndex, start: int, count: int) -> None:
        """Index ``count`` records from position ``start``."""
        raws = self.store.failure_range(list_key, start, count)
        if len(raws) < count:
            raise _Shrunk
        interned = self._interned
        for position, raw in enumerate(raws, start):
            entry = _class_and_queue(raw)
            entry = interned.setdefault(entry, entry)
            index.entries[position] = entry
            index.classes[entry[0]] += 1
            index.queues[entry[1]] += 1
        empty = index.lo == index.hi
        if empty or start < index.lo:
            index.first = raws[0]
        if empty or start + count > index.hi:
            index.last = raws[-1]
        index.lo = start if empty else min(index.lo, start)
        index.hi = start + count if empty else max(index.hi, start + count)


class _Shrunk(Exception):
    """The list lost records while it was being read: positions shifted, so start again."""
