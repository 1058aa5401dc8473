"""Each thread fetches on a connection of its own, which its client's pool does not count: a process of
more job slots than the pool's ``max_connections`` (redis-py 8's default is 100) fetches in every slot."""

from __future__ import annotations

import threading

import redis

from resque_impl import Keys
from resque_impl.store import Store
from resque_impl.testing import RedisServer

THREADS = 6


def test_more_fetching_threads_than_the_pool_allows_connections_each_reserve_a_job(
    redis_server: RedisServer,
) -> None:
    client = redis.Redis.from_url(redis_server.url, max_connections=2)
    client.flushall()
    store = Store(client, Keys())
    for n in range(THREADS):
        store.push("email", b'{"class":"A","args":[%d]}' % n)
    reserved: list[bytes | None] = [None] * THREADS
    errors: list[BaseException] = []

    def reserve(slot: int) -> None:
        try:
            reserved[slot] = store.fetch(f"host:1:email{',' * slot}", ["email"], "2026-01-01T00:00:00Z").payload
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=reserve, args=(slot,)) for slot in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(payload or b"" for payload in reserved) == sorted(
        b'{"class":"A","args":[%d]}' % n for n in range(THREADS)
    )
    assert store.queue_size("email") == 0  # the pool still lends its connections for everything else
    client.close()
