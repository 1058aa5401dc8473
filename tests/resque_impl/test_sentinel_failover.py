"""Producers and workers follow a Sentinel failover by themselves: what the old primary refuses or
fails to replicate is sent again to the new one, neither lost nor doubled.

(The long run, thousands of jobs through repeated failovers with worker processes, is the chaos
suite's tests/chaos/test_sentinel_failover.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest

from resque_impl import DurabilityError, Resque
from resque_impl.keys import Keys
from resque_impl.store import Ack, Store
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology

T = TypeVar("T")


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


def _until_confirmed(write: Callable[[], T]) -> T:
    """``write()``, again while the replicas do not confirm it (a worker's retry), for up to 30 s."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return write()
        except DurabilityError:
            assert time.monotonic() < deadline, "the new primary's replicas did not confirm in 30 s"


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


def test_a_durable_worker_never_takes_back_a_job_it_reserved_on_an_abandoned_primary(
    topology: SentinelTopology,
) -> None:
    r = Resque(topology.url + "?wait_replicas=2")
    r.redis.flushall()
    r.enqueue_to("q", "J", 1)  # confirmed by both replicas; the pool keeps its connection to this primary
    old = topology.primary_port()
    new = topology.failover()
    # A reserve the old primary took after the new one was promoted (it takes writes until demoted),
    # whose reply this worker never got: the new primary still has the job queued, for anyone to run.
    with topology.server_on(old).client() as client:
        Store(client, Keys("resque")).fetch("w1", ["q"], "2026-11-27T23:43:29Z")
    # Taking it back there would run it twice. The old primary cannot have the take-back confirmed by
    # both replicas (one is the new primary), nor can the new one until the old rejoins as its replica:
    # the worker tries again until then.
    with pytest.raises(DurabilityError):
        r.store.adopt_inflight("w1", "2026-11-27T23:43:30Z")
    with topology.server_on(old).client() as client:
        client.replicaof("127.0.0.1", new)  # what the sentinels do at their next look at it
    taken = _until_confirmed(lambda: r.store.adopt_inflight("w1", "2026-11-27T23:43:30Z"))
    assert taken is None
    assert _queue_on(topology, new) == [b'{"class":"J","args":[1]}']


def test_a_durable_reserve_the_replicas_did_not_confirm_is_not_sent_again_but_raised(
    topology: SentinelTopology,
) -> None:
    r = Resque(topology.url + "?wait_replicas=2")
    r.redis.flushall()
    r.enqueue_to("q", "J", 1)
    r.enqueue_to("q", "J", 2)
    first = r.store.fetch("w1", ["q"], "2026-11-27T23:43:29Z")  # on the worker's own connection
    old = topology.primary_port()
    new = topology.failover()
    # The old primary pops job 2 but cannot have that confirmed. Had the promoted replica received the
    # pop before its promotion, a reserve sent again there would pop a second job that no one runs.
    with pytest.raises(DurabilityError):
        r.store.fetch("w1", ["q"], "2026-11-27T23:43:30Z", ack=Ack("q", first.payload or b"", failed=False))
    with topology.server_on(old).client() as client:
        client.replicaof("127.0.0.1", new)
    # What the worker does next: acknowledge again, then take back what it holds (nothing), then reserve.
    again = _until_confirmed(
        lambda: r.store.fetch("w1", ["q"], "2026-11-27T23:43:31Z", ack=Ack("q", first.payload or b"", failed=False))
    )
    assert again.payload == b'{"class":"J","args":[2]}'
    assert r.store.inflight("w1") == [("q", b'{"class":"J","args":[2]}')]
    assert _queue_on(topology, new) == []
