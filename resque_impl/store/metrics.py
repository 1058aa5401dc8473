"""Commands behind the metrics exporters: job run-time histograms and the head of each queue.

Run times are kept per job class in a hash of bucket counts (``le:<upper bound>``, not cumulative),
``count`` and ``sum``, so any process can add to them and any process can export them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from resque_impl.store.base import Command, StoreBase

__all__ = ["MetricCommands"]


def _per_hash(read: str) -> str:
    """A script answering ``read`` for each key that is a hash, 0 for a key that is not (whose read would
    fail the whole script) and an empty list for a missing key."""
    return f"""
local out = {{}}
for i, key in ipairs(KEYS) do
  if redis.call('TYPE', key).ok == 'hash' then
    out[i] = {read}
  elseif redis.call('EXISTS', key) == 1 then
    out[i] = 0
  else
    out[i] = {{}}
  end
end
return out
"""


_READ_HASHES = _per_hash("redis.call('HGETALL', key)")
_READ_HASH_FIELDS = _per_hash("redis.call('HMGET', key, unpack(ARGV))")  # ARGV: the fields


class MetricCommands(StoreBase):
    def record_duration(self, class_name: str, seconds: float, bucket: str) -> None:
        """Count one run of ``class_name`` lasting ``seconds`` in histogram bucket ``bucket``."""
        key = self.keys.job_durations(class_name)
        self._round_trip(
            (
                ("SADD", self.keys.job_duration_classes, class_name),
                ("HINCRBY", key, bucket, 1),
                ("HINCRBY", key, "count", 1),
                ("HINCRBYFLOAT", key, "sum", repr(float(seconds))),
            )
        )

    def durations(self) -> dict[str, dict[str, str]]:
        """Class name -> its histogram hash (field -> value as text)."""
        names = sorted(raw.decode() for raw in self.client.smembers(self.keys.job_duration_classes))
        if not names:
            return {}
        hashes = self._round_trip([("HGETALL", self.keys.job_durations(name)) for name in names])
        return {
            name: {field.decode(): value.decode() for field, value in _pairs(raw)}
            for name, raw in zip(names, hashes, strict=True)
        }

    def add_to_hashes(
        self,
        increments: Mapping[str, Mapping[str, int | float]],
        *,
        set_fields: Mapping[str, str] | None = None,
        ttl: Mapping[str, int] | None = None,
        set_in: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        """Add to fields of hashes (``HINCRBY`` for ints, ``HINCRBYFLOAT`` for floats), set
        ``set_fields`` in each of them and ``set_in[key]`` in that one, and set each one's time to live
        in seconds (``ttl[key]``, when given), all in one round trip."""
        commands: list[Command] = []
        ttl = ttl or {}
        set_in = set_in or {}
        for key, fields in increments.items():
            for field, value in {**(set_fields or {}), **set_in.get(key, {})}.items():
                commands.append(("HSET", key, field, value))
            for field, amount in fields.items():
                if isinstance(amount, int):
                    commands.append(("HINCRBY", key, field, amount))
                else:
                    commands.append(("HINCRBYFLOAT", key, field, repr(float(amount))))
            if key in ttl:
                commands.append(("EXPIRE", key, ttl[key]))
        if commands:
            self._round_trip(commands)

    def read_hashes(self, keys: Sequence[str]) -> list[dict[str, str] | None]:
        """Each hash of ``keys`` (empty for a missing key, ``None`` for a key of another type), fields and
        values as text, in one round trip; bytes that are not UTF-8 are replaced, for the reader to
        reject."""
        if not keys:
            return []
        replies = self._script(_READ_HASHES)(keys=list(keys))
        return [
            None
            if isinstance(raw, int)
            else {field.decode(errors="replace"): value.decode(errors="replace") for field, value in _pairs(raw)}
            for raw in replies
        ]

    def read_hash_fields(self, keys: Sequence[str], fields: Sequence[str]) -> list[dict[str, str] | None]:
        """Only ``fields`` of each hash of ``keys`` (those present; empty for a missing key, ``None``
        for a key of another type), as text, in one round trip: a reader that needs a few fields of
        large hashes does not fetch them whole."""
        if not keys or not fields:
            return [{} for _ in keys]
        replies = self._script(_READ_HASH_FIELDS)(keys=list(keys), args=list(fields))
        return [
            None
            if isinstance(raw, int)
            else {
                field: value.decode(errors="replace")
                for field, value in zip(fields, raw, strict=False)
                if value is not None
            }
            for raw in replies
        ]

    def push_capped(self, key: str, item: str, keep: int, ttl: int) -> None:
        """Put ``item`` at the head of the list ``key``, keep its first ``keep`` items, and let it expire
        ``ttl`` seconds after this write, in one round trip."""
        self._round_trip((("LPUSH", key, item), ("LTRIM", key, 0, keep - 1), ("EXPIRE", key, ttl)))

    def list_items(self, key: str) -> list[str] | None:
        """Every item of the list ``key`` as text (empty when missing, ``None`` for a key of another type)."""
        (kind,) = self._round_trip((("TYPE", key),))
        if (kind.decode() if isinstance(kind, bytes) else str(kind)) not in ("list", "none"):
            return None
        (items,) = self._round_trip((("LRANGE", key, 0, -1),))
        return [raw.decode(errors="replace") for raw in items]

    def queue_heads(self, queues: Sequence[str]) -> dict[str, bytes | None]:
        """The next payload of each queue (``None`` for an empty one), in one round trip."""
        if not queues:
            return {}
        heads = self._round_trip([("LINDEX", self.keys.queue(queue), 0) for queue in queues])
        return dict(zip(queues, heads, strict=True))


def _pairs(raw: object) -> list[tuple[bytes, bytes]]:
    """HGETALL's reply as pairs: a dict from RESP3, a flat list from RESP2 raw commands."""
    if isinstance(raw, dict):
        return list(raw.items())
    flat = list(raw)  # type: ignore[call-overload]
    return list(zip(flat[::2], flat[1::2], strict=True))
