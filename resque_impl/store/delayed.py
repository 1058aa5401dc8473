"""Delayed-queue commands: resque-scheduler 5.0's keys, and the atomic move of due items to queues.

``delayed_queue_schedule`` (zset, member = score = epoch second) indexes the lists ``delayed:<ts>``;
each item also sits in the set ``timestamps:<item>``, which names the lists holding it, so
``remove_delayed`` finds it without a scan.

resque-scheduler moves due items in batches under WATCH/MULTI and can lose or double a batch if it
dies in between; :meth:`DelayedCommands.delayed_release` does one batch in one Lua script instead, so
a batch is either wholly moved or untouched.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from resque_impl.keys import Keys
from resque_impl.store.base import Command, StoreBase

__all__ = ["RELEASE_CHANGED", "DelayedCommands", "delayed_push_commands"]

#: What :meth:`DelayedCommands.delayed_release` returns when the batch is no longer at the head.
RELEASE_CHANGED = -1
#: Timestamps read (and their lists counted or deleted) per round trip when scanning the schedule.
_PAGE = 1000

# KEYS: timestamps:<item> set, schedule zset.  ARGV: item, namespace prefix ("resque:"),
#       bucket-name prefix ("delayed:").
_REMOVE = """
local removed = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local bucket = ARGV[2] .. member
  removed = removed + redis.call('LREM', bucket, 0, ARGV[1])
  redis.call('SREM', KEYS[1], member)
  if redis.call('EXISTS', bucket) == 0 then
    redis.call('ZREM', KEYS[2], string.sub(member, #ARGV[3] + 1))
  end
end
return removed
"""

# KEYS: bucket list, schedule zset, timestamps:<item> set.  ARGV: item, timestamp, bucket name.
_REMOVE_FROM = """
redis.call('SREM', KEYS[3], ARGV[3])
local removed = redis.call('LREM', KEYS[1], 0, ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return removed
"""

# KEYS: bucket list, schedule zset, queues set.
# ARGV: timestamp, n, timestamps-key prefix, bucket name, queue-key prefix, notify channel,
#       then the n items expected at the head of the bucket, then (queue, payload) pairs to push.
_RELEASE = """
local n = tonumber(ARGV[2])
if n > 0 then
  local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
  if #head ~= n then
    return -1
  end
  for i = 1, n do
    if head[i] ~= ARGV[6 + i] then
      return -1
    end
  end
  redis.call('LTRIM', KEYS[1], n, -1)
  for i = 1, n do
    redis.call('SREM', ARGV[3] .. head[i], ARGV[4])
  end
end
local pushed = 0
local announced = {}
for i = 7 + n, #ARGV, 2 do
  local queue = ARGV[i]
  redis.call('SADD', KEYS[3], queue)
  redis.call('RPUSH', ARGV[5] .. queue, ARGV[i + 1])
  if not announced[queue] then
    announced[queue] = true
    redis.call('PUBLISH', ARGV[6], queue)
  end
  pushed = pushed + 1
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return pushed
"""


def _text(item: bytes) -> str:
    # Items are JSON and so UTF-8; surrogateescape keeps any other bytes, so a key name always
    # round-trips to the bytes Ruby used.
    return item.decode("utf-8", "surrogateescape")


def _key_bytes(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


def delayed_push_commands(keys: Keys, timestamp: int, item: bytes) -> tuple[Command, ...]:
    """resque-scheduler's ``delayed_push`` in one MULTI/EXEC, so no reader sees the item without its
    indexes."""
    return (
        ("MULTI",),
        ("RPUSH", keys.delayed(timestamp), item),
        ("SADD", _key_bytes(keys.delayed_timestamps(_text(item))), keys.delayed_bucket(timestamp)),
        ("ZADD", keys.delayed_schedule, timestamp, timestamp),
        ("EXEC",),
    )


class DelayedCommands(StoreBase):
    def delayed_push(self, timestamp: int, item: bytes) -> None:
        """Schedule ``item`` at ``timestamp`` exactly as resque-scheduler's ``delayed_push`` does, in
        one MULTI/EXEC so no reader sees the item without its indexes."""
        self._durable_round_trip(delayed_push_commands(self.keys, timestamp, item))

    def delayed_remove(self, item: bytes) -> int:
        """Remove every copy of ``item`` (exact bytes) from every timestamp; returns how many.

        A timestamp left empty leaves the schedule at once (Ruby leaves that to its scheduler).
        """
        keys = self.keys
        return int(
            self._script(_REMOVE)(
                keys=[_key_bytes(keys.delayed_timestamps(_text(item))), keys.delayed_schedule],
                args=[item, keys.key(""), keys.DELAYED_BUCKET_PREFIX],
            )
        )

    def delayed_remove_from(self, timestamp: int, item: bytes) -> int:
        """Remove every copy of ``item`` due at ``timestamp``; returns how many."""
        keys = self.keys
        return int(
            self._script(_REMOVE_FROM)(
                keys=[
                    keys.delayed(timestamp),
                    keys.delayed_schedule,
                    _key_bytes(keys.delayed_timestamps(_text(item))),
                ],
                args=[item, timestamp, keys.delayed_bucket(timestamp)],
            )
        )

    def delayed_schedule_size(self) -> int:
        """How many distinct timestamps have delayed items (ZCARD)."""
        return int(self.client.zcard(self.keys.delayed_schedule))

    def delayed_timestamp_size(self, timestamp: int) -> int:
        """How many items are due at ``timestamp``."""
        return int(self.client.llen(self.keys.delayed(timestamp)))

    def delayed_count(self) -> int:
        """How many delayed items there are in all (one LLEN per timestamp, pipelined in pages)."""
        total = 0
        for page in self._timestamp_pages():
            total += sum(int(n) for n in self._round_trip([("LLEN", self.keys.delayed(ts)) for ts in page]))
        return total

    def delayed_item_timestamps(self, item: bytes) -> list[int]:
        """The timestamps at which ``item`` (exact bytes) is scheduled, ascending."""
        members = self.client.smembers(_key_bytes(self.keys.delayed_timestamps(_text(item))))
        prefix = self.keys.DELAYED_BUCKET_PREFIX
        return sorted(int(member.decode()[len(prefix) :]) for member in members)

    def delayed_timestamps(self, start: int, count: int) -> list[int]:
        """Up to ``count`` scheduled timestamps from position ``start``, earliest first."""
        if count <= 0:
            return []
        return [int(ts) for ts in self.client.zrange(self.keys.delayed_schedule, start, start + count - 1)]

    def delayed_range(self, timestamp: int, start: int, count: int) -> list[bytes]:
        """Up to ``count`` items due at ``timestamp`` from position ``start``, in push order."""
        if count <= 0:
            return []
        return list(self.client.lrange(self.keys.delayed(timestamp), start, start + count - 1))

    def next_delayed_timestamp(self, until: int | None = None) -> int | None:
        """The earliest scheduled timestamp, if it is at most ``until`` (any, when ``None``)."""
        found = self.client.zrangebyscore(
            self.keys.delayed_schedule, "-inf", "+inf" if until is None else until, start=0, num=1
        )
        return int(found[0]) if found else None

    def _timestamp_pages(self) -> Iterator[list[int]]:
        """The whole schedule, a page of timestamps at a time (by position: one added or removed meanwhile
        may be missed or seen twice, which a count or a reset can live with)."""
        start = 0
        while page := [int(ts) for ts in self.client.zrange(self.keys.delayed_schedule, start, start + _PAGE - 1)]:
            yield page
            start += len(page)

    def delayed_reset(self) -> None:
        """Delete every delayed item, its ``timestamps:`` set and the schedule."""
        keys = self.keys
        for page in self._timestamp_pages():
            lists = self._round_trip([("LRANGE", keys.delayed(ts), 0, -1) for ts in page])
            doomed: list[str | bytes] = [keys.delayed(ts) for ts in page]
            doomed.extend({_key_bytes(keys.delayed_timestamps(_text(item))) for items in lists for item in items})
            commands: list[Command] = [("DEL", *doomed[start : start + 1000]) for start in range(0, len(doomed), 1000)]
            self._round_trip(commands)
        self.client.delete(keys.delayed_schedule)

    def delayed_release(self, timestamp: int, expected: Sequence[bytes], pushes: Sequence[tuple[str, bytes]]) -> int:
        """Atomically take ``expected`` off the head of ``delayed:<timestamp>`` and push ``pushes``
        (``(queue, payload)`` pairs) onto their queues; the timestamp leaves the schedule once empty.

        Returns how many payloads were pushed, or :data:`RELEASE_CHANGED` (and changes nothing) when
        the head of the list is no longer ``expected``: another scheduler or a ``remove_delayed``
        got there first.
        """
        keys = self.keys
        args: list[str | bytes | int] = [
            timestamp,
            len(expected),
            keys.delayed_timestamps_prefix,
            keys.delayed_bucket(timestamp),
            keys.queue_prefix,
            keys.notify_channel,
            *expected,
        ]
        for queue, payload in pushes:
            args.extend((queue, payload))
        return int(self._durable_script(_RELEASE, [keys.delayed(timestamp), keys.delayed_schedule, keys.queues], args))
