"""The master lock: resque-scheduler's key and value, one master at a time."""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest

from resque_impl.scheduler import MasterLock, default_identity


def test_the_lock_uses_resque_schedulers_key_and_value(store: Any) -> None:
    lock = MasterLock(store)
    assert lock.acquire()
    assert lock.key == "resque:resque:resque_scheduler_master_lock"
    assert store.lock_owner(lock.key) == f"{socket.gethostname()}:{os.getpid()}" == default_identity()


def test_a_prefix_goes_where_resque_scheduler_puts_it(store: Any) -> None:
    assert MasterLock(store, prefix="app").key == "resque:resque:app:resque_scheduler_master_lock"


def test_one_master_at_a_time_and_the_master_renews(store: Any) -> None:
    first, second = MasterLock(store, identity="a:1"), MasterLock(store, identity="b:2")
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewal
    assert first.release()
    assert second.acquire()
    assert second.owner() == "b:2"


def test_a_ruby_master_keeps_us_out(store: Any) -> None:
    store.lock_acquire("resque:resque:resque_scheduler_master_lock", "ruby-host:4242", 180)
    assert not MasterLock(store, identity="py:1").acquire()


def test_a_bad_timeout_is_refused(store: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        MasterLock(store, timeout=0)
