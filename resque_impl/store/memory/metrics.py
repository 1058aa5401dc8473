"""The twin's locks and metric hashes."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from resque_impl.store.memory.state import MemoryState

__all__ = ["MemoryMetricCommands"]


class MemoryMetricCommands(MemoryState):
    """Locks, job durations and the metric hashes."""

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
