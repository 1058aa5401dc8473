"""Producers and workers follow a Sentinel failover by themselves: what the old primary refuses or
fails to replicate is sent again to the new one, neither lost nor doubled.

(The long run, thousands of jobs through repeated failovers with worker processes, is the chaos
suite's tests/chaos/test_sentinel_failover.py.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology


@pytest.fixture(scope="module")
def topology(redis_server: RedisServer) -> Iterator[SentinelTopology]:
    """A deployment of this module's own: its tests fail it over. (``redis_server`` only to skip or
    fail as every real-server test does without a ``redis-server``.)"""
    with SentinelTopology() as deployment:
        yield deployment


def _queue_on(topology: SentinelTopology, port: int) -> list[bytes]:
    with topology.server_on(port).client() as client:
        return list(client.lrange("resque:queue:q", 0, -1))


def _until_every_replica_has(topology: SentinelTopology, primary: int, jobs: int) -> None:
    with topology.server_on(primary).client() as client:
        info = client.info("replication")
    replicas = [value["port"] for value in info.values() if isinstance(value, dict) and "port" in value]
    assert replicas
    deadline = time.monotonic() + 5
    while any(len(_queue_on(topology, port)) != jobs for port in replicas):
        assert time.monotonic() < deadline, "the replicas did not catch up in 5 s"
        time.sleep(0.01)


def test_a_durable_producer_and_worker_move_to_the_new_primary(topology: SentinelTopology) -> None:
    r = Resque(topology.url + "?wait_replicas=1")
    r.redis.flushall()
    r.enqueue_to("q", "J", 1)
    subscription = r.store.subscribe()
    subscription.wait(0.1)
    old = topology.primary_port()
    # One replica confirmed the job; the one SENTINEL FAILOVER promotes may not have it yet (the window
    # docs/ha-redis.md describes), so the test waits until both do.
    _until_every_replica_has(topology, old, 1)
    new = topology.failover()
    # The old primary still takes writes until the sentinels demote it, but lost its replicas: the
    # enqueue's WAIT fails there, the sentinels name the new primary, and the enqueue goes there.
    r.enqueue_to("q", "J", 2)
    assert _queue_on(topology, new) == [b'{"class":"J","args":[1]}', b'{"class":"J","args":[2]}']
    assert r.store.fetch("w1", ["q"], "2026-11-27T23:43:29Z").payload == b'{"class":"J","args":[1]}'
    assert _queue_on(topology, new) == [b'{"class":"J","args":[2]}']
    assert old != new
    # Push notifications come from the new primary too (the old one keeps subscribers, not publishers).
    subscription.wait(0.1)
    r.enqueue_to("q", "J", 3)
    assert "q" in subscription.wait(1.0)
    subscription.close()


def test_writes_refused_by_a_demoted_primary_go_to_the_new_one(topology: SentinelTopology) -> None:
    r = Resque(topology.url)
    r.redis.flushall()
    r.enqueue_to("q", "J", 1)
    old = topology.primary_port()
    _until_every_replica_has(topology, old, 1)
    new = topology.failover()
    # What the sentinels do at their next look at the old primary (up to 10 s later).
    with topology.server_on(old).client() as client:
        client.replicaof("127.0.0.1", new)
    r.enqueue_to("q", "J", 2)
    assert _queue_on(topology, new) == [b'{"class":"J","args":[1]}', b'{"class":"J","args":[2]}']
