"""The twin's delayed jobs and recurring schedules."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from resque_impl.store.delayed import RELEASE_CHANGED
from resque_impl.store.memory.queues import MemoryQueueCommands
from resque_impl.store.memory.state import lrange

__all__ = ["MemoryScheduleCommands"]


class MemoryScheduleCommands(MemoryQueueCommands):
    """Delayed jobs and recurring schedules (a release pushes through the queue commands)."""

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
        return lrange(self.lists.get(self.keys.delayed(timestamp)), start, count)

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

    def schedule_ticks(self, names: list[str]) -> dict[str, float | None]:
        ticks = self.hashes.get(self.keys.schedule_ticks, {})
        return {name: float(ticks[name.encode()]) if name.encode() in ticks else None for name in names}

    def schedule_anchor(self, name: str, anchor: float) -> float:
        return float(self._hash(self.keys.schedule_ticks).setdefault(name.encode(), repr(anchor).encode()))

    def schedule_fire(self, name: str, tick: float, enqueued_at: str, push: tuple[str, bytes] | None) -> bool:
        ticks = self._hash(self.keys.schedule_ticks)
        last = ticks.get(name.encode())
        if last is not None and float(last) >= tick:
            self._prune(self.keys.schedule_ticks)
            return False
        ticks[name.encode()] = repr(tick).encode()
        self._hash(self.keys.last_enqueued_at)[name.encode()] = enqueued_at.encode()
        if push is not None:
            self.push(*push)
        return True

    def persistent_schedules(self) -> dict[str, bytes]:
        return {name.decode(): value for name, value in self.hashes.get(self.keys.schedules, {}).items()}

    def persistent_schedule_set(self, name: str, definition: bytes) -> None:
        self._hash(self.keys.schedules)[name.encode()] = definition
        self._sadd(self.keys.schedules_changed, name)

    def persistent_schedule_remove(self, name: str) -> None:
        self._hdel(self.keys.schedules, name.encode())
        self._sadd(self.keys.schedules_changed, name)

    def schedules_changed_take(self) -> list[str]:
        return sorted(self.sets.pop(self.keys.schedules_changed, ()))

    def last_enqueued_at(self) -> dict[str, str]:
        return {
            name.decode(): value.decode() for name, value in self.hashes.get(self.keys.last_enqueued_at, {}).items()
        }
