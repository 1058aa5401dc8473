"""Failure-list commands shared by the ``redis`` and ``redis_multi_queue`` failure backends.

Records are addressed by an index *and* their exact bytes: the Lua script acts on the index only if
the bytes there still match, and otherwise finds the record wherever it moved, so two people acting on
the failed list at once never touch the wrong record.
"""

from __future__ import annotations

from collections.abc import Iterator

from resque_impl.store.base import Command, StoreBase

__all__ = ["FailureCommands"]

_PAGE = 1000

# KEYS: failure list, queues set, target queue list.
# ARGV: index hint, current bytes, replacement ("" removes the record), queue to push to ("" = none),
#       payload to push, notify channel.
_UPDATE_RECORD = """
local position = nil
local hint = tonumber(ARGV[1])
if hint and redis.call('LINDEX', KEYS[1], hint) == ARGV[2] then
  position = hint
else
  position = redis.call('LPOS', KEYS[1], ARGV[2])
end
if not position then
  return 0
end
if ARGV[3] == '' then
  local tombstone = '__resque_impl_removed__'
  redis.call('LSET', KEYS[1], position, tombstone)
  redis.call('LREM', KEYS[1], 1, tombstone)
else
  redis.call('LSET', KEYS[1], position, ARGV[3])
end
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[4])
  redis.call('RPUSH', KEYS[3], ARGV[5])
  redis.call('PUBLISH', ARGV[6], ARGV[4])
end
return 1
"""


class FailureCommands(StoreBase):
    def failure_push(self, list_key: str, record: bytes, list_name: str | None = None) -> None:
        """Append a failure record; ``list_name`` also adds it to ``failed_queues`` (multi-queue)."""
        commands: list[Command] = [("RPUSH", list_key, record)]
        if list_name is not None:
            commands.append(("SADD", self.keys.failed_queues, list_name))
        self._round_trip(commands)

    def failure_count(self, list_key: str) -> int:
        return int(self.client.llen(list_key))

    def failure_range(self, list_key: str, start: int, count: int) -> list[bytes]:
        """Up to ``count`` records from position ``start`` (0 = oldest)."""
        if count <= 0:
            return []
        return list(self.client.lrange(list_key, start, start + count - 1))

    def iter_failures(self, list_key: str, *, newest_first: bool = False) -> Iterator[tuple[int, bytes]]:
        """``(index, record)`` pairs of the whole list, read a page at a time."""
        total = self.failure_count(list_key)
        starts = range(0, total, _PAGE)
        for start in reversed(starts) if newest_first else starts:
            page = self.client.lrange(list_key, start, start + _PAGE - 1)
            pairs = list(enumerate(page, start))
            yield from reversed(pairs) if newest_first else pairs

    def failure_update(
        self,
        list_key: str,
        index: int,
        current: bytes,
        replacement: bytes | None,
        push: tuple[str, bytes] | None = None,
    ) -> bool:
        """Replace (or with ``replacement=None`` remove) the record whose bytes are ``current``,
        optionally pushing ``push = (queue, payload)`` in the same atomic step.

        ``index`` is where the record was seen; if it moved, it is found by its bytes. Returns
        ``False`` when the record no longer exists.
        """
        queue, payload = push if push is not None else ("", b"")
        keys = self.keys
        done = self._script(_UPDATE_RECORD)(
            keys=[list_key, keys.queues, keys.queue(queue)],
            args=[index, current, replacement or b"", queue, payload, keys.notify_channel],
        )
        return bool(done)

    def failure_clear(self, list_key: str, list_name: str | None = None) -> None:
        """Delete a failure list (and forget it in ``failed_queues`` when ``list_name`` is given)."""
        commands: list[Command] = [("DEL", list_key)]
        if list_name is not None:
            commands.append(("SREM", self.keys.failed_queues, list_name))
        self._round_trip(commands)

    def failure_list_names(self) -> list[str]:
        """The ``failed_queues`` set (multi-queue backend), sorted."""
        return sorted(name.decode() for name in self.client.smembers(self.keys.failed_queues))
