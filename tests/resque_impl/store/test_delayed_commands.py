"""Delayed-queue commands leave resque-scheduler's keys, identically on every store."""

from __future__ import annotations

from typing import Any

from resque_impl.store.delayed import RELEASE_CHANGED
from resque_impl.store.memory import MemoryStore
from tests.resque_impl.test_store import snapshot

A = b'{"class":"EmailJob","args":[1],"queue":"email"}'
B = b'{"class":"EmailJob","args":[2],"queue":"email"}'


def test_push_indexes_the_item_by_timestamp_and_by_bytes(store: Any) -> None:
    store.delayed_push(200, A)
    store.delayed_push(100, A)
    store.delayed_push(200, B)

    assert snapshot(store) == {
        "resque:delayed:100": {"type": "list", "value": [A.decode()]},
        "resque:delayed:200": {"type": "list", "value": [A.decode(), B.decode()]},
        "resque:delayed_queue_schedule": {"type": "zset", "value": [["100", 100.0], ["200", 200.0]]},
        f"resque:timestamps:{A.decode()}": {"type": "set", "value": ["delayed:100", "delayed:200"]},
        f"resque:timestamps:{B.decode()}": {"type": "set", "value": ["delayed:200"]},
    }


def test_sizes_ranges_and_lookups(store: Any) -> None:
    for timestamp, item in ((300, A), (100, A), (100, B), (200, B)):
        store.delayed_push(timestamp, item)

    assert store.delayed_schedule_size() == 3
    assert store.delayed_timestamp_size(100) == 2
    assert store.delayed_count() == 4
    assert store.delayed_item_timestamps(A) == [100, 300]
    assert store.delayed_timestamps(1, 5) == [200, 300]
    assert store.delayed_timestamps(0, 0) == []
    assert store.delayed_range(100, 1, 5) == [B]
    assert store.next_delayed_timestamp() == 100
    assert store.next_delayed_timestamp(99) is None
    assert store.next_delayed_timestamp(100) == 100


def test_remove_takes_every_copy_and_clears_emptied_timestamps(store: Any) -> None:
    store.delayed_push(100, A)
    store.delayed_push(100, A)
    store.delayed_push(200, A)
    store.delayed_push(200, B)

    assert store.delayed_remove(A) == 3
    assert store.delayed_remove(A) == 0
    assert snapshot(store) == {
        "resque:delayed:200": {"type": "list", "value": [B.decode()]},
        "resque:delayed_queue_schedule": {"type": "zset", "value": [["200", 200.0]]},
        f"resque:timestamps:{B.decode()}": {"type": "set", "value": ["delayed:200"]},
    }


def test_remove_from_one_timestamp_leaves_the_others(store: Any) -> None:
    store.delayed_push(100, A)
    store.delayed_push(200, A)

    assert store.delayed_remove_from(100, A) == 1
    assert store.delayed_item_timestamps(A) == [200]
    assert store.delayed_timestamps(0, 10) == [200]


def test_count_and_reset_cover_a_schedule_longer_than_a_page(store: Any) -> None:
    for timestamp in range(2500):
        store.delayed_push(timestamp, A if timestamp % 2 else B)
    store.push("q", b"kept")

    assert store.delayed_count() == 2500
    store.delayed_reset()

    assert set(snapshot(store)) == {"resque:queue:q", "resque:queues"}


def test_release_moves_the_head_and_pushes_in_one_step(store: Any) -> None:
    store.delayed_push(100, A)
    store.delayed_push(100, B)
    store.delayed_push(100, A)

    pushed = store.delayed_release(100, [A, B], [("email", b"pa"), ("high", b"pb")])

    assert pushed == 2
    assert store.delayed_range(100, 0, 10) == [A]
    assert store.delayed_item_timestamps(B) == []
    assert store.queue_range("email", 0, 10) == [b"pa"]
    assert store.queue_names() == ["email", "high"]


def test_release_of_the_last_items_removes_the_timestamp(store: Any) -> None:
    store.delayed_push(100, A)

    assert store.delayed_release(100, [A], [("email", b"p")]) == 1

    assert store.delayed_schedule_size() == 0
    assert set(snapshot(store)) == {"resque:queue:email", "resque:queues"}


def test_release_changes_nothing_when_the_head_moved(store: Any) -> None:
    store.delayed_push(100, A)
    store.delayed_push(100, B)
    before = snapshot(store)

    assert store.delayed_release(100, [B], [("email", b"p")]) == RELEASE_CHANGED
    assert store.delayed_release(100, [A, B, A], [("email", b"p")]) == RELEASE_CHANGED
    assert snapshot(store) == before


def test_release_of_a_vetoed_item_consumes_it(store: Any) -> None:
    store.delayed_push(100, A)

    assert store.delayed_release(100, [A], []) == 0
    assert snapshot(store) == {}


def test_release_of_nothing_clears_a_timestamp_ruby_left_empty(store: Any) -> None:
    # Ruby's remove_delayed can empty a list and leave its timestamp in the schedule.
    if isinstance(store, MemoryStore):
        store.zsets[store.keys.delayed_schedule] = {"100": 100.0}
    else:
        store.client.zadd(store.keys.delayed_schedule, {"100": 100})

    assert store.delayed_release(100, [], []) == 0
    assert snapshot(store) == {}
