"""Queue commands: push, inspect and remove payloads (Ruby Resque's ``DataStore::QueueAccess``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from resque_impl.keys import Keys
from resque_impl.store.base import Command, StoreBase, resp, resp_bulk

__all__ = ["QueueCommands", "push_frame", "push_many_commands"]

#: Payloads per RPUSH in bulk pushes: large enough to amortise round trips, small enough to keep
#: Redis responsive to other clients.
BULK_CHUNK = 1000
#: Payloads read per LRANGE when scanning a whole queue.
SCAN_PAGE = 1000


#: Commands per round trip in bulk pushes.
ROUND_TRIP_COMMANDS = 64


def push_frame(keys: Keys, queue: str, notify: bool = True) -> tuple[bytes, bytes]:
    """The commands that push one payload (record the queue, append, and unless not ``notify``, wake
    idle workers), in the wire format before and after the payload (``resp_bulk(payload)`` goes
    between): the hot path packs them once per queue."""
    before = resp("SADD", keys.queues, queue) + resp("RPUSH", keys.queue(queue), arity=3)
    return before, resp("PUBLISH", keys.notify_channel, queue) if notify else b""


def push_many_commands(keys: Keys, batches: Mapping[str, Sequence[bytes]], notify: bool = True) -> list[list[Command]]:
    """The commands that push many payloads per queue (:data:`BULK_CHUNK` per RPUSH), grouped into
    round trips of :data:`ROUND_TRIP_COMMANDS`; a PUBLISH per queue to wake idle workers if ``notify``."""
    commands: list[Command] = []
    for queue, payloads in batches.items():
        if not payloads:
            continue
        commands.append(("SADD", keys.queues, queue))
        key = keys.queue(queue)
        for start in range(0, len(payloads), BULK_CHUNK):
            commands.append(("RPUSH", key, *payloads[start : start + BULK_CHUNK]))
        if notify:
            commands.append(("PUBLISH", keys.notify_channel, queue))
    return [commands[start : start + ROUND_TRIP_COMMANDS] for start in range(0, len(commands), ROUND_TRIP_COMMANDS)]


class QueueCommands(StoreBase):
    def _push_frame(self, queue: str) -> tuple[bytes, ...]:
        """The packed commands around a payload for :meth:`push`, built once per queue."""
        frame = self._packed.get(("push", queue))
        if frame is None:
            frame = self._packed[("push", queue)] = push_frame(self.keys, queue, self.notify)
        return frame

    def push(self, queue: str, payload: bytes) -> None:
        """Append ``payload`` to ``queue`` and record the queue name, in one round trip.

        Also publishes the queue name on the notify channel so idle workers wake at once (unless the
        store was made with ``notify=False``). This is the hottest producer path, so its commands are
        packed once per queue and reused.
        """
        before, after = self._push_frame(queue)
        self._send_durable(before + resp_bulk(payload) + after, 3 if after else 2)

    def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        """Append many payloads per queue, :data:`BULK_CHUNK` per command, pipelined."""
        for commands in push_many_commands(self.keys, batches, self.notify):
            self._durable_round_trip(commands)

    def queue_size(self, queue: str) -> int:
        """How many payloads wait in ``queue``."""
        return int(self.client.llen(self.keys.queue(queue)))

    def queue_sizes(self, queues: Iterable[str]) -> dict[str, int]:
        """Sizes of several queues in one round trip."""
        names = list(queues)
        if not names:
            return {}
        sizes = self._round_trip([("LLEN", self.keys.queue(name)) for name in names])
        return {name: int(size) for name, size in zip(names, sizes, strict=True)}

    def queue_range(self, queue: str, start: int, count: int) -> list[bytes]:
        """Up to ``count`` payloads from position ``start`` (0 = the next to run)."""
        if count <= 0:
            return []
        return list(self.client.lrange(self.keys.queue(queue), start, start + count - 1))

    def iter_queue(self, queue: str) -> Iterator[bytes]:
        """Every payload in ``queue``, read a page at a time."""
        key = self.keys.queue(queue)
        start = 0
        while True:
            page = self.client.lrange(key, start, start + SCAN_PAGE - 1)
            yield from page
            if len(page) < SCAN_PAGE:
                return
            start += SCAN_PAGE

    def queue_names(self) -> list[str]:
        """Every queue name in the ``queues`` set, sorted.

        Packed once: a worker with wildcard patterns asks before every reserve.
        """
        packed = self._packed.get(("queue_names", ""))
        if packed is None:
            packed = self._packed[("queue_names", "")] = (resp("SMEMBERS", self.keys.queues),)
        return sorted(name.decode() for name in self._send_packed(packed[0], 1)[0])

    def remove_queue(self, queue: str) -> None:
        """Forget ``queue`` and drop its payloads (SREM + DEL)."""
        self._round_trip((("SREM", self.keys.queues, queue), ("DEL", self.keys.queue(queue))))

    def remove_from_queue(self, queue: str, payload: bytes) -> int:
        """Remove every entry equal to ``payload`` byte for byte; returns how many."""
        return int(self.client.lrem(self.keys.queue(queue), 0, payload))

    def remove_matching(self, queue: str, matches: Callable[[bytes], bool]) -> int:
        """Remove every entry for which ``matches(raw)`` is true; returns how many were removed."""
        doomed = {raw for raw in self.iter_queue(queue) if matches(raw)}
        if not doomed:
            return 0
        key = self.keys.queue(queue)
        return sum(int(n) for n in self._round_trip([("LREM", key, 0, raw) for raw in doomed]))
