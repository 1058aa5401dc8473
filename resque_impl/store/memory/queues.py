"""The twin's queues, stats, failure lists and worker records."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from resque_impl.store.memory.state import MemoryState, lrange

__all__ = ["MemoryQueueCommands"]


class MemoryQueueCommands(MemoryState):
    """Queues, stats, failure lists and worker records, as :mod:`resque_impl.store.queues` and its siblings."""

    def push(self, queue: str, payload: bytes) -> None:
        self._sadd(self._queues_key, queue)
        self._list(self._queue_key(queue)).append(payload)
        self._publish(queue)

    def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        for queue, payloads in batches.items():
            if payloads:
                self._sadd(self.keys.queues, queue)
                self._list(self.keys.queue(queue)).extend(payloads)
                self._publish(queue)

    def queue_size(self, queue: str) -> int:
        return len(self.lists.get(self.keys.queue(queue), ()))

    def queue_sizes(self, queues: Iterable[str]) -> dict[str, int]:
        return {name: self.queue_size(name) for name in queues}

    def queue_range(self, queue: str, start: int, count: int) -> list[bytes]:
        return lrange(self.lists.get(self.keys.queue(queue)), start, count)

    def iter_queue(self, queue: str) -> Iterator[bytes]:
        yield from list(self.lists.get(self.keys.queue(queue), ()))

    def queue_names(self) -> list[str]:
        return sorted(self.sets.get(self._queues_key, ()))

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
        strings = self.strings
        strings[key] = b"%d" % (int(strings.get(key, b"0")) + by)

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
        return lrange(self.lists.get(list_key), start, count)

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

    def register_worker(self, worker_id: str, started: str) -> None:
        self._sadd(self.keys.workers, worker_id)
        self.strings[self.keys.worker_started(worker_id)] = started.encode()

    def worker_exists(self, worker_id: str) -> bool:
        return worker_id in self.sets.get(self.keys.workers, ())

    def set_working_on(self, worker_id: str, record: bytes) -> None:
        self.strings[self.keys.worker(worker_id)] = record

    def unregister_worker(self, worker_id: str) -> None:
        keys = self.keys
        self._srem(keys.workers, worker_id)
        for key in (
            keys.worker(worker_id),
            keys.worker_started(worker_id),
            keys.worker_stat("processed", worker_id),
            keys.worker_stat("failed", worker_id),
        ):
            self.strings.pop(key, None)
        self.remove_heartbeat(worker_id)

    def heartbeat(self, worker_id: str, when: str) -> None:
        self.hashes.setdefault(self.keys.heartbeats, {})[worker_id.encode()] = when.encode()

    def remove_heartbeat(self, worker_id: str) -> None:
        self.hashes.get(self.keys.heartbeats, {}).pop(worker_id.encode(), None)
        self._prune(self.keys.heartbeats)

    def heartbeats(self) -> dict[str, str]:
        return {f.decode(): v.decode() for f, v in self.hashes.get(self.keys.heartbeats, {}).items()}

    def server_time(self) -> float:
        return self.clock.time()

    def acquire_pruning_lock(self, worker_id: str, seconds: int) -> bool:
        self._expire_due()
        key = self.keys.pruning_lock
        if key in self.strings:
            return False
        self.strings[key] = worker_id.encode()
        self.expiries[key] = self.clock.time() + max(1, int(seconds))
        return True
