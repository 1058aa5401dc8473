"""The master lock: one scheduler acts at a time, Ruby's or ours.

Same key as resque-scheduler 5.0 (``resque:resque:resque_scheduler_master_lock``, optionally with
``RESQUE_SCHEDULER_MASTER_LOCK_PREFIX``), same value (``host:pid``) and the same rule: a process is
master if it can set the key (with a 180 s expiry) or already holds it (then the expiry is renewed).
A master that stops renewing, because it died or lost Redis, is replaced once the key expires.
"""

from __future__ import annotations

import os
import socket

from resque_impl.store import StoreProtocol

__all__ = ["DEFAULT_LOCK_TIMEOUT", "MasterLock", "default_identity"]

#: resque-scheduler's default ``LOCK_TIMEOUT``.
DEFAULT_LOCK_TIMEOUT = 180.0


def default_identity() -> str:
    """``host:pid``, the value resque-scheduler writes into the lock."""
    return f"{socket.gethostname()}:{os.getpid()}"


class MasterLock:
    """resque-scheduler's ``Lock::Resilient`` over a store."""

    def __init__(
        self,
        store: StoreProtocol,
        *,
        identity: str | None = None,
        timeout: float = DEFAULT_LOCK_TIMEOUT,
        prefix: str = "",
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"the lock timeout must be positive, got {timeout}")
        self.store = store
        self.key = store.keys.scheduler_master_lock_with_prefix(prefix)
        self.identity = identity or default_identity()
        self.timeout = timeout

    def acquire(self) -> bool:
        """Become or stay master: take the free lock, or renew our own. ``False`` if another holds it."""
        return self.store.lock_acquire(self.key, self.identity, self.timeout) or self.store.lock_refresh(
            self.key, self.identity, self.timeout
        )

    def release(self) -> bool:
        """Give the lock up if we hold it."""
        return self.store.lock_release(self.key, self.identity)

    def owner(self) -> str | None:
        """Who is master now (``host:pid``), if anyone."""
        return self.store.lock_owner(self.key)
