"""Under a hash-tagged namespace (``{resque}``), everything the store writes sits in the namespace's one
Redis Cluster slot: what a deployment needs to share one slot of a cluster."""

from __future__ import annotations

from redis.crc import key_slot

from resque_impl.keys import Keys
from resque_impl.store import Ack, Store
from resque_impl.testing import RedisServer


def test_a_worker_cycle_and_the_scheduler_write_only_keys_of_the_namespace_slot(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.flushall()
    store = Store(client, Keys("{resque}"))
    store.push("email", b'{"class":"J","args":[1]}')
    store.register_worker("host:1:email", "2026-11-27 23:43:29 +0000")
    fetched = store.fetch("host:1:email", ["email"], "2026-11-27T23:43:29Z")
    store.fetch("host:1:email", ["email"], "now", ack=Ack("email", fetched.payload or b"", failed=False))
    store.push("email", b'{"class":"J","args":[2]}')
    store.fetch("host:1:email", ["email"], "2026-11-27T23:43:30Z")
    store.recover_inflight("host:1:email", 3)
    store.delayed_push(1795823009, b'{"class":"J","args":[3],"queue":"email"}')
    store.delayed_release(1795823009, [b'{"class":"J","args":[3],"queue":"email"}'], [("email", b"3")])
    written = list(client.scan_iter(count=1000))
    assert len(written) >= 5
    assert {key_slot(key) for key in written} == {key_slot(b"{resque}")}
