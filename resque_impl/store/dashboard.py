"""Read-only commands the dashboard needs beyond the library's own: worker details, Redis ``INFO`` and
a key browser.

Every read is bounded: keys are found with ``SCAN`` (never ``KEYS``), a key's content is read a page
at a time (``LRANGE``, ``SSCAN``, ``ZRANGE``, ``HSCAN``, ``GETRANGE``), and several workers or keys are
read in one round trip. Nothing here writes. Only the Redis-backed :class:`~resque_impl.store.Store`
offers these commands; the in-memory twin does not (the dashboard needs a Redis server or fakeredis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from resque_impl.store.base import StoreBase

__all__ = ["DashboardCommands", "KeyPage", "KeySummary", "WorkerDetails"]

#: How a key's size is read, by its Redis type.
_SIZE_COMMANDS = {
    "list": "LLEN",
    "set": "SCARD",
    "zset": "ZCARD",
    "hash": "HLEN",
    "string": "STRLEN",
    "stream": "XLEN",
}


@dataclass(frozen=True)
class WorkerDetails:
    """What Redis holds about one registered worker (Ruby's and ours alike)."""

    id: str
    started: str | None
    heartbeat: str | None
    processed: int
    failed: int
    working_on: bytes | None


@dataclass(frozen=True)
class KeySummary:
    """One key as the key browser lists it: its full name, Redis type and size (items or bytes)."""

    name: str
    type: str
    size: int | None


@dataclass(frozen=True)
class KeyPage:
    """A page of one key's content.

    ``items`` are ``(field, value)`` pairs: the position for lists, ``None`` for sets and strings, the
    field for hashes and the score (as text) for sorted sets. ``next`` is where the following page
    starts (an index or a ``SCAN`` cursor), or ``None`` after the last page.
    """

    name: str
    type: str
    size: int | None
    items: list[tuple[str | None, bytes]]
    next: int | None


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _int(raw: bytes | None) -> int:
    try:
        return int(raw) if raw else 0
    except ValueError:
        return 0


class DashboardCommands(StoreBase):
    def ping(self) -> bool:
        """Whether the server answers (a connection failure raises, as every command does)."""
        return bool(self.client.ping())

    def worker_details(self, worker_ids: Sequence[str]) -> dict[str, WorkerDetails]:
        """Started time, last heartbeat, per-worker counters and working-on record of each worker, in
        one round trip."""
        ids = list(worker_ids)
        if not ids:
            return {}
        keys = self.keys
        names: list[str | bytes] = []
        for worker_id in ids:
            names += [
                keys.worker_started(worker_id),
                keys.worker_stat("processed", worker_id),
                keys.worker_stat("failed", worker_id),
                keys.worker(worker_id),
            ]
        values, beats = self._round_trip((("MGET", *names), ("HMGET", keys.heartbeats, *ids)))
        details: dict[str, WorkerDetails] = {}
        for position, worker_id in enumerate(ids):
            started, processed, failed, working = values[4 * position : 4 * position + 4]
            beat = beats[position]
            details[worker_id] = WorkerDetails(
                id=worker_id,
                started=_text(started) if started else None,
                heartbeat=_text(beat) if beat else None,
                processed=_int(processed),
                failed=_int(failed),
                working_on=working,
            )
        return details

    def redis_info(self) -> dict[str, Any]:
        """The server's ``INFO`` as a flat mapping; empty when the server does not offer ``INFO``
        (fakeredis)."""
        try:
            info: dict[str, Any] = self.client.info()
        except redis.ResponseError:
            return {}
        return info

    def scan_keys(self, match: str, cursor: int, count: int, rounds: int) -> tuple[int, list[str]]:
        """Key names matching the glob ``match``, from ``SCAN`` position ``cursor``.

        At most ``rounds`` ``SCAN`` calls of ``COUNT count`` are made, stopping early once ``count``
        names are found, so one call examines a bounded number of keys. Returns the cursor to continue
        from (0 when the scan is complete) and the names found (possibly fewer than ``count``, or a
        few more: ``SCAN`` returns what each step found).
        """
        found: list[str] = []
        for _ in range(max(1, rounds)):
            cursor, names = self.client.scan(cursor, match=match, count=count)
            cursor = int(cursor)
            found.extend(_text(name) for name in names)
            if cursor == 0 or len(found) >= count:
                break
        return cursor, found

    def key_summaries(self, names: Sequence[str]) -> list[KeySummary]:
        """Type and size of each key (two round trips however many keys). A key deleted meanwhile has
        type ``none`` and no size."""
        if not names:
            return []
        types = [_text(kind) for kind in self._round_trip([("TYPE", name) for name in names])]
        sized = [(name, kind) for name, kind in zip(names, types, strict=True) if kind in _SIZE_COMMANDS]
        sizes = self._round_trip([(_SIZE_COMMANDS[kind], name) for name, kind in sized]) if sized else []
        size_of = {name: int(size) for (name, _), size in zip(sized, sizes, strict=True)}
        return [KeySummary(name, kind, size_of.get(name)) for name, kind in zip(names, types, strict=True)]

    def key_page(self, name: str, start: int, count: int, max_bytes: int) -> KeyPage:
        """Up to ``count`` items of key ``name`` from ``start`` (an index for lists and sorted sets, a
        ``SCAN`` cursor for sets and hashes, a byte offset for strings, which are read ``max_bytes``
        at a time). Streams and unknown types show their size only."""
        summary = self.key_summaries([name])[0]
        kind, size = summary.type, summary.size
        items: list[tuple[str | None, bytes]] = []
        following: int | None = None
        if kind == "list":
            values = self.client.lrange(name, start, start + count - 1)
            items = [(str(index), value) for index, value in enumerate(values, start)]
            following = start + count if size is not None and start + count < size else None
        elif kind == "zset":
            pairs = self.client.zrange(name, start, start + count - 1, withscores=True)
            items = [(_score(score), member) for member, score in pairs]
            following = start + count if size is not None and start + count < size else None
        elif kind == "set":
            cursor, members = self.client.sscan(name, start, count=count)
            items = [(None, member) for member in members]
            following = int(cursor) or None
        elif kind == "hash":
            cursor, fields = self.client.hscan(name, start, count=count)
            items = [(_text(field), value) for field, value in fields.items()]
            following = int(cursor) or None
        elif kind == "string":
            value = self.client.getrange(name, start, start + max_bytes - 1)
            items = [(None, value)]
            following = start + max_bytes if size is not None and start + max_bytes < size else None
        return KeyPage(name, kind, size, items, following)


def _score(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else repr(score)
