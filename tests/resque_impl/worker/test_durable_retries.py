"""A worker whose durable writes (``wait_replicas``) go unconfirmed retries them without backing off:
each try already waited ``wait_timeout`` on a primary that answered, and the next one succeeds the
moment a replica is back (after a ``SENTINEL FAILOVER``, when the sentinels demote the old primary)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest

from resque_impl import Registry, Resque, job
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerOptions

registry = Registry()
#: No 5 s pause before each full sync of the replica.
_SYNC_AT_ONCE = ["--repl-diskless-sync-delay", "0"]
done: list[int] = []


@job(queue="durable", registry=registry, name="DurableNoted")
class DurableNoted:
    @staticmethod
    def perform(n: int) -> None:
        done.append(n)


@pytest.fixture
def primary_and_replica(redis_server: RedisServer) -> Iterator[tuple[RedisServer, RedisServer]]:
    """A primary with one replica in sync, of this test's own. (``redis_server`` only to skip or fail
    as every real-server test does without a ``redis-server``.)"""
    with RedisServer(_SYNC_AT_ONCE) as primary, RedisServer(["--replicaof", "127.0.0.1", str(primary.port)]) as replica:
        _until_in_sync(primary)
        yield primary, replica


def _until_in_sync(primary: RedisServer) -> None:
    with primary.client() as client:
        deadline = time.monotonic() + 10
        while client.info("replication").get("slave0", {}).get("state") != "online":
            assert time.monotonic() < deadline, "the replica did not sync in 10 s"
            time.sleep(0.02)


def test_unconfirmed_durable_writes_are_retried_at_the_first_delay_until_a_replica_is_back(
    primary_and_replica: tuple[RedisServer, RedisServer], caplog: pytest.LogCaptureFixture
) -> None:
    primary, replica = primary_and_replica
    resque = Resque(primary.url + "?wait_replicas=1&wait_timeout=0.05", registry=registry)
    Resque(primary.url, registry=registry).enqueue(DurableNoted, 1)
    with replica.client() as client:
        client.replicaof("NO", "ONE")

    def bring_the_replica_back() -> None:
        deadline = time.monotonic() + 30
        while caplog.text.count("retrying in") < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        with replica.client() as client:
            client.replicaof("127.0.0.1", primary.port)

    helper = threading.Thread(target=bring_the_replica_back)
    helper.start()
    with caplog.at_level(logging.WARNING, logger="resque_impl.worker"):
        assert Worker(["durable"], resque=resque, options=WorkerOptions(fork_per_job=False)).work(burst=True) == 0
    helper.join()
    retries = [record.getMessage() for record in caplog.records if "retrying in" in record.getMessage()]
    assert len(retries) >= 4
    assert all("replicas of" in message and message.endswith("retrying in 0.1 s") for message in retries)
    assert done == [1]
    assert resque.size("durable") == 0
