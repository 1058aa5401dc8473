"""The twin's reserve and acknowledge path (see :mod:`resque_impl.store.fetch` for the semantics)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from resque_impl.codec import RAW_PAYLOAD_KEEP
from resque_impl.store.fetch import Ack, Fetched, encode_working_on
from resque_impl.store.memory.state import MemoryState, MemorySubscription

# Replies without a job, shared: a Fetched is immutable.
_ACKED, _PAUSED, _EMPTY = Fetched("acked"), Fetched("paused"), Fetched("empty")
_NO_MEMBERS: frozenset[str] = frozenset()

__all__ = ["MemoryFetchCommands"]


class MemoryFetchCommands(MemoryState):
    """Reserve and acknowledge, the in-flight lists and push notifications."""

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
