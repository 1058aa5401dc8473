"""Owned, expiring locks: one Redis string whose value names its owner.

Used by the scheduler's master lock (resque-scheduler's key and ``host:pid`` value, so Ruby and
Python schedulers exclude each other) and by the unique and lock plugins. Only the owner can renew or
release a lock, so a holder that stalled past the expiry never frees a lock someone else took since.
"""

from __future__ import annotations

import math

from resque_impl.store.base import StoreBase

__all__ = ["LockCommands"]

# KEYS: lock.  ARGV: owner, ttl in ms.
_REFRESH = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock.  ARGV: owner.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class LockCommands(StoreBase):
    def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        """Take ``key`` for ``owner`` for ``ttl`` seconds if nobody holds it (SET NX PX)."""
        return bool(self.client.set(key, owner, nx=True, px=_ms(ttl)))

    def lock_refresh(self, key: str, owner: str, ttl: float) -> bool:
        """Extend ``owner``'s hold on ``key`` to ``ttl`` seconds from now; ``False`` if not its holder."""
        return bool(self._script(_REFRESH)(keys=[key], args=[owner, _ms(ttl)]))

    def lock_release(self, key: str, owner: str) -> bool:
        """Free ``key`` if ``owner`` holds it; ``False`` if someone else (or nobody) does."""
        return bool(self._script(_RELEASE)(keys=[key], args=[owner]))

    def lock_owner(self, key: str) -> str | None:
        """Who holds ``key`` now, if anyone."""
        value = self.client.get(key)
        return value.decode("utf-8", "replace") if value is not None else None
