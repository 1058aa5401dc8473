"""Whole-database snapshots in the format of the Ruby Resque fixtures, for comparing stores.

``{"resque:queue:email": {"type": "list", "value": ["{...}"]}, ...}``: lists in order, sets sorted,
sorted sets as ``[member, score]`` pairs, hashes as objects, strings as text.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dump_keys", "load_keys"]


def _text(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


def dump_keys(client: Any, pattern: str = "*") -> dict[str, Any]:
    """Every key matching ``pattern`` (found with SCAN), sorted by name."""
    out: dict[str, Any] = {}
    for raw_key in client.scan_iter(match=pattern, count=1000):
        key = _text(raw_key)
        kind = _text(client.type(raw_key))
        value: Any
        if kind == "list":
            value = [_text(item) for item in client.lrange(raw_key, 0, -1)]
        elif kind == "set":
            value = sorted(_text(member) for member in client.smembers(raw_key))
        elif kind == "zset":
            value = [[_text(member), score] for member, score in client.zrange(raw_key, 0, -1, withscores=True)]
        elif kind == "hash":
            value = {_text(field): _text(item) for field, item in sorted(client.hgetall(raw_key).items())}
        elif kind == "string":
            value = _text(client.get(raw_key) or b"")
        else:
            value = None
        out[key] = {"type": kind, "value": value}
    return dict(sorted(out.items()))


def load_keys(client: Any, keys: dict[str, Any]) -> None:
    """Write a snapshot (as :func:`dump_keys` returns, or a fixture's ``keys``) into ``client``."""
    pipe = client.pipeline(transaction=False)
    for key, entry in keys.items():
        kind, value = entry["type"], entry["value"]
        pipe.delete(key)
        if kind == "list":
            pipe.rpush(key, *value)
        elif kind == "set":
            pipe.sadd(key, *value)
        elif kind == "zset":
            pipe.zadd(key, dict(value))
        elif kind == "hash":
            pipe.hset(key, mapping=value)
        elif kind == "string":
            pipe.set(key, value)
        else:
            raise ValueError(f"cannot load {key!r}: unsupported type {kind!r}")
    pipe.execute()
