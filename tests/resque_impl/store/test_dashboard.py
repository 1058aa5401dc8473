"""The dashboard's read-only store commands, against fakeredis and a real redis-server."""

from __future__ import annotations

import fakeredis
import pytest
import redis

from resque_impl import Keys
from resque_impl.store import Store, dashboard
from resque_impl.testing import RedisServer
from tests.conftest import beside, load_fixture, loaded

RUBY_WORKER = "vm:19891:high,email"


def _store(client: redis.Redis, namespace: str = "resque") -> Store:
    return Store(client, Keys(namespace))


def test_worker_details_read_a_ruby_workers_keys(redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("worker_busy.json")["keys"], namespace)
    redis_client.set(f"{namespace}:stat:processed:" + RUBY_WORKER, 7)
    redis_client.set(f"{namespace}:stat:failed:" + RUBY_WORKER, 2)

    details = _store(redis_client, namespace).worker_details([RUBY_WORKER])[RUBY_WORKER]

    assert details.started == "2026-11-27 23:43:29 +0000"
    assert details.heartbeat == "2026-11-27T23:43:29+00:00"
    assert (details.processed, details.failed) == (7, 2)
    assert details.working_on == (
        b'{"queue":"email","run_at":"2026-11-27T23:43:29Z","payload":{"class":"EmailJob","args":[5,"x"]}}'
    )


def test_worker_details_of_a_worker_with_no_keys_are_empty(redis_client: redis.Redis, namespace: str) -> None:
    details = _store(redis_client, namespace).worker_details(["ghost:1:q"])["ghost:1:q"]

    assert (details.started, details.heartbeat, details.processed, details.failed, details.working_on) == (
        None,
        None,
        0,
        0,
        None,
    )


def test_scan_keys_finds_only_matching_keys_and_finishes(redis_client: redis.Redis, namespace: str) -> None:
    for n in range(250):
        redis_client.set(f"{namespace}:k:{n}", n)
    redis_client.set(beside(namespace, "other:k:1"), 1)
    store = _store(redis_client, namespace)

    found: set[str] = set()
    cursor = 0
    for _ in range(100):
        cursor, names = store.scan_keys(f"{namespace}:k:*", cursor, count=50, rounds=3)
        found.update(names)
        if cursor == 0:
            break

    assert found == {f"{namespace}:k:{n}" for n in range(250)}
    assert cursor == 0


def test_key_summaries_give_type_and_size(redis_client: redis.Redis, namespace: str) -> None:
    redis_client.rpush(f"{namespace}:l", "a", "b", "c")
    redis_client.sadd(f"{namespace}:s", "a")
    redis_client.zadd(f"{namespace}:z", {"a": 1, "b": 2})
    redis_client.hset(f"{namespace}:h", mapping={"a": "1"})
    redis_client.set(f"{namespace}:str", "hello")

    summaries = _store(redis_client, namespace).key_summaries(
        [
            f"{namespace}:l",
            f"{namespace}:s",
            f"{namespace}:z",
            f"{namespace}:h",
            f"{namespace}:str",
            beside(namespace, "nope"),
        ]
    )

    assert [(s.name, s.type, s.size) for s in summaries] == [
        (f"{namespace}:l", "list", 3),
        (f"{namespace}:s", "set", 1),
        (f"{namespace}:z", "zset", 2),
        (f"{namespace}:h", "hash", 1),
        (f"{namespace}:str", "string", 5),
        (beside(namespace, "nope"), "none", None),
    ]


def test_key_page_reads_a_list_a_page_at_a_time(redis_client: redis.Redis, namespace: str) -> None:
    redis_client.rpush(f"{namespace}:l", *[str(n) for n in range(5)])
    store = _store(redis_client, namespace)

    first = store.key_page(f"{namespace}:l", 0, 2, 1024)
    last = store.key_page(f"{namespace}:l", 4, 2, 1024)

    assert first.items == [("0", b"0"), ("1", b"1")]
    assert first.next == 2
    assert last.items == [("4", b"4")]
    assert last.next is None


def test_key_page_reads_strings_by_byte_range(redis_client: redis.Redis, namespace: str) -> None:
    redis_client.set(f"{namespace}:big", "x" * 10 + "y" * 5)

    page = _store(redis_client, namespace).key_page(f"{namespace}:big", 0, 10, 10)

    assert page.items == [(None, b"x" * 10)]
    assert page.next == 10


def test_key_page_of_sorted_sets_hashes_and_sets(redis_client: redis.Redis, namespace: str) -> None:
    redis_client.zadd(f"{namespace}:delayed_queue_schedule", {"1796427809": 1796427809})
    redis_client.hset(f"{namespace}:h", mapping={"f": "v"})
    redis_client.sadd(f"{namespace}:s", "m")
    store = _store(redis_client, namespace)

    assert store.key_page(f"{namespace}:delayed_queue_schedule", 0, 10, 99).items == [("1796427809", b"1796427809")]
    assert store.key_page(f"{namespace}:h", 0, 10, 99).items == [("f", b"v")]
    assert store.key_page(f"{namespace}:s", 0, 10, 99).items == [(None, b"m")]


def test_redis_info_of_a_real_server(redis_server: RedisServer) -> None:
    info = _store(redis_server.client()).redis_info()

    assert info["redis_version"]
    assert "used_memory_human" in info


def test_redis_info_is_empty_where_the_server_lacks_info() -> None:
    assert _store(fakeredis.FakeRedis()).redis_info() == {}


def test_ping_answers(redis_client: redis.Redis, namespace: str) -> None:
    assert _store(redis_client, namespace).ping() is True


def test_scheduler_in_use_when_any_of_resque_schedulers_keys_exist(redis_client: redis.Redis, namespace: str) -> None:
    store = _store(redis_client, namespace)
    keys = store.keys
    writers = [
        lambda: redis_client.zadd(keys.delayed_schedule, {"1893456000": 1893456000}),
        lambda: redis_client.hset(keys.schedules, "cleanup", "{}"),
        lambda: redis_client.hset(keys.last_enqueued_at, "cleanup", "2026-11-27 23:43:29 +0000"),
        lambda: redis_client.set(keys.scheduler_master_lock, "sched:1"),
    ]
    seen = [store.scheduler_in_use()]
    for write in writers:
        redis_client.flushall()
        write()
        seen.append(store.scheduler_in_use())

    assert seen == [False, True, True, True, True]


def test_delayed_summary_counts_timestamps_and_those_due_and_names_the_master(
    redis_client: redis.Redis, namespace: str
) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)
    store = _store(redis_client, namespace)

    before = store.delayed_summary(1796427808)
    redis_client.set(Keys(namespace).scheduler_master_lock, "sched:1")
    at = store.delayed_summary(1796427809)

    assert (before.timestamps, before.due, before.earliest, before.master) == (2, 0, 1796427809, None)
    assert (at.due, at.master) == (1, "sched:1")


def test_delayed_summary_of_an_empty_schedule(redis_client: redis.Redis, namespace: str) -> None:
    summary = _store(redis_client, namespace).delayed_summary(0)

    assert (summary.timestamps, summary.due, summary.earliest, summary.master) == (0, 0, None, None)


def test_delayed_heads_give_each_timestamps_size_and_first_item(redis_client: redis.Redis, namespace: str) -> None:
    loaded(redis_client, load_fixture("delayed.json")["keys"], namespace)

    heads = _store(redis_client, namespace).delayed_heads([1893456000, 1796427809, 1])

    assert [(head.timestamp, head.size, head.first) for head in heads] == [
        (1893456000, 2, b'{"class":"EmailJob","args":[1,"later"],"queue":"email"}'),
        (1796427809, 1, b'{"class":"EmailJob","args":[3],"queue":"high"}'),
        (1, 0, None),
    ]
    assert _store(redis_client, namespace).delayed_heads([]) == []


def test_delayed_count_first_sums_the_earliest_timestamps_only(redis_client: redis.Redis, namespace: str) -> None:
    store = _store(redis_client, namespace)
    for n in range(30):
        for _ in range(n % 3 + 1):
            store.delayed_push(1000 + n, b'{"class":"J","args":[],"queue":"q"}')

    assert store.delayed_count_first(10) == (sum(n % 3 + 1 for n in range(10)), 10)
    assert store.delayed_count_first(1000) == (store.delayed_count(), 30)
    assert store.delayed_count_first(0) == (0, 0)


def test_delayed_count_first_counts_a_chunk_of_timestamps_per_script_call(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch, namespace: str
) -> None:
    monkeypatch.setattr(dashboard, "_COUNT_CHUNK", 7)
    store = _store(redis_client, namespace)
    for n in range(30):
        store.delayed_push(1000 + n, b'{"class":"J","args":[%d],"queue":"q"}' % n)

    assert store.delayed_count_first(1000) == (30, 30)
    assert store.delayed_count_first(10) == (10, 10)
    assert store.delayed_count_first(14) == (14, 14)
