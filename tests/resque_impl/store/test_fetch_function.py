"""A store made with ``fetch_function=True`` sends its fetch as ``FCALL`` of a function it loads itself,
with the same effect as the default ``EVALSHA``."""

from __future__ import annotations

from typing import Any

import redis

from resque_impl import Keys
from resque_impl.store import Store
from resque_impl.store.fetch import Ack

JOBS = [b'{"class":"A","args":[1]}', b'{"class":"A","args":[2]}']


def _work_through(store: Store) -> list[Any]:
    """Push two jobs, reserve one, acknowledge it (failed) while reserving the next, then acknowledge that."""
    for payload in JOBS:
        store.push("email", payload)
    first = store.fetch("host:1:email", ["email"], "2026-01-01T00:00:00Z")
    assert first.payload is not None
    second = store.fetch("host:1:email", ["email"], "2026-01-01T00:00:01Z", ack=Ack("email", first.payload, True))
    assert second.payload is not None
    store.fetch("host:1:email", ["email"], "2026-01-01T00:00:02Z", ack=Ack("email", second.payload, False))
    return [first, second, store.stat("processed"), store.stat("failed"), store.inflight("host:1:email")]


def test_fcall_fetch_has_the_same_effect_as_evalsha(redis_client: redis.Redis, namespace: str) -> None:
    # Two namespaces of the test's slot (on the cluster, both behind its hash tag).
    by_evalsha = _work_through(Store(redis_client, Keys(f"{namespace}a")))
    assert _work_through(Store(redis_client, Keys(f"{namespace}b"), fetch_function=True)) == by_evalsha
    assert by_evalsha[2:] == [2, 1, []]


def test_fcall_fetch_loads_its_function_again_when_the_server_lost_it(redis_client: redis.Redis, keys: Keys) -> None:
    store = Store(redis_client, keys, fetch_function=True)
    store.push("email", JOBS[0])
    assert store.fetch("host:1:email", ["email"], "2026-01-01T00:00:00Z").payload == JOBS[0]
    redis_client.function_flush()
    store.push("email", JOBS[1])
    assert store.fetch("host:1:email", ["email"], "2026-01-01T00:00:01Z").payload == JOBS[1]
