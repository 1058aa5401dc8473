"""What the in-memory twin holds: the keys a Redis database would (lists, sets, sorted sets, hashes,
strings, some expiring by its clock) and the primitives every group of commands uses on them."""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple

from resque_impl.clock import SYSTEM_CLOCK, Clock
from resque_impl.keys import Keys

__all__ = ["FetchKeys", "MemoryState", "MemorySubscription", "lrange"]


class FetchKeys(NamedTuple):
    """A worker's keys on the reserve-and-acknowledge path, built once per worker."""

    worker: str
    inflight_queues: str
    processed: str
    worker_processed: str
    failed: str
    worker_failed: str
    inflight: dict[str, str]  # queue name -> this worker's in-flight list for it


class MemoryState:
    """The twin's keys and primitives; :class:`~resque_impl.store.memory.MemoryStore` adds the commands."""

    def __init__(self, keys: Keys | None = None, clock: Clock | None = None) -> None:
        self.keys = keys or Keys()
        self.description = "memory"
        #: Stands in for Redis's ``TIME`` and key expiry, and for waiting on notifications.
        self.clock = clock if clock is not None else SYSTEM_CLOCK
        self.lists: dict[str, deque[bytes]] = {}
        self.sets: dict[str, set[str]] = {}
        self.strings: dict[str, bytes] = {}
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self.expiries: dict[str, float] = {}
        self.published: int = 0
        self._subscribers: list[MemorySubscription] = []
        # Key names the hot paths need, built once (the simulator's memory backend runs millions of jobs).
        self._queue_keys: dict[str, str] = {}
        self._fetch_keys: dict[str, FetchKeys] = {}
        self._record_heads: dict[str, bytes] = {}
        self._queues_key = self.keys.queues
        self._pause_key = self.keys.pause_all
        self._recoveries_key = self.keys.recoveries

    # -- primitives ----------------------------------------------------------------------------------
    def _list(self, key: str) -> deque[bytes]:
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = deque()
        return found

    def _prune(self, key: str) -> None:
        """Redis deletes empty lists, sets, hashes and sorted sets; so do we, so dumps compare equal."""
        for kind in (self.lists, self.sets, self.hashes, self.zsets):
            if key in kind and not kind[key]:
                del kind[key]

    def _queue_key(self, queue: str) -> str:
        key = self._queue_keys.get(queue)
        if key is None:
            key = self._queue_keys[queue] = self.keys.queue(queue)
        return key

    def _inflight_key(self, queue: str, worker_id: str) -> str:
        inflight = self._worker_keys(worker_id).inflight
        key = inflight.get(queue)
        if key is None:
            key = inflight[queue] = self.keys.inflight(queue, worker_id)
        return key

    def _worker_keys(self, worker_id: str) -> FetchKeys:
        found = self._fetch_keys.get(worker_id)
        if found is None:
            keys = self.keys
            found = self._fetch_keys[worker_id] = FetchKeys(
                keys.worker(worker_id),
                keys.inflight_queues(worker_id),
                keys.stat("processed"),
                keys.worker_stat("processed", worker_id),
                keys.stat("failed"),
                keys.worker_stat("failed", worker_id),
                {},
            )
        return found

    def _expire_due(self) -> None:
        now = self.clock.time()
        for key in [key for key, when in self.expiries.items() if when <= now]:
            del self.expiries[key]
            self.strings.pop(key, None)
            self.hashes.pop(key, None)

    def _publish(self, queue: str) -> None:
        self.published += 1
        for subscriber in self._subscribers:
            subscriber.pending.append(queue)

    def _sadd(self, key: str, member: str) -> None:
        self.sets.setdefault(key, set()).add(member)

    def _srem(self, key: str, member: str) -> None:
        members = self.sets.get(key)
        if members is not None:
            members.discard(member)
            if not members:
                del self.sets[key]

    def dump(self) -> dict[str, Any]:
        """Every key with its type and value, in the fixtures' format (lists in order, sets sorted)."""
        out: dict[str, Any] = {}
        for key, items in self.lists.items():
            out[key] = {"type": "list", "value": [item.decode() for item in items]}
        for key, members in self.sets.items():
            out[key] = {"type": "set", "value": sorted(members)}
        self._expire_due()
        for key, value in self.strings.items():
            out[key] = {"type": "string", "value": value.decode()}
        for key, fields in self.hashes.items():
            out[key] = {"type": "hash", "value": {f.decode(): v.decode() for f, v in sorted(fields.items())}}
        for key, scores in self.zsets.items():
            ranked = sorted(scores.items(), key=lambda pair: (pair[1], pair[0]))
            out[key] = {"type": "zset", "value": [[member, score] for member, score in ranked]}
        return dict(sorted(out.items()))

    def _hdel(self, key: str, field: bytes) -> None:
        self.hashes.get(key, {}).pop(field, None)
        self._prune(key)

    def _hash(self, key: str) -> dict[bytes, bytes]:
        return self.hashes.setdefault(key, {})


class MemorySubscription:
    """Push notifications from a :class:`MemoryState`; waiting sleeps on the store's clock."""

    def __init__(self, store: MemoryState) -> None:
        self.store = store
        self.pending: list[str] = []

    def wait(self, timeout: float) -> list[str]:
        if not self.pending and timeout > 0:
            self.store.clock.sleep(timeout)
        names, self.pending = self.pending, []
        return names

    def close(self) -> None:
        if self in self.store._subscribers:
            self.store._subscribers.remove(self)


def lrange(items: deque[bytes] | None, start: int, count: int) -> list[bytes]:
    """LRANGE semantics for a non-negative ``start`` and a positive ``count``."""
    if not items or count <= 0:
        return []
    if start < 0:
        start = max(0, len(items) + start)
    return [items[index] for index in range(start, min(len(items), start + count))]
