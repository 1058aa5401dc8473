"""The master lock: one scheduler acts at a time, Ruby's or ours.

Same key as resque-scheduler 5.0 (``resque:resque:resque_scheduler_master_lock``, optionally with
``RESQUE_SCHEDULER_MASTER_LOCK_PREFIX``), same value (``host:pid``) and the same rule: a process is
master if it can set the key (with a 180 s expiry) or already holds it (then the expiry is renewed).
A master that stops renewing, because it died or lost Redis, is replaced once the key expires.

One addition: a master that ran on this host and whose process is gone (killed, crashed) is replaced at
once rather than 180 s later, so a scheduler restarted by systemd after a crash carries on immediately.
Two processes that both believe they are master (a host name shared across PID namespaces could
mislead this check) still move each delayed job once: every move is one atomic script.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from resque_impl.store import StoreProtocol

__all__ = ["DEFAULT_LOCK_TIMEOUT", "MasterLock", "default_identity", "process_alive"]

log = logging.getLogger("resque_impl.scheduler")

#: resque-scheduler's default ``LOCK_TIMEOUT``.
DEFAULT_LOCK_TIMEOUT = 180.0


def default_identity() -> str:
    """``host:pid``, the value resque-scheduler writes into the lock."""
    return f"{socket.gethostname()}:{os.getpid()}"


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return True  # no /proc here: the signal test is all there is
    return not text[text.rfind(")") + 2 :].startswith("Z")


class MasterLock:
    """resque-scheduler's ``Lock::Resilient`` over a store.

    :param alive: tells whether a pid is a live process on this host (default :func:`process_alive`),
        to take over at once from a master on this host that is gone.
    """

    def __init__(
        self,
        store: StoreProtocol,
        *,
        identity: str | None = None,
        timeout: float = DEFAULT_LOCK_TIMEOUT,
        prefix: str = "",
        alive: Callable[[int], bool] = process_alive,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"the lock timeout must be positive, got {timeout}")
        self.store = store
        self.key = store.keys.scheduler_master_lock_with_prefix(prefix)
        self.identity = identity or default_identity()
        self.timeout = timeout
        self.alive = alive

    def acquire(self) -> bool:
        """Become or stay master: take the free lock, renew our own, or take it over from a master on
        this host whose process is gone. ``False`` if another holds it."""
        store = self.store
        if store.lock_acquire(self.key, self.identity, self.timeout):
            return True
        if store.lock_refresh(self.key, self.identity, self.timeout):
            return True
        owner = store.lock_owner(self.key)
        if owner is None or not self._gone_from_here(owner):
            return False
        # Only that owner's hold is released: if anyone else took the lock meanwhile, they keep it.
        if store.lock_release(self.key, owner):
            log.warning("master %s is gone; taking over", owner)
        return store.lock_acquire(self.key, self.identity, self.timeout)

    def _gone_from_here(self, owner: str) -> bool:
        host, _, pid = owner.rpartition(":")
        mine = self.identity.rpartition(":")[0]
        return host == mine and pid.isdigit() and owner != self.identity and not self.alive(int(pid))

    def release(self) -> bool:
        """Give the lock up if we hold it."""
        return self.store.lock_release(self.key, self.identity)

    def owner(self) -> str | None:
        """Who is master now (``host:pid``), if anyone."""
        return self.store.lock_owner(self.key)
