"""What the dashboard shows on its stats page: Resque's numbers, Redis ``INFO``, and a ``SCAN``-based
browser of this namespace's keys. :class:`StatsViews` is mixed into
:class:`~resque_impl.web.view.DashboardView`; every read is bounded (``SCAN`` rounds, a page of a key's
items, values cut at ``Limits.max_value_bytes``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resque_impl.store import Store
    from resque_impl.web.params import Limits

__all__ = ["REDIS_INFO_FIELDS", "StatsViews"]

#: Redis ``INFO`` fields the stats page shows, in this order.
REDIS_INFO_FIELDS = (
    "redis_version",
    "redis_mode",
    "os",
    "uptime_in_seconds",
    "connected_clients",
    "blocked_clients",
    "used_memory_human",
    "used_memory_peak_human",
    "maxmemory_human",
    "maxmemory_policy",
    "mem_fragmentation_ratio",
    "total_connections_received",
    "total_commands_processed",
    "instantaneous_ops_per_sec",
    "keyspace_hits",
    "keyspace_misses",
    "evicted_keys",
    "expired_keys",
    "rdb_last_save_time",
    "aof_enabled",
    "role",
    "connected_slaves",
)


class StatsViews:
    """The stats page's and the key browser's data."""

    if TYPE_CHECKING:
        store: Store
        limits: Limits

        def stats(self) -> dict[str, Any]: ...

    def stats_page(self) -> dict[str, Any]:
        info = self.store.redis_info()
        redis_info = {name: info[name] for name in REDIS_INFO_FIELDS if name in info}
        keyspace = {name: value for name, value in info.items() if name.startswith("db")}
        return {
            "resque": self.stats(),
            "redis": redis_info,
            "keyspace": keyspace,
            "redis_info_available": bool(info),
        }

    def keys(self, pattern: str, cursor: int, count: int) -> dict[str, Any]:
        """One page of the key browser: keys of this namespace matching the glob ``pattern``."""
        prefix = self.store.keys.key("")
        match = _escape_glob(prefix) + (pattern or "*")
        cursor, names = self.store.scan_keys(match, cursor, count, self.limits.scan_rounds)
        summaries = self.store.key_summaries(sorted(set(names)))
        return {
            "pattern": pattern,
            "prefix": prefix,
            "next_cursor": cursor or None,
            "keys": [
                {"name": key.name, "short": key.name.removeprefix(prefix), "type": key.type, "size": key.size}
                for key in summaries
            ],
        }

    def key(self, name: str, start: int, count: int) -> dict[str, Any]:
        """One page of one key's content (values longer than ``max_value_bytes`` are cut)."""
        cut = self.limits.max_value_bytes
        page = self.store.key_page(name, start, count, cut)
        return {
            "name": name,
            "type": page.type,
            "size": page.size,
            "start": start,
            "next": page.next,
            "items": [
                {"field": field, "value": _text(value[:cut]), "truncated": len(value) > cut}
                for field, value in page.items
            ],
        }


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _escape_glob(text: str) -> str:
    """``text`` as a literal inside a Redis glob pattern."""
    return "".join("\\" + char if char in "*?[]\\" else char for char in text)
