"""AsyncResque on a Redis Cluster: a hash-tagged namespace's slot, followed through a failover."""

from __future__ import annotations

import pytest

from resque_impl.aio import AsyncResque
from resque_impl.testing.cluster import ClusterTopology

NAMESPACE = "{resque}"


@pytest.mark.asyncio
async def test_the_async_producer_follows_the_slot_through_cluster_failover(redis_cluster: ClusterTopology) -> None:
    with redis_cluster.owner_of(NAMESPACE).client() as primary:
        primary.flushall()
    async with AsyncResque(redis_cluster.url + "?namespace=%7Bresque%7D&wait_replicas=1") as resque:
        await resque.enqueue_to("q", "J", 1)  # confirmed by the replica CLUSTER FAILOVER promotes
        old = redis_cluster.owner_of(NAMESPACE).port
        new = redis_cluster.failover_slot_of(NAMESPACE).port
        # The old primary answers MOVED: nothing applied, the slot map is asked again, the push resent.
        await resque.enqueue_to("q", "J", 2)
        assert await resque.size("q") == 2
    with redis_cluster.owner_of(NAMESPACE).client() as primary:
        assert primary.lrange("{resque}:queue:q", 0, -1) == [b'{"class":"J","args":[1]}', b'{"class":"J","args":[2]}']
        primary.flushall()
    assert old != new
