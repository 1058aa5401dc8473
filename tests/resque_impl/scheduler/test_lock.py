"""The master lock: resque-scheduler's key and value, one master at a time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest

from resque_impl.scheduler import MasterLock, default_identity
from resque_impl.scheduler.lock import process_alive


def test_the_lock_uses_resque_schedulers_key_and_value(store: Any, namespace: str) -> None:
    lock = MasterLock(store)
    assert lock.acquire()
    assert lock.key == f"{namespace}:{namespace}:resque_scheduler_master_lock"
    assert store.lock_owner(lock.key) == f"{socket.gethostname()}:{os.getpid()}" == default_identity()


def test_a_prefix_goes_where_resque_scheduler_puts_it(store: Any, namespace: str) -> None:
    assert MasterLock(store, prefix="app").key == f"{namespace}:{namespace}:app:resque_scheduler_master_lock"


def test_one_master_at_a_time_and_the_master_renews(store: Any) -> None:
    first, second = MasterLock(store, identity="a:1"), MasterLock(store, identity="b:2")
    assert first.acquire()
    assert not second.acquire()
    assert first.acquire()  # renewal
    assert first.release()
    assert second.acquire()
    assert second.owner() == "b:2"


def test_a_ruby_master_keeps_us_out(store: Any, namespace: str) -> None:
    store.lock_acquire(f"{namespace}:{namespace}:resque_scheduler_master_lock", "ruby-host:4242", 180)
    assert not MasterLock(store, identity="py:1").acquire()


def test_a_bad_timeout_is_refused(store: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        MasterLock(store, timeout=0)


def test_a_master_on_this_host_whose_process_is_gone_is_replaced_at_once(store: Any, namespace: str) -> None:
    host = socket.gethostname()
    store.lock_acquire(f"{namespace}:{namespace}:resque_scheduler_master_lock", f"{host}:4242", 180)
    lock = MasterLock(store, identity=f"{host}:7", alive=lambda pid: pid != 4242)
    assert lock.acquire()
    assert lock.owner() == f"{host}:7"


def test_a_live_master_on_this_host_keeps_the_lock(store: Any, namespace: str) -> None:
    host = socket.gethostname()
    store.lock_acquire(f"{namespace}:{namespace}:resque_scheduler_master_lock", f"{host}:4242", 180)
    assert not MasterLock(store, identity=f"{host}:7", alive=lambda pid: True).acquire()


def test_a_master_on_another_host_is_never_judged_by_our_process_table(store: Any, namespace: str) -> None:
    store.lock_acquire(f"{namespace}:{namespace}:resque_scheduler_master_lock", "elsewhere:4242", 180)
    assert not MasterLock(store, identity="here:7", alive=lambda pid: False).acquire()


def test_process_alive_tells_a_live_process_from_a_reaped_one() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_alive(os.getpid())
    assert not process_alive(child.pid)
