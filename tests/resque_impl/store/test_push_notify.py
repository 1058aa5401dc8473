"""A push wakes idle instant workers by publishing its queue, unless the store was made without it."""

from __future__ import annotations

import redis

from resque_impl import Keys
from resque_impl.store import Store


def _published_after(client: redis.Redis, keys: Keys, notify: bool) -> list[str]:
    store = Store(client, keys, notify=notify)
    subscription = store.subscribe()
    try:
        subscription.wait(0.05)  # subscribes
        store.push("email", b'{"class":"A","args":[]}')
        store.push_many({"critical": [b'{"class":"B","args":[]}', b'{"class":"C","args":[]}']})
        names: list[str] = []
        for _ in range(5):
            names += subscription.wait(0.1)
        return names
    finally:
        subscription.close()


def test_a_push_and_a_bulk_push_publish_their_queues_by_default(redis_client: redis.Redis, keys: Keys) -> None:
    assert sorted(_published_after(redis_client, keys, notify=True)) == ["critical", "email"]


def test_a_store_made_without_notify_pushes_the_same_jobs_and_publishes_nothing(
    redis_client: redis.Redis, keys: Keys
) -> None:
    assert _published_after(redis_client, keys, notify=False) == []
    store = Store(redis_client, keys)
    assert (store.queue_size("email"), store.queue_size("critical")) == (1, 2)
    assert store.queue_names() == ["critical", "email"]
