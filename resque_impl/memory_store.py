"""The in-memory twin of :class:`resque_impl.store.Store`: the same methods and results, no Redis.

It keeps the same keys a Redis database would hold (lists, sets, sorted sets, hashes, strings, and
expiring strings timed by its clock), so its state can be
dumped and compared with a real server's (:meth:`MemoryStore.dump`); the shared tests run every
store operation against fakeredis, a real redis-server and this twin. It exists for speed (the
simulator's ``memory`` backend) and is meant for one thread.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from resque_impl.clock import SYSTEM_CLOCK, Clock
from resque_impl.keys import Keys
from resque_impl.store.delayed import RELEASE_CHANGED

__all__ = ["MemoryStore"]


class MemoryStore:
    """A single-threaded stand-in for :class:`~resque_impl.store.Store`."""

    def __init__(self, keys: Keys | None = None, clock: Clock | None = None) -> None:
        self.keys = keys or Keys()
        self.description = "memory"
        #: Times the expiry of keys with a TTL (Redis uses its own clock).
        self.clock = clock if clock is not None else SYSTEM_CLOCK
        self.lists: dict[str, deque[bytes]] = {}
        self.sets: dict[str, set[str]] = {}
        self.strings: dict[str, bytes] = {}
        self.zsets: dict[str, dict[str, float]] = {}
        self.hashes: dict[str, dict[str, bytes]] = {}
        self.expires_at: dict[str, float] = {}
        self.published: int = 0

    # -- primitives ----------------------------------------------------------------------------------
    def _list(self, key: str) -> deque[bytes]:
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = deque()
        return found

    def _prune(self, key: str) -> None:
        """Redis deletes empty lists, sets, sorted sets and hashes; so do we, so dumps compare equal."""
        for kind in (self.lists, self.sets, self.zsets, self.hashes):
            if key in kind and not kind[key]:
                del kind[key]

    def _string(self, key: str) -> bytes | None:
        """A string's value, once its expiry (if any) has not passed."""
        deadline = self.expires_at.get(key)
        if deadline is not None and self.clock.time() >= deadline:
            del self.expires_at[key]
            self.strings.pop(key, None)
        return self.strings.get(key)

    def _sadd(self, key: str, member: str) -> None:
        self.sets.setdefault(key, set()).add(member)

    def _srem(self, key: str, member: str) -> None:
        self.sets.get(key, set()).discard(member)
        self._prune(key)

    def dump(self) -> dict[str, Any]:
        """Every key with its type and value, in the fixtures' format (lists in order, sets sorted)."""
        out: dict[str, Any] = {}
        for key, items in self.lists.items():
            out[key] = {"type": "list", "value": [item.decode() for item in items]}
        for key, members in self.sets.items():
            out[key] = {"type": "set", "value": sorted(members)}
        for key in list(self.strings):
            value = self._string(key)
            if value is not None:
                out[key] = {"type": "string", "value": value.decode()}
        for key, scores in self.zsets.items():
            ranked = sorted(scores.items(), key=lambda pair: (pair[1], pair[0]))
            out[key] = {"type": "zset", "value": [[member, score] for member, score in ranked]}
        for key, fields in self.hashes.items():
            out[key] = {
                "type": "hash",
                "value": {name: value.decode() for name, value in sorted(fields.items())},
            }
        return dict(sorted(out.items()))

    # -- queues --------------------------------------------------------------------------------------
    def push(self, queue: str, payload: bytes) -> None:
        self._sadd(self.keys.queues, queue)
        self._list(self.keys.queue(queue)).append(payload)
        self.published += 1

    def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        for queue, payloads in batches.items():
            if payloads:
                self._sadd(self.keys.queues, queue)
                self._list(self.keys.queue(queue)).extend(payloads)
                self.published += 1

    def queue_size(self, queue: str) -> int:
        return len(self.lists.get(self.keys.queue(queue), ()))

    def queue_sizes(self, queues: Iterable[str]) -> dict[str, int]:
        return {name: self.queue_size(name) for name in queues}

    def queue_range(self, queue: str, start: int, count: int) -> list[bytes]:
        return _slice(self.lists.get(self.keys.queue(queue)), start, count)

    def iter_queue(self, queue: str) -> Iterator[bytes]:
        yield from list(self.lists.get(self.keys.queue(queue), ()))

    def queue_names(self) -> list[str]:
        return sorted(self.sets.get(self.keys.queues, ()))

    def remove_queue(self, queue: str) -> None:
        self._srem(self.keys.queues, queue)
        self.lists.pop(self.keys.queue(queue), None)

    def remove_from_queue(self, queue: str, payload: bytes) -> int:
        return self.remove_matching(queue, payload.__eq__)

    def remove_matching(self, queue: str, matches: Callable[[bytes], bool]) -> int:
        key = self.keys.queue(queue)
        items = self.lists.get(key)
        if not items:
            return 0
        kept = deque(item for item in items if not matches(item))
        removed = len(items) - len(kept)
        self.lists[key] = kept
        self._prune(key)
        return removed

    # -- stats ---------------------------------------------------------------------------------------
    def stat(self, name: str) -> int:
        return int(self._string(self.keys.stat(name)) or b"0")

    def worker_stat(self, name: str, worker_id: str) -> int:
        return int(self._string(self.keys.worker_stat(name, worker_id)) or b"0")

    def _incr(self, key: str, by: int) -> None:
        self.strings[key] = str(int(self.strings.get(key, b"0")) + by).encode()

    def incr_stat(self, name: str, by: int = 1, worker_id: str | None = None) -> None:
        self._incr(self.keys.stat(name), by)
        if worker_id is not None:
            self._incr(self.keys.worker_stat(name, worker_id), by)

    def clear_stat(self, name: str) -> None:
        self.strings.pop(self.keys.stat(name), None)

    # -- failures ------------------------------------------------------------------------------------
    def failure_push(self, list_key: str, record: bytes, list_name: str | None = None) -> None:
        self._list(list_key).append(record)
        if list_name is not None:
            self._sadd(self.keys.failed_queues, list_name)

    def failure_count(self, list_key: str) -> int:
        return len(self.lists.get(list_key, ()))

    def failure_range(self, list_key: str, start: int, count: int) -> list[bytes]:
        return _slice(self.lists.get(list_key), start, count)

    def iter_failures(self, list_key: str, *, newest_first: bool = False) -> Iterator[tuple[int, bytes]]:
        pairs = list(enumerate(self.lists.get(list_key, ())))
        yield from reversed(pairs) if newest_first else pairs

    def failure_update(
        self,
        list_key: str,
        index: int,
        current: bytes,
        replacement: bytes | None,
        push: tuple[str, bytes] | None = None,
    ) -> bool:
        items = self.lists.get(list_key)
        if not items:
            return False
        if 0 <= index < len(items) and items[index] == current:
            position = index
        else:
            try:
                position = items.index(current)
            except ValueError:
                return False
        if replacement is None:
            del items[position]
            self._prune(list_key)
        else:
            items[position] = replacement
        if push is not None:
            self.push(*push)
        return True

    def failure_clear(self, list_key: str, list_name: str | None = None) -> None:
        self.lists.pop(list_key, None)
        if list_name is not None:
            self._srem(self.keys.failed_queues, list_name)

    def failure_list_names(self) -> list[str]:
        return sorted(self.sets.get(self.keys.failed_queues, ()))

    # -- workers -------------------------------------------------------------------------------------
    def worker_ids(self) -> list[str]:
        return sorted(self.sets.get(self.keys.workers, ()))

    def working_on(self, worker_ids: Sequence[str]) -> dict[str, bytes | None]:
        return {worker_id: self._string(self.keys.worker(worker_id)) for worker_id in worker_ids}

    # -- delayed jobs --------------------------------------------------------------------------------
    def _timestamps_key(self, item: bytes) -> str:
        return self.keys.delayed_timestamps(item.decode("utf-8", "surrogateescape"))

    def _drop_timestamp_if_empty(self, timestamp: int) -> None:
        if self.keys.delayed(timestamp) not in self.lists:
            self.zsets.get(self.keys.delayed_schedule, {}).pop(str(timestamp), None)
            self._prune(self.keys.delayed_schedule)

    def delayed_push(self, timestamp: int, item: bytes) -> None:
        self._list(self.keys.delayed(timestamp)).append(item)
        self._sadd(self._timestamps_key(item), self.keys.delayed_bucket(timestamp))
        self.zsets.setdefault(self.keys.delayed_schedule, {})[str(timestamp)] = float(timestamp)

    def _lrem(self, key: str, item: bytes) -> int:
        items = self.lists.get(key)
        if not items:
            return 0
        kept = deque(entry for entry in items if entry != item)
        removed = len(items) - len(kept)
        self.lists[key] = kept
        self._prune(key)
        return removed

    def delayed_remove(self, item: bytes) -> int:
        removed = 0
        index = self._timestamps_key(item)
        for member in sorted(self.sets.get(index, ())):
            timestamp = int(member[len(self.keys.DELAYED_BUCKET_PREFIX) :])
            removed += self._lrem(self.keys.delayed(timestamp), item)
            self._srem(index, member)
            self._drop_timestamp_if_empty(timestamp)
        return removed

    def delayed_remove_from(self, timestamp: int, item: bytes) -> int:
        self._srem(self._timestamps_key(item), self.keys.delayed_bucket(timestamp))
        removed = self._lrem(self.keys.delayed(timestamp), item)
        self._drop_timestamp_if_empty(timestamp)
        return removed

    def delayed_schedule_size(self) -> int:
        return len(self.zsets.get(self.keys.delayed_schedule, ()))

    def delayed_timestamp_size(self, timestamp: int) -> int:
        return len(self.lists.get(self.keys.delayed(timestamp), ()))

    def delayed_count(self) -> int:
        return sum(self.delayed_timestamp_size(ts) for ts in self._all_timestamps())

    def delayed_item_timestamps(self, item: bytes) -> list[int]:
        prefix = len(self.keys.DELAYED_BUCKET_PREFIX)
        return sorted(int(member[prefix:]) for member in self.sets.get(self._timestamps_key(item), ()))

    def _all_timestamps(self) -> list[int]:
        scores = self.zsets.get(self.keys.delayed_schedule, {})
        return [int(member) for member, _ in sorted(scores.items(), key=lambda pair: (pair[1], pair[0]))]

    def delayed_timestamps(self, start: int, count: int) -> list[int]:
        if count <= 0:
            return []
        return self._all_timestamps()[start : start + count]

    def delayed_range(self, timestamp: int, start: int, count: int) -> list[bytes]:
        return _slice(self.lists.get(self.keys.delayed(timestamp)), start, count)

    def next_delayed_timestamp(self, until: int | None = None) -> int | None:
        stamps = self._all_timestamps()
        if not stamps or (until is not None and stamps[0] > until):
            return None
        return stamps[0]

    def delayed_reset(self) -> None:
        for timestamp in self._all_timestamps():
            for item in self.lists.pop(self.keys.delayed(timestamp), ()):
                self.sets.pop(self._timestamps_key(item), None)
        self.zsets.pop(self.keys.delayed_schedule, None)

    def delayed_release(self, timestamp: int, expected: Sequence[bytes], pushes: Sequence[tuple[str, bytes]]) -> int:
        key = self.keys.delayed(timestamp)
        items = self.lists.get(key, deque())
        if len(items) < len(expected) or any(items[i] != item for i, item in enumerate(expected)):
            return RELEASE_CHANGED
        for item in expected:
            items.popleft()
            self._srem(self._timestamps_key(item), self.keys.delayed_bucket(timestamp))
        self._prune(key)
        for queue, payload in pushes:
            self.push(queue, payload)
        self._drop_timestamp_if_empty(timestamp)
        return len(pushes)

    # -- recurring schedules -------------------------------------------------------------------------
    def _hash(self, key: str) -> dict[str, bytes]:
        return self.hashes.setdefault(key, {})

    def schedule_ticks(self, names: list[str]) -> dict[str, float | None]:
        ticks = self.hashes.get(self.keys.schedule_ticks, {})
        return {name: float(ticks[name]) if name in ticks else None for name in names}

    def schedule_anchor(self, name: str, anchor: float) -> float:
        return float(self._hash(self.keys.schedule_ticks).setdefault(name, repr(anchor).encode()))

    def schedule_fire(self, name: str, tick: float, enqueued_at: str, push: tuple[str, bytes] | None) -> bool:
        ticks = self._hash(self.keys.schedule_ticks)
        last = ticks.get(name)
        if last is not None and float(last) >= tick:
            self._prune(self.keys.schedule_ticks)
            return False
        ticks[name] = repr(tick).encode()
        self._hash(self.keys.last_enqueued_at)[name] = enqueued_at.encode()
        if push is not None:
            self.push(*push)
        return True

    def persistent_schedules(self) -> dict[str, bytes]:
        return dict(self.hashes.get(self.keys.schedules, {}))

    def persistent_schedule_set(self, name: str, definition: bytes) -> None:
        self._hash(self.keys.schedules)[name] = definition
        self._sadd(self.keys.schedules_changed, name)

    def persistent_schedule_remove(self, name: str) -> None:
        self.hashes.get(self.keys.schedules, {}).pop(name, None)
        self._prune(self.keys.schedules)
        self._sadd(self.keys.schedules_changed, name)

    def schedules_changed_take(self) -> list[str]:
        return sorted(self.sets.pop(self.keys.schedules_changed, ()))

    def last_enqueued_at(self) -> dict[str, str]:
        return {name: value.decode() for name, value in self.hashes.get(self.keys.last_enqueued_at, {}).items()}

    # -- locks ---------------------------------------------------------------------------------------
    def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        if self._string(key) is not None:
            return False
        self.strings[key] = owner.encode()
        self.expires_at[key] = self.clock.time() + math.ceil(ttl * 1000) / 1000
        return True

    def lock_refresh(self, key: str, owner: str, ttl: float) -> bool:
        if self._string(key) != owner.encode():
            return False
        self.expires_at[key] = self.clock.time() + math.ceil(ttl * 1000) / 1000
        return True

    def lock_release(self, key: str, owner: str) -> bool:
        if self._string(key) != owner.encode():
            return False
        del self.strings[key]
        self.expires_at.pop(key, None)
        return True

    def lock_owner(self, key: str) -> str | None:
        value = self._string(key)
        return value.decode("utf-8", "replace") if value is not None else None

    # -- metrics -------------------------------------------------------------------------------------
    def record_duration(self, class_name: str, seconds: float, bucket: str) -> None:
        self._sadd(self.keys.job_duration_classes, class_name)
        fields = self._hash(self.keys.job_durations(class_name))
        for name in (bucket, "count"):
            fields[name] = str(int(fields.get(name, b"0")) + 1).encode()
        fields["sum"] = repr(float(fields.get("sum", b"0")) + float(seconds)).encode()

    def durations(self) -> dict[str, dict[str, str]]:
        return {
            name: {field: value.decode() for field, value in self.hashes.get(self.keys.job_durations(name), {}).items()}
            for name in sorted(self.sets.get(self.keys.job_duration_classes, ()))
        }

    def queue_heads(self, queues: Sequence[str]) -> dict[str, bytes | None]:
        heads: dict[str, bytes | None] = {}
        for queue in queues:
            items = self.lists.get(self.keys.queue(queue))
            heads[queue] = items[0] if items else None
        return heads


def _slice(items: deque[bytes] | None, start: int, count: int) -> list[bytes]:
    """LRANGE semantics for a non-negative ``start`` and a positive ``count``."""
    if not items or count <= 0:
        return []
    if start < 0:
        start = max(0, len(items) + start)
    return [items[index] for index in range(start, min(len(items), start + count))]
