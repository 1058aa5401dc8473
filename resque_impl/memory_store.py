"""The in-memory twin of :class:`resque_impl.store.Store`: the same methods and results, no Redis.

It keeps the same keys a Redis database would hold (lists, sets, strings), so its state can be
dumped and compared with a real server's (:meth:`MemoryStore.dump`); the shared tests run every
store operation against fakeredis, a real redis-server and this twin. It exists for speed (the
simulator's ``memory`` backend) and is meant for one thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from resque_impl.keys import Keys

__all__ = ["MemoryStore"]


class MemoryStore:
    """A single-threaded stand-in for :class:`~resque_impl.store.Store`."""

    def __init__(self, keys: Keys | None = None) -> None:
        self.keys = keys or Keys()
        self.description = "memory"
        self.lists: dict[str, deque[bytes]] = {}
        self.sets: dict[str, set[str]] = {}
        self.strings: dict[str, bytes] = {}
        self.published: int = 0

    # -- primitives ----------------------------------------------------------------------------------
    def _list(self, key: str) -> deque[bytes]:
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = deque()
        return found

    def _prune(self, key: str) -> None:
        """Redis deletes empty lists and sets; so do we, so dumps compare equal."""
        if key in self.lists and not self.lists[key]:
            del self.lists[key]
        if key in self.sets and not self.sets[key]:
            del self.sets[key]

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
        for key, value in self.strings.items():
            out[key] = {"type": "string", "value": value.decode()}
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
        return int(self.strings.get(self.keys.stat(name), b"0"))

    def worker_stat(self, name: str, worker_id: str) -> int:
        return int(self.strings.get(self.keys.worker_stat(name, worker_id), b"0"))

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
        return {worker_id: self.strings.get(self.keys.worker(worker_id)) for worker_id in worker_ids}


def _slice(items: deque[bytes] | None, start: int, count: int) -> list[bytes]:
    """LRANGE semantics for a non-negative ``start`` and a positive ``count``."""
    if not items or count <= 0:
        return []
    if start < 0:
        start = max(0, len(items) + start)
    return [items[index] for index in range(start, min(len(items), start + count))]
