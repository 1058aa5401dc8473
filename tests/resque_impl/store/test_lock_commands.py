"""Owned, expiring locks behave alike on every store: only the owner renews or frees them."""

from __future__ import annotations

import time
from typing import Any

KEY = "resque:resque:resque_scheduler_master_lock"


def test_only_one_owner_holds_the_lock(store: Any) -> None:
    assert store.lock_acquire(KEY, "vm:1", 60)
    assert not store.lock_acquire(KEY, "vm:2", 60)
    assert store.lock_owner(KEY) == "vm:1"


def test_only_the_owner_refreshes_or_releases(store: Any) -> None:
    store.lock_acquire(KEY, "vm:1", 60)

    assert not store.lock_refresh(KEY, "vm:2", 60)
    assert not store.lock_release(KEY, "vm:2")
    assert store.lock_refresh(KEY, "vm:1", 60)
    assert store.lock_release(KEY, "vm:1")
    assert store.lock_owner(KEY) is None
    assert not store.lock_refresh(KEY, "vm:1", 60)


def test_an_expired_lock_is_free_for_another_owner(store: Any) -> None:
    store.lock_acquire(KEY, "vm:1", 0.05)
    time.sleep(0.12)

    assert store.lock_owner(KEY) is None
    assert store.lock_acquire(KEY, "vm:2", 60)
    assert not store.lock_release(KEY, "vm:1")
