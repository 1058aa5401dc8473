"""The job slots of one process share one push-notification subscription (a real redis-server)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from resque_impl import Keys
from resque_impl.store import Store
from resque_impl.store.protocol import NotificationSource
from resque_impl.testing import RedisServer
from resque_impl.worker.notifications import SharedNotifications

PAYLOAD = b'{"class":"A","args":[]}'


@pytest.fixture
def store(redis_server: RedisServer) -> Iterator[Store]:
    client = redis_server.client()
    client.flushall()
    yield Store(client, Keys())
    client.close()


def subscribers(store: Store) -> int:
    return int(dict(store.client.pubsub_numsub(store.keys.notify_channel))[store.keys.notify_channel.encode()])


def wait_until_subscribed(store: Store, count: int) -> None:
    deadline = time.monotonic() + 10
    while subscribers(store) != count:
        assert time.monotonic() < deadline, f"{subscribers(store)} subscribers, not {count}"
        time.sleep(0.01)


def heard_within(slot: NotificationSource, seconds: float) -> list[str]:
    names: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        names.update(slot.wait(0.05))
    return sorted(names)


def test_every_slot_hears_each_push_through_one_subscription(store: Store) -> None:
    shared = SharedNotifications(store.subscribe)
    slots = [shared.join() for _ in range(3)]
    try:
        wait_until_subscribed(store, 1)
        store.push("email", PAYLOAD)
        assert [slot.wait(5.0) for slot in slots] == [["email"]] * 3
    finally:
        shared.close()


def test_a_busy_slot_hears_each_queue_pushed_meanwhile_once_at_its_next_wait(store: Store) -> None:
    shared = SharedNotifications(store.subscribe)
    slot = shared.join()
    try:
        wait_until_subscribed(store, 1)
        store.push("email", PAYLOAD)
        store.push("email", PAYLOAD)
        store.push_many({"critical": [PAYLOAD]})
        assert heard_within(slot, 0.5) == ["critical", "email"]
        assert slot.wait(0.05) == []
    finally:
        shared.close()


def test_a_slot_that_left_hears_nothing_and_closing_drops_the_subscription(store: Store) -> None:
    shared = SharedNotifications(store.subscribe)
    staying, leaving = shared.join(), shared.join()
    wait_until_subscribed(store, 1)
    leaving.close()
    store.push("email", PAYLOAD)
    assert staying.wait(5.0) == ["email"]
    assert leaving.wait(0.05) == []
    shared.close()
    wait_until_subscribed(store, 0)


def test_nothing_subscribes_until_a_slot_joins(store: Store) -> None:
    shared = SharedNotifications(store.subscribe)
    time.sleep(0.1)
    assert subscribers(store) == 0
    shared.close()
