"""Recurring-schedule commands: when each schedule last fired, firing one tick exactly once, and
resque-scheduler's dynamic schedules (``persistent_schedules`` and ``schedules_changed``).

``delayed:last_enqueued_at`` is resque-scheduler's record of when each schedule last enqueued (shown
by both dashboards). ``schedule_ticks`` is ours: the epoch of the last tick fired per schedule, checked
and advanced in the same script that pushes the job, so two schedulers that both believe they are
master (a lock expiring under a stalled process) still fire each tick once.
"""

from __future__ import annotations

from resque_impl.store.base import StoreBase

__all__ = ["ScheduleCommands"]

# KEYS: ticks hash, last_enqueued_at hash, queues set, queue list.
# ARGV: schedule name, tick, last-enqueued text, queue ("" = push nothing), payload, notify channel.
_FIRE = """
local last = redis.call('HGET', KEYS[1], ARGV[1])
if last and tonumber(last) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if ARGV[4] ~= '' then
  redis.call('SADD', KEYS[3], ARGV[4])
  redis.call('RPUSH', KEYS[4], ARGV[5])
  redis.call('PUBLISH', ARGV[6], ARGV[4])
end
return 1
"""


class ScheduleCommands(StoreBase):
    def schedule_ticks(self, names: list[str]) -> dict[str, float | None]:
        """The last tick fired (or anchor set) for each schedule name."""
        if not names:
            return {}
        values = self.client.hmget(self.keys.schedule_ticks, names)
        return {name: float(value) if value is not None else None for name, value in zip(names, values, strict=True)}

    def schedule_anchor(self, name: str, anchor: float) -> float:
        """Set the first tick of ``name`` to ``anchor`` unless one is set; return the one in force."""
        keys = self.keys
        _, value = self._round_trip(
            (("HSETNX", keys.schedule_ticks, name, repr(anchor)), ("HGET", keys.schedule_ticks, name))
        )
        return float(value)

    def schedule_fire(self, name: str, tick: float, enqueued_at: str, push: tuple[str, bytes] | None) -> bool:
        """Record tick ``tick`` of schedule ``name`` and push ``push = (queue, payload)``, atomically and
        only if no tick at or after ``tick`` was recorded; ``True`` if this call fired it.

        ``enqueued_at`` goes to ``delayed:last_enqueued_at`` (``push=None``: the tick was vetoed by a
        hook, and is consumed without a job).
        """
        keys = self.keys
        queue, payload = push if push is not None else ("", b"")
        fired = self._durable_script(
            _FIRE,
            [keys.schedule_ticks, keys.last_enqueued_at, keys.queues, keys.queue(queue)],
            [name, repr(tick), enqueued_at, queue, payload, keys.notify_channel],
        )
        return bool(fired)

    def persistent_schedules(self) -> dict[str, bytes]:
        """Dynamic schedule name -> its JSON definition, as ``Resque.set_schedule`` stores it."""
        return {name.decode(): value for name, value in self.client.hgetall(self.keys.schedules).items()}

    def persistent_schedule_set(self, name: str, definition: bytes) -> None:
        """Store a dynamic schedule and flag it changed, for the master scheduler to pick up."""
        keys = self.keys
        self._round_trip(
            (("MULTI",), ("HSET", keys.schedules, name, definition), ("SADD", keys.schedules_changed, name), ("EXEC",))
        )

    def persistent_schedule_remove(self, name: str) -> None:
        """Delete a dynamic schedule and flag it changed."""
        keys = self.keys
        self._round_trip(
            (("MULTI",), ("HDEL", keys.schedules, name), ("SADD", keys.schedules_changed, name), ("EXEC",))
        )

    def schedules_changed_take(self) -> list[str]:
        """The names flagged changed since the last call, clearing the flags in the same step."""
        keys = self.keys
        *_, (members, _) = self._round_trip(
            (("MULTI",), ("SMEMBERS", keys.schedules_changed), ("DEL", keys.schedules_changed), ("EXEC",))
        )
        return sorted(member.decode() for member in members)

    def last_enqueued_at(self) -> dict[str, str]:
        """Schedule name -> when it last enqueued, as resque-scheduler writes it."""
        return {
            name.decode(): value.decode() for name, value in self.client.hgetall(self.keys.last_enqueued_at).items()
        }
