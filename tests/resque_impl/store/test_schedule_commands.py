"""Each recurring tick fires once, recorded as resque-scheduler records it, on every store."""

from __future__ import annotations

from typing import Any

from tests.resque_impl.test_store import snapshot


def test_a_tick_fires_once_and_records_when(store: Any) -> None:
    fired = [store.schedule_fire("nightly", 1000.0, "2026-11-27 23:43:29 +0000", ("q", b"job")) for _ in range(2)]

    assert fired == [True, False]
    assert store.queue_range("q", 0, 10) == [b"job"]
    assert store.last_enqueued_at() == {"nightly": "2026-11-27 23:43:29 +0000"}
    assert store.schedule_ticks(["nightly", "other"]) == {"nightly": 1000.0, "other": None}


def test_an_older_tick_never_fires_after_a_newer_one(store: Any) -> None:
    assert store.schedule_fire("s", 2000.0, "t2", ("q", b"new"))
    assert not store.schedule_fire("s", 1000.0, "t1", ("q", b"old"))
    assert store.schedule_fire("s", 2000.5, "t3", None)

    assert store.queue_range("q", 0, 10) == [b"new"]
    assert store.last_enqueued_at() == {"s": "t3"}


def test_the_first_anchor_wins(store: Any) -> None:
    assert store.schedule_anchor("every", 10.5) == 10.5
    assert store.schedule_anchor("every", 99.0) == 10.5
    assert snapshot(store)["resque:schedule_ticks"] == {"type": "hash", "value": {"every": "10.5"}}
