"""AsyncResque through a Sentinel failover: durable and refused writes reach the new primary, as the
synchronous client's do (tests/resque_impl/test_sentinel_failover.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resque_impl.aio import AsyncResque
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology
from tests.resque_impl.test_sentinel_failover import _queue_on, _until_every_replica_has

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def topology(redis_server: RedisServer) -> Iterator[SentinelTopology]:
    """A deployment of this module's own: its tests fail it over."""
    with SentinelTopology() as deployment:
        yield deployment


def _empty(topology: SentinelTopology) -> None:
    with topology.server_on(topology.primary_port()).client() as client:
        client.flushall()


async def test_a_durable_enqueue_moves_to_the_new_primary(topology: SentinelTopology) -> None:
    _empty(topology)
    async with AsyncResque(topology.url + "?wait_replicas=1") as resque:
        await resque.enqueue_to("q", "J", 1)
        old = topology.primary_port()
        _until_every_replica_has(topology, old, 1)
        new = topology.failover()
        # The old primary lost its replicas: WAIT fails there, the sentinels name the new primary, and
        # the enqueue is sent there.
        await resque.enqueue_to("q", "J", 2)
    assert _queue_on(topology, new) == [b'{"class":"J","args":[1]}', b'{"class":"J","args":[2]}']
    assert old != new


async def test_writes_refused_by_a_demoted_primary_go_to_the_new_one(topology: SentinelTopology) -> None:
    _empty(topology)
    async with AsyncResque(topology.url) as resque:
        await resque.enqueue_to("q", "J", 1)
        old = topology.primary_port()
        _until_every_replica_has(topology, old, 1)
        new = topology.failover()
        with topology.server_on(old).client() as client:  # what the sentinels do at their next look
            client.replicaof("127.0.0.1", new)
        await resque.enqueue_to("q", "J", 2)
    assert _queue_on(topology, new) == [b'{"class":"J","args":[1]}', b'{"class":"J","args":[2]}']
