"""Redis Cluster: a deployment lives in its hash-tagged namespace's one slot, follows that slot through
a failover, and a namespace that would cross slots is refused, saying which to use."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
import redis
import redis.asyncio
from redis.crc import key_slot

from resque_impl import ConfigurationError, Resque, ResqueConnectionError
from resque_impl.keys import Keys
from resque_impl.store import Ack, Store
from resque_impl.store.aio import AsyncStore
from resque_impl.testing import RedisServer
from resque_impl.testing.cluster import ClusterTopology

NAMESPACE = "{resque}"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def resque(redis_cluster: ClusterTopology) -> Iterator[Resque]:
    """A Resque in ``{resque}`` on the session's cluster, the slot's primary emptied."""
    r = Resque(redis_cluster.url + "?namespace=%7Bresque%7D")
    r.redis.flushall()
    yield r
    r.redis.flushall()


def test_a_namespace_without_a_hash_tag_is_refused_naming_the_one_to_use(redis_cluster: ClusterTopology) -> None:
    with pytest.raises(ConfigurationError, match=r"namespace 'resque' would spread .* use .*'\{resque\}'"):
        Resque(redis_cluster.url)
    with pytest.raises(ConfigurationError, match=r"'\{app\}'"):
        Resque(redis_cluster.url, namespace="app")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+cluster://", "malformed Redis Cluster URL"),
        ("redis+cluster://127.0.0.1:7000/1", "a cluster has only database 0"),
        ("redis+cluster://127.0.0.1:7000/0?retries=1", "malformed Redis Cluster URL"),
        ("redis+cluster://127.0.0.1:port", "malformed address '127.0.0.1:port'"),
    ],
)
def test_malformed_cluster_urls_say_what_form_is_expected(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Resque(url, namespace=NAMESPACE)


def test_no_reachable_node_is_an_error_at_once() -> None:
    with pytest.raises(ConfigurationError, match="at least one reachable node"):
        Resque(f"redis+cluster://127.0.0.1:{_closed_port()}", namespace=NAMESPACE, socket_timeout=1)


def test_a_cluster_without_every_slot_served_is_an_error_at_start(redis_server: RedisServer) -> None:
    with RedisServer(["--cluster-enabled", "yes"]) as lonely_node, pytest.raises(ConfigurationError, match="slots"):
        Resque(f"redis+cluster://127.0.0.1:{lonely_node.port}", namespace=NAMESPACE)


def test_a_slot_no_primary_serves_yet_is_an_unreachable_redis_to_wait_out(redis_server: RedisServer) -> None:
    # Between a primary's SIGKILL and its replica's promotion the cluster answers CLUSTERDOWN, having
    # applied nothing: a worker waits that out as it does a lost connection, rather than exiting.
    with RedisServer(["--cluster-enabled", "yes"]) as lonely_node:
        client = redis.Redis(port=lonely_node.port)
        store = Store(client, Keys(NAMESPACE))
        with pytest.raises(ResqueConnectionError, match="not served"):
            store.push("q", b"{}")
        aio_store = AsyncStore(redis.asyncio.Redis(port=lonely_node.port), Keys(NAMESPACE))
        with pytest.raises(ResqueConnectionError, match="not served"):
            asyncio.run(aio_store.push("q", b"{}"))
        client.close()


def test_everything_a_worker_cycle_writes_sits_in_the_namespace_slot_on_its_primary(
    resque: Resque, redis_cluster: ClusterTopology
) -> None:
    store = resque.store
    resque.enqueue_to("email", "Mailer", 1)
    fetched = store.fetch("host:1:email", ["email"], "2026-11-27T23:43:29Z")
    assert fetched.payload == b'{"class":"Mailer","args":[1]}'
    store.fetch("host:1:email", ["email"], "now", ack=Ack("email", fetched.payload or b"", failed=False))
    resque.enqueue_in_with_queue("email", 60, "Mailer", 2)
    with redis_cluster.owner_of(NAMESPACE).client() as primary:
        written = list(primary.scan_iter(count=1000))
    assert b"{resque}:stat:processed" in written
    assert {key_slot(key) for key in written} == {key_slot(NAMESPACE.encode())}


def test_namespaces_with_different_tags_spread_over_the_primaries(redis_cluster: ClusterTopology) -> None:
    namespaces = ["{resque-a}", "{resque-b}", "{resque-c}", "{resque-d}"]
    owners = {namespace: redis_cluster.owner_of(namespace).port for namespace in namespaces}
    assert len(set(owners.values())) > 1
    for namespace in namespaces:
        r = Resque(redis_cluster.url, namespace=namespace)
        r.enqueue_to("q", "J", namespace)
        with redis_cluster.owner_of(namespace).client() as primary:
            assert primary.llen(f"{namespace}:queue:q") == 1
            primary.delete(f"{namespace}:queue:q", f"{namespace}:queues")


def test_a_producer_and_a_worker_follow_the_slot_through_cluster_failover(redis_cluster: ClusterTopology) -> None:
    r = Resque(redis_cluster.url + "?namespace=%7Bresque%7D&wait_replicas=1")
    r.redis.flushall()
    r.enqueue_to("q", "J", 1)  # confirmed by the replica that CLUSTER FAILOVER promotes (the only one)
    old = redis_cluster.owner_of(NAMESPACE).port
    new = redis_cluster.failover_slot_of(NAMESPACE).port
    # The old primary answers MOVED: nothing applied, the slot map is refreshed, the push sent again.
    r.enqueue_to("q", "J", 2)
    assert r.store.fetch("w1", ["q"], "2026-11-27T23:43:29Z").payload == b'{"class":"J","args":[1]}'
    with redis_cluster.owner_of(NAMESPACE).client() as primary:
        assert primary.lrange("{resque}:queue:q", 0, -1) == [b'{"class":"J","args":[2]}']
    assert old != new
    r.redis.flushall()
