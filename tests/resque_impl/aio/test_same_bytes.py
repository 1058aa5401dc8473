"""AsyncResque writes what Resque writes: the same calls leave byte-identical Redis databases.

Each scenario runs once through the synchronous client and once through the asyncio one, on an emptied
database of the same server (fakeredis, a real redis-server, a Sentinel deployment's primary, the
primary of a Redis Cluster slot), and the
two snapshots (every key, type and value, in order) must be equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from resque_impl import Resque
from resque_impl.aio import AsyncResque
from resque_impl.clock import ManualClock
from resque_impl.registry import Registry
from resque_impl.testing import RedisServer, dump_keys
from resque_impl.testing.cluster import ClusterTopology
from resque_impl.testing.sentinel import SentinelTopology
from tests.conftest import FIXTURE_EPOCH


class Welcome:
    queue = "email"

    @staticmethod
    def perform(user: int, text: str = "") -> None: ...


class Stamped:
    """A hook that changes its (mutable) arguments: both clients encode again after it."""

    queue = "audit"

    @staticmethod
    def before_enqueue_stamp(data: dict[str, Any]) -> None:
        data["stamped"] = True

    @staticmethod
    def perform(data: dict[str, Any]) -> None: ...


class Vetoed:
    queue = "never"

    @staticmethod
    def before_enqueue_no(*args: Any) -> bool:
        return False

    @staticmethod
    def perform(*args: Any) -> None: ...


@dataclass
class Target:
    """A database both clients can reach: what each is given as ``redis=``, the namespace to use (a
    cluster needs a hash tag), and a sync client of it to read it with."""

    sync: Callable[[], Any]
    asyncio: Callable[[], Any]
    namespace: str
    reader: Any


@pytest.fixture(params=["fake", "real", "sentinel", "cluster"])
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "fake":
        server = fakeredis.FakeServer()
        reader: Any = fakeredis.FakeRedis(server=server)
        yield Target(
            lambda: fakeredis.FakeRedis(server=server), lambda: fakeredis.FakeAsyncRedis(server=server), "app", reader
        )
        return
    namespace = "app"
    if request.param == "sentinel":
        topology: SentinelTopology = request.getfixturevalue("redis_sentinel")
        url = topology.url
    elif request.param == "cluster":
        cluster: ClusterTopology = request.getfixturevalue("redis_cluster")
        url, namespace = cluster.url, "{app}"
    else:
        redis_server: RedisServer = request.getfixturevalue("redis_server")
        url = redis_server.url
    reader = Resque(url, namespace=namespace).redis
    reader.flushall()
    yield Target(lambda: url, lambda: url, namespace, reader)
    reader.close()


def _snapshot(reader: Any) -> dict[str, Any]:
    snapshot = dump_keys(reader)
    reader.flushall()
    return snapshot


WHEN = datetime(2027, 3, 1, 12, 0, 30, tzinfo=timezone.utc)


def _sync_scenario(resque: Resque) -> None:
    resque.enqueue(Welcome, 1, "héllo ✓")
    resque.enqueue_to("high", Welcome, 2)
    resque.enqueue_to("ruby_queue", "Admin::RubyOnlyJob", {"a": [1, 2.5, None]})
    resque.enqueue_many(Welcome, [(3,), (4, "x"), (5,)])
    resque.enqueue(Stamped, {"id": 7})
    resque.enqueue(Vetoed, 1)
    resque.enqueue_at(WHEN, Welcome, 8)
    resque.enqueue_at(WHEN, Welcome, 8)
    resque.enqueue_in(timedelta(minutes=5), Welcome, 9)
    resque.enqueue_in_with_queue("later", 60, Welcome, 10)
    resque.enqueue_at(FIXTURE_EPOCH - 10, Welcome, 11)  # past: enqueued now
    resque.push("raw", {"class": "Ruby::Job", "args": [1], "retry": 2})
    resque.push("raw", ["not", "a", "payload"])
    resque.dequeue(Welcome, 3)
    resque.destroy("high", Welcome)


async def _async_scenario(resque: AsyncResque) -> None:
    await resque.enqueue(Welcome, 1, "héllo ✓")
    await resque.enqueue_to("high", Welcome, 2)
    await resque.enqueue_to("ruby_queue", "Admin::RubyOnlyJob", {"a": [1, 2.5, None]})
    await resque.enqueue_many(Welcome, [(3,), (4, "x"), (5,)])
    await resque.enqueue(Stamped, {"id": 7})
    await resque.enqueue(Vetoed, 1)
    await resque.enqueue_at(WHEN, Welcome, 8)
    await resque.enqueue_at(WHEN, Welcome, 8)
    await resque.enqueue_in(timedelta(minutes=5), Welcome, 9)
    await resque.enqueue_in_with_queue("later", 60, Welcome, 10)
    await resque.enqueue_at(FIXTURE_EPOCH - 10, Welcome, 11)
    await resque.push("raw", {"class": "Ruby::Job", "args": [1], "retry": 2})
    await resque.push("raw", ["not", "a", "payload"])
    await resque.dequeue(Welcome, 3)
    await resque.destroy("high", Welcome)


@pytest.mark.parametrize("enqueued_at", [False, True], ids=["plain", "enqueued_at"])
def test_the_same_calls_leave_byte_identical_databases(target: Target, enqueued_at: bool) -> None:
    options = {"namespace": target.namespace, "enqueued_at": enqueued_at, "registry": Registry()}
    _sync_scenario(Resque(target.sync(), clock=ManualClock(FIXTURE_EPOCH), **options))
    written_by_sync = _snapshot(target.reader)

    async def run() -> None:
        async with AsyncResque(target.asyncio(), clock=ManualClock(FIXTURE_EPOCH), **options) as resque:
            await _async_scenario(resque)

    asyncio.run(run())
    written_by_async = _snapshot(target.reader)

    assert written_by_async == written_by_sync
    prefix = target.namespace
    assert {f"{prefix}:queues", f"{prefix}:queue:email", f"{prefix}:delayed_queue_schedule"} <= set(written_by_sync)
    assert any(key.startswith(f"{prefix}:timestamps:") for key in written_by_sync)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(args=st.lists(json_values, max_size=4), queue=st.text(min_size=1, max_size=20))
def test_any_json_arguments_are_written_as_the_sync_client_writes_them(args: list[Any], queue: str) -> None:
    server = fakeredis.FakeServer()
    reader = fakeredis.FakeRedis(server=server)
    Resque(fakeredis.FakeRedis(server=server)).enqueue_to(queue, "Some::Job", *args)
    Resque(fakeredis.FakeRedis(server=server)).enqueue_at_with_queue(queue, WHEN, "Some::Job", *args)
    written_by_sync = _snapshot(reader)

    async def run() -> None:
        resque = AsyncResque(fakeredis.FakeAsyncRedis(server=server))
        await resque.enqueue_to(queue, "Some::Job", *args)
        await resque.enqueue_at_with_queue(queue, WHEN, "Some::Job", *args)
        assert [job.args for job in await resque.peek(queue)] == [args]

    asyncio.run(run())
    assert _snapshot(reader) == written_by_sync
