"""Read-only commands the dashboard needs beyond the library's own: worker details, Redis ``INFO``, a
key browser, and summaries of resque-scheduler's delayed queue.

Every read is bounded: keys are found with ``SCAN`` (never ``KEYS``), a key's content is read a page
at a time (``LRANGE``, ``SSCAN``, ``ZRANGE``, ``HSCAN``, ``GETRANGE``), the delayed schedule is read
by ``ZRANGE`` position and counted up to a limit, and several workers, keys or timestamps are read in
one round trip. Nothing here writes. Only the Redis-backed :class:`~resque_impl.store.Store`
offers these commands; the in-memory twin does not (the dashboard needs a Redis server or fakeredis).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis

from resque_impl.store.base import Command, StoreBase

__all__ = ["DashboardCommands", "DelayedHead", "DelayedSummary", "KeyPage", "KeySummary", "WorkerDetails"]

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


@dataclass(frozen=True)
class DelayedSummary:
    """The delayed queue at a glance: distinct timestamps, how many are due by now, the earliest one,
    and who holds resque-scheduler's master lock (``None``: no scheduler is running)."""

    timestamps: int
    due: int
    earliest: int | None
    master: str | None


@dataclass(frozen=True)
class DelayedHead:
    """One scheduled timestamp: how many items it holds, and the first of them (``None`` if it has
    none left)."""

    timestamp: int
    size: int
    first: bytes | None


# Jobs held by ARGV[2] timestamps of the schedule from position ARGV[1], summed where the data is: no
# reply per timestamp. Called a chunk at a time so that Redis is never busy with it for long.
# KEYS: schedule zset.  ARGV: start position, how many timestamps, bucket-key prefix.
_COUNT_DELAYED = """
local total = 0
local first = tonumber(ARGV[1])
local stamps = redis.call('ZRANGE', KEYS[1], first, first + tonumber(ARGV[2]) - 1)
for _, stamp in ipairs(stamps) do
  total = total + redis.call('LLEN', ARGV[3] .. stamp)
end
return {total, #stamps}
"""
#: Timestamps counted per script call (about a millisecond of the server's time).
_COUNT_CHUNK = 1000


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

    # -- resque-scheduler ------------------------------------------------------------------------------
    def scheduler_in_use(self) -> bool:
        """Whether resque-scheduler's keys show it at work here: delayed jobs, dynamic schedules, a
        recurring job that fired, or a running scheduler's master lock (one ``EXISTS``)."""
        keys = self.keys
        found = self.client.exists(
            keys.delayed_schedule, keys.schedules, keys.last_enqueued_at, keys.scheduler_master_lock
        )
        return bool(found)

    def delayed_summary(self, now: int) -> DelayedSummary:
        """:class:`DelayedSummary` as of epoch second ``now``, in one round trip (``ZCARD``, ``ZCOUNT``,
        the first member, the lock)."""
        keys = self.keys
        size, due, first, master = self._round_trip(
            (
                ("ZCARD", keys.delayed_schedule),
                ("ZCOUNT", keys.delayed_schedule, "-inf", now),
                ("ZRANGE", keys.delayed_schedule, 0, 0),
                ("GET", keys.scheduler_master_lock),
            )
        )
        return DelayedSummary(
            timestamps=int(size),
            due=int(due),
            earliest=int(first[0]) if first else None,
            master=_text(master) if master is not None else None,
        )

    def delayed_heads(self, timestamps: Sequence[int]) -> list[DelayedHead]:
        """Size and first item of each timestamp's list, in one round trip."""
        if not timestamps:
            return []
        commands: list[Command] = []
        for timestamp in timestamps:
            key = self.keys.delayed(timestamp)
            commands += [("LLEN", key), ("LINDEX", key, 0)]
        replies = self._round_trip(commands)
        return [
            DelayedHead(timestamp, int(replies[2 * n]), replies[2 * n + 1]) for n, timestamp in enumerate(timestamps)
        ]

    def delayed_count_first(self, timestamps: int) -> tuple[int, int]:
        """Jobs held by the earliest ``timestamps`` timestamps, and how many timestamps that was: the
        whole delayed queue's size when the schedule is no longer than ``timestamps``.

        Counted a chunk of timestamps per script call, by position: a timestamp the scheduler takes
        meanwhile shifts the rest, so one may be missed, which a figure on a page can live with.
        """
        keys = self.keys
        count = self._script(_COUNT_DELAYED)
        prefix = keys.key(keys.DELAYED_BUCKET_PREFIX)
        total = counted = 0
        while counted < timestamps:
            chunk = min(_COUNT_CHUNK, timestamps - counted)
            jobs, seen = count(keys=[keys.delayed_schedule], args=[counted, chunk, prefix])
            total, counted = total + int(jobs), counted + int(seen)
            if int(seen) < chunk:
                break
        return total, counted


def _score(score: float) -> str:
    return str(int(score)) if float(score).is_integer() else repr(score)
