"""Durable writes (``wait_replicas``): enqueues, acknowledgements and the scheduler's moves return only
once enough replicas hold them, and say so when they do not."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from resque_impl import DurabilityError, Resque, ResqueConnectionError
from resque_impl.connection import connect
from resque_impl.keys import Keys
from resque_impl.store import Ack, Store
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology


@pytest.fixture
def durable(redis_sentinel: SentinelTopology) -> Iterator[Store]:
    """A store on the session's Sentinel deployment that waits for both replicas."""
    connection = connect(redis_sentinel.url)
    connection.client.flushall()
    yield Store(connection.client, Keys(), connection.description, wait_replicas=2, wait_timeout=2)
    connection.client.close()


@pytest.fixture
def lonely(redis_server: RedisServer) -> Store:
    """A store that asks for a replica on a server without any (as after losing them)."""
    client = redis_server.client(socket_timeout=5)
    client.flushall()
    return Store(client, Keys(), redis_server.url, wait_replicas=1, wait_timeout=0.05)


def _replica_clients(topology: SentinelTopology) -> list[object]:
    primary = topology.primary_port()
    return [server.client() for server in topology.servers if server.port != primary]


def test_an_enqueue_is_on_every_replica_when_it_returns(durable: Store, redis_sentinel: SentinelTopology) -> None:
    Resque(store=durable).enqueue_to("email", "Mailer", 1)
    durable.push_many({"email": [b"2", b"3"]})
    for replica in _replica_clients(redis_sentinel):
        assert replica.lrange("resque:queue:email", 0, -1) == [b'{"class":"Mailer","args":[1]}', b"2", b"3"]  # type: ignore[attr-defined]


def test_an_acknowledgement_is_on_every_replica_when_it_returns(
    durable: Store, redis_sentinel: SentinelTopology
) -> None:
    durable.push("email", b"job")
    fetched = durable.fetch("w1", ["email"], "2026-11-27T23:43:29Z")
    assert fetched.payload == b"job"
    durable.fetch("w1", ["email"], "2026-11-27T23:43:30Z", ack=Ack("email", b"job", failed=False), reserve=False)
    for replica in _replica_clients(redis_sentinel):
        assert replica.get("resque:stat:processed") == b"1"  # type: ignore[attr-defined]
        assert replica.llen(Keys().inflight("email", "w1")) == 0  # type: ignore[attr-defined]


def test_a_scheduler_move_is_on_every_replica_when_it_returns(durable: Store, redis_sentinel: SentinelTopology) -> None:
    durable.delayed_push(1795823009, b'{"class":"J","args":[],"queue":"q"}')
    assert durable.delayed_release(1795823009, [b'{"class":"J","args":[],"queue":"q"}'], [("q", b"payload")]) == 1
    for replica in _replica_clients(redis_sentinel):
        assert replica.lrange("resque:queue:q", 0, -1) == [b"payload"]  # type: ignore[attr-defined]
        assert replica.zcard("resque:delayed_queue_schedule") == 0  # type: ignore[attr-defined]


def test_an_unconfirmed_enqueue_raises_after_the_wait_timeout_naming_the_shortfall(lonely: Store) -> None:
    started = time.monotonic()
    with pytest.raises(DurabilityError, match=r"only 0 of 1 replicas .* confirmed a write within 0\.05 s"):
        lonely.push("email", b"job")
    assert time.monotonic() - started < 1
    # The write is on the primary: retrying may run the job twice, never zero times.
    assert lonely.queue_size("email") == 1


def test_an_unconfirmed_write_is_a_connection_error_so_workers_retry_it(lonely: Store) -> None:
    with pytest.raises(ResqueConnectionError):
        lonely.fetch("w1", ["email"], "2026-11-27T23:43:29Z")
    with pytest.raises(DurabilityError):
        lonely.delayed_push(1795823009, b"item")
    with pytest.raises(DurabilityError):
        lonely.schedule_fire("nightly", 1795823009.0, "now", ("q", b"payload"))


def test_a_write_whose_primary_becomes_a_replica_during_its_wait_is_unconfirmed(redis_server: RedisServer) -> None:
    # A CLUSTER FAILOVER or a Sentinel demotion unblocks every WAIT on the old primary with UNBLOCKED:
    # the write was applied there, but whether the new primary has it is unknown.
    with RedisServer() as waiting, RedisServer() as elsewhere:
        store = Store(waiting.client(), Keys(), waiting.url, wait_replicas=1, wait_timeout=30)
        outcome: list[BaseException] = []
        pushing = threading.Thread(target=lambda: _capture(outcome, lambda: store.push("email", b"job")))
        pushing.start()
        with waiting.client() as admin:
            wait_for_blocked(admin)
            admin.replicaof("127.0.0.1", elsewhere.port)
        pushing.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], DurabilityError)
    assert "became a replica" in str(outcome[0])


def _capture(into: list[BaseException], action: Callable[[], object]) -> None:
    try:
        action()
    except BaseException as error:
        into.append(error)


def wait_for_blocked(admin: redis.Redis) -> None:
    deadline = time.monotonic() + 10
    while not any(client.get("cmd") == "wait" for client in admin.client_list()):
        assert time.monotonic() < deadline, "the push never reached its WAIT"
        time.sleep(0.01)


def test_without_wait_replicas_nothing_waits(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.flushall()
    store = Store(client, Keys())
    store.push("email", b"job")
    assert store.fetch("w1", ["email"], "2026-11-27T23:43:29Z").payload == b"job"


def test_scripts_a_new_primary_has_not_seen_are_loaded_on_the_way(durable: Store) -> None:
    durable.push("email", b"job")
    durable.client.script_flush()  # as on a replica promoted by a failover: its script cache is empty
    assert durable.fetch("w1", ["email"], "2026-11-27T23:43:29Z").payload == b"job"
    durable.client.script_flush()
    durable.release("w1", "email", b"job")
    assert durable.queue_range("email", 0, 10) == [b"job"]
