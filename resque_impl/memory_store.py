"""The in-memory twin of :class:`resque_impl.store.Store`: the same methods and results, no Redis.

It keeps the same keys a Redis database would hold (lists, sets, sorted sets, hashes, strings, some
expiring by its clock), so its state can be
dumped and compared with a real server's (:meth:`MemoryStore.dump`); the shared tests run every
store operation against fakeredis, a real redis-server and this twin. It exists for speed (the
simulator's ``memory`` backend) and is meant for one thread.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from resque_impl.clock import SYSTEM_CLOCK, Clock
from resque_impl.codec import RAW_PAYLOAD_KEEP
from resque_impl.keys import Keys
from resque_impl.store.delayed import RELEASE_CHANGED
from resque_impl.store.fetch import Ack, Fetched, encode_working_on

__all__ = ["MemoryStore", "MemorySubscription"]


class _FetchKeys(NamedTuple):
    worker: str
    inflight_queues: str
    processed: str
    worker_processed: str
    failed: str
    worker_failed: str
    inflight: dict[str, str]  # queue name -> this worker's in-flight list for it


# Replies without a job, shared: a Fetched is immutable.
_ACKED, _PAUSED, _EMPTY = Fetched("acked"), Fetched("paused"), Fetched("empty")
_NO_MEMBERS: frozenset[str] = frozenset()


class MemoryStore:
    """A single-threaded stand-in for :class:`~resque_impl.store.Store`."""

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
        self._fetch_keys: dict[str, _FetchKeys] = {}
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

    def _worker_keys(self, worker_id: str) -> _FetchKeys:
        found = self._fetch_keys.get(worker_id)
        if found is None:
            keys = self.keys
            found = self._fetch_keys[worker_id] = _FetchKeys(
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

    # -- queues --------------------------------------------------------------------------------------
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
        return _slice(self.lists.get(self.keys.queue(queue)), start, count)

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

    # -- reserve / acknowledge (see resque_impl.store.fetch for the semantics) --------------------------
    def _hdel(self, key: str, field: bytes) -> None:
        self.hashes.get(key, {}).pop(field, None)
        self._prune(key)

    def _drop_inflight(self, worker_id: str, queue: str, payload: bytes, count: int) -> int:
        """LREM of ``payload`` from the in-flight list (``count`` < 0: from the tail), then SREM if empty."""
        key = self._inflight_key(queue, worker_id)
        lists = self.lists
        items = lists.get(key)
        removed = 0
        if items:
            if count == -1 and items[-1] == payload:  # the usual case: the one job this worker holds
                items.pop()
                removed = 1
            else:
                positions = [i for i, item in enumerate(items) if item == payload]
                if count < 0:
                    positions.reverse()
                for position in sorted(positions[: abs(count)], reverse=True):
                    del items[position]
                    removed += 1
            if items:
                return removed
            del lists[key]
        self._srem(self._worker_keys(worker_id).inflight_queues, queue)
        return removed

    def _working_on(self, queue: str, run_at: str, payload: bytes) -> bytes:
        head = self._record_heads.get(queue)
        if head is None:
            # encode_working_on's bytes up to the time, which is all that depends on the queue alone
            head = self._record_heads[queue] = encode_working_on(queue, "", b"{}")[: -len(b'","payload":{}}')]
        if payload.startswith(b"{") and payload.endswith(b"}"):
            return b'%b%b","payload":%b}' % (head, run_at.encode(), payload)
        return encode_working_on(queue, run_at, payload)

    def fetch(
        self,
        worker_id: str,
        queues: Sequence[str],
        run_at: str,
        *,
        reliable: bool = True,
        ack: Ack | None = None,
        reserve: bool = True,
        max_payload: int = 0,
        queue_set: Sequence[str] | None = None,
    ) -> Fetched:
        keys = self._fetch_keys.get(worker_id) or self._worker_keys(worker_id)
        strings, lists = self.strings, self.lists
        if ack is not None:
            if reliable:
                held = lists.get(keys.inflight.get(ack.queue) or self._inflight_key(ack.queue, worker_id))
                if held is not None and len(held) == 1 and held[0] == ack.payload:  # the one job it holds
                    del lists[keys.inflight[ack.queue]]
                    self._srem(keys.inflight_queues, ack.queue)
                else:
                    self._drop_inflight(worker_id, ack.queue, ack.payload, -1)
                recoveries = self.hashes.get(self._recoveries_key)
                if recoveries:
                    recoveries.pop(ack.payload, None)
                    self._prune(self._recoveries_key)
            strings.pop(keys.worker, None)
            # _incr written out: this runs for every job acknowledged
            strings[keys.processed] = b"%d" % (int(strings.get(keys.processed, b"0")) + 1)
            strings[keys.worker_processed] = b"%d" % (int(strings.get(keys.worker_processed, b"0")) + 1)
            if ack.failed:
                strings[keys.failed] = b"%d" % (int(strings.get(keys.failed, b"0")) + 1)
                strings[keys.worker_failed] = b"%d" % (int(strings.get(keys.worker_failed, b"0")) + 1)
        if not reserve:
            return _ACKED
        pause = strings.get(self._pause_key)
        if pause is not None and pause.strip().lower() == b"true":
            return _PAUSED
        if queue_set is not None:
            now = self.sets.get(self._queues_key) or _NO_MEMBERS
            if len(now) != len(queue_set) or not now.issuperset(queue_set):
                strings.pop(keys.worker, None)
                return Fetched("stale", queue_set=tuple(sorted(now)))
        queue_keys = self._queue_keys
        for queue in queues:
            queue_key = queue_keys.get(queue) or self._queue_key(queue)
            items = lists.get(queue_key)
            if not items:
                continue
            payload = items.popleft()
            if not items:
                del lists[queue_key]
            oversized = len(payload) if 0 < max_payload < len(payload) else None
            if oversized is not None:
                payload = payload[:RAW_PAYLOAD_KEEP]
            if reliable:
                # _list and _sadd written out (the acknowledgement usually just deleted both keys)
                inflight_key = keys.inflight.get(queue) or self._inflight_key(queue, worker_id)
                lists.setdefault(inflight_key, deque()).append(payload)
                self.sets.setdefault(keys.inflight_queues, set()).add(queue)
            strings[keys.worker] = self._working_on(queue, run_at, payload)
            return Fetched("job", queue, payload, oversized)
        return _EMPTY

    def release(self, worker_id: str, queue: str, payload: bytes, *, reliable: bool = True) -> None:
        if reliable:
            self._drop_inflight(worker_id, queue, payload, -1)
        self._sadd(self.keys.queues, queue)
        self._list(self.keys.queue(queue)).appendleft(payload)
        self.strings.pop(self.keys.worker(worker_id), None)
        self._publish(queue)

    def inflight(self, worker_id: str) -> list[tuple[str, bytes]]:
        names = sorted(self.sets.get(self.keys.inflight_queues(worker_id), ()))
        return [(name, item) for name in names for item in self.lists.get(self.keys.inflight(name, worker_id), ())]

    def adopt_inflight(self, worker_id: str, run_at: str) -> tuple[str, bytes] | None:
        held = self.inflight(worker_id)
        if not held:
            return None
        queue, payload = held[0]
        for extra_queue, extra in reversed(held[1:]):
            self.release(worker_id, extra_queue, extra)
        self.strings[self.keys.worker(worker_id)] = self._working_on(queue, run_at, payload)
        return queue, payload

    def recover_inflight(self, worker_id: str, max_recoveries: int) -> tuple[int, list[tuple[str, bytes]]]:
        keys = self.keys
        recovered = 0
        poison: list[tuple[str, bytes]] = []
        counts = self.hashes.setdefault(keys.recoveries, {})
        for name in sorted(self.sets.get(keys.inflight_queues(worker_id), ())):
            key = keys.inflight(name, worker_id)
            items = list(self.lists.pop(key, ()))
            keep: deque[bytes] = deque()
            pushed = False
            for payload in reversed(items):
                count = int(counts.get(payload, b"0")) + 1
                counts[payload] = str(count).encode()
                if count <= max_recoveries:
                    self._list(keys.queue(name)).appendleft(payload)
                    pushed = True
                    recovered += 1
                else:
                    keep.appendleft(payload)
            if keep:
                self.lists[key] = keep
                poison.extend((name, payload) for payload in keep)
            else:
                self._srem(keys.inflight_queues(worker_id), name)
            if pushed:
                self._sadd(keys.queues, name)
                self._publish(name)
        self._prune(keys.recoveries)
        return recovered, poison

    def discard_inflight(self, worker_id: str, queue: str, payload: bytes) -> bool:
        removed = self._drop_inflight(worker_id, queue, payload, 1)
        self._hdel(self.keys.recoveries, payload)
        return removed > 0

    def subscribe(self) -> MemorySubscription:
        subscription = MemorySubscription(self)
        self._subscribers.append(subscription)
        return subscription

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
    def _hash(self, key: str) -> dict[bytes, bytes]:
        return self.hashes.setdefault(key, {})

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

    # -- locks ---------------------------------------------------------------------------------------
    def _live(self, key: str) -> bytes | None:
        self._expire_due()
        return self.strings.get(key)

    def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        if self._live(key) is not None:
            return False
        self.strings[key] = owner.encode()
        self.expiries[key] = self.clock.time() + math.ceil(ttl * 1000) / 1000
        return True

    def lock_refresh(self, key: str, owner: str, ttl: float) -> bool:
        if self._live(key) != owner.encode():
            return False
        self.expiries[key] = self.clock.time() + math.ceil(ttl * 1000) / 1000
        return True

    def lock_release(self, key: str, owner: str) -> bool:
        if self._live(key) != owner.encode():
            return False
        del self.strings[key]
        self.expiries.pop(key, None)
        return True

    def lock_owner(self, key: str) -> str | None:
        value = self._live(key)
        return value.decode("utf-8", "replace") if value is not None else None

    # -- metrics -------------------------------------------------------------------------------------
    def record_duration(self, class_name: str, seconds: float, bucket: str) -> None:
        self._sadd(self.keys.job_duration_classes, class_name)
        fields = self._hash(self.keys.job_durations(class_name))
        for name in (bucket.encode(), b"count"):
            fields[name] = str(int(fields.get(name, b"0")) + 1).encode()
        fields[b"sum"] = repr(float(fields.get(b"sum", b"0")) + float(seconds)).encode()

    def durations(self) -> dict[str, dict[str, str]]:
        return {
            name: {
                field.decode(): value.decode()
                for field, value in self.hashes.get(self.keys.job_durations(name), {}).items()
            }
            for name in sorted(self.sets.get(self.keys.job_duration_classes, ()))
        }

    def add_to_hashes(
        self,
        increments: Mapping[str, Mapping[str, int | float]],
        *,
        set_fields: Mapping[str, str] | None = None,
        ttl: Mapping[str, int] | None = None,
        set_in: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self._expire_due()
        ttl = ttl or {}
        set_in = set_in or {}
        for key, fields in increments.items():
            values = self._hash(key)
            for field, text in {**(set_fields or {}), **set_in.get(key, {})}.items():
                values[field.encode()] = text.encode()
            for field, amount in fields.items():
                name = field.encode()
                if isinstance(amount, int):
                    values[name] = str(int(values.get(name, b"0")) + amount).encode()
                else:
                    values[name] = repr(float(values.get(name, b"0")) + amount).encode()
            if key in ttl:
                self.expiries[key] = self.clock.time() + ttl[key]

    def read_hashes(self, keys: Sequence[str]) -> list[dict[str, str] | None]:
        self._expire_due()
        return [
            None
            if any(key in kind for kind in (self.lists, self.sets, self.strings, self.zsets))
            else {
                field.decode(errors="replace"): value.decode(errors="replace")
                for field, value in self.hashes.get(key, {}).items()
            }
            for key in keys
        ]

    def read_hash_fields(self, keys: Sequence[str], fields: Sequence[str]) -> list[dict[str, str] | None]:
        return [
            None if found is None else {field: found[field] for field in fields if field in found}
            for found in self.read_hashes(keys)
        ]

    def push_capped(self, key: str, item: str, keep: int, ttl: int) -> None:
        self._expire_due()
        items = self._list(key)
        items.appendleft(item.encode())
        while len(items) > keep:
            items.pop()
        self.expiries[key] = self.clock.time() + ttl

    def list_items(self, key: str) -> list[str] | None:
        self._expire_due()
        if any(key in kind for kind in (self.hashes, self.sets, self.strings, self.zsets)):
            return None
        return [raw.decode(errors="replace") for raw in self.lists.get(key, ())]

    def queue_heads(self, queues: Sequence[str]) -> dict[str, bytes | None]:
        heads: dict[str, bytes | None] = {}
        for queue in queues:
            items = self.lists.get(self.keys.queue(queue))
            heads[queue] = items[0] if items else None
        return heads


class MemorySubscription:
    """Push notifications from a :class:`MemoryStore`; waiting sleeps on the store's clock."""

    def __init__(self, store: MemoryStore) -> None:
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


def _slice(items: deque[bytes] | None, start: int, count: int) -> list[bytes]:
    """LRANGE semantics for a non-negative ``start`` and a positive ``count``."""
    if not items or count <= 0:
        return []
    if start < 0:
        start = max(0, len(items) + start)
    return [items[index] for index in range(start, min(len(items), start + count))]
