"""AsyncResque: hooks (plain and async), events, refusals, durable writes and connection errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import fakeredis
import pytest
import pytest_asyncio

from resque_impl.aio import AsyncResque
from resque_impl.clock import ManualClock
from resque_impl.errors import (
    ConfigurationError,
    DurabilityError,
    NoQueueError,
    NotSerializableError,
    PayloadTooLargeError,
    ResqueConnectionError,
    ScheduleError,
)
from resque_impl.events import JOB_ENQUEUED, EventLog
from resque_impl.registry import Registry
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology
from tests.conftest import FIXTURE_EPOCH

pytestmark = pytest.mark.asyncio

calls: list[str] = []


class Hooked:
    queue = "hooked"

    @staticmethod
    def before_enqueue_a(n: int) -> None:
        calls.append(f"before_enqueue_a {n}")

    @staticmethod
    async def before_enqueue_b(n: int) -> bool:
        calls.append(f"before_enqueue_b {n}")
        return n != 0  # exactly False vetoes

    @staticmethod
    async def after_enqueue_c(n: int) -> None:
        calls.append(f"after_enqueue_c {n}")

    @staticmethod
    async def before_schedule_d(n: int) -> None:
        calls.append(f"before_schedule_d {n}")

    @staticmethod
    def after_schedule_e(n: int) -> None:
        calls.append(f"after_schedule_e {n}")

    @staticmethod
    async def before_dequeue_f(n: int) -> bool:
        calls.append(f"before_dequeue_f {n}")
        return n != 0

    @staticmethod
    def after_dequeue_g(n: int) -> None:
        calls.append(f"after_dequeue_g {n}")

    @staticmethod
    def perform(n: int) -> None: ...


@pytest_asyncio.fixture
async def client() -> AsyncIterator[AsyncResque]:
    calls.clear()
    async with AsyncResque(fakeredis.FakeAsyncRedis(), clock=ManualClock(FIXTURE_EPOCH), registry=Registry()) as r:
        yield r


async def test_plain_and_async_enqueue_hooks_run_in_order_around_the_push(client: AsyncResque) -> None:
    assert await client.enqueue(Hooked, 1) is True
    assert calls == ["before_enqueue_a 1", "before_enqueue_b 1", "after_enqueue_c 1"]
    assert await client.size("hooked") == 1


async def test_an_async_before_enqueue_hook_returning_false_vetoes_the_push(client: AsyncResque) -> None:
    assert await client.enqueue(Hooked, 0) is False
    assert await client.size("hooked") == 0
    assert "after_enqueue_c 0" not in calls


async def test_enqueue_many_leaves_out_vetoed_jobs_and_counts_the_rest(client: AsyncResque) -> None:
    assert await client.enqueue_many(Hooked, [(1,), (0,), (2,)]) == 2
    assert [job.args for job in await client.peek("hooked", 0, 10)] == [[1], [2]]
    assert calls.count("after_enqueue_c 0") == 0


async def test_schedule_hooks_run_around_a_delayed_push(client: AsyncResque) -> None:
    assert await client.enqueue_in(60, Hooked, 5) is True
    assert calls == ["before_schedule_d 5", "after_schedule_e 5"]
    assert await client.size("hooked") == 0


async def test_dequeue_runs_its_hooks_and_a_veto_removes_nothing(client: AsyncResque) -> None:
    await client.enqueue_many(Hooked, [(1,), (2,)])
    calls.clear()
    assert await client.dequeue(Hooked, 0) is None
    assert await client.dequeue(Hooked, 1) == 1
    assert calls == ["before_dequeue_f 0", "before_dequeue_f 1", "after_dequeue_g 1"]
    assert await client.size("hooked") == 1


async def test_enqueues_are_announced_on_the_event_stream(client: AsyncResque) -> None:
    log = EventLog()
    client.events.subscribe([JOB_ENQUEUED], log)
    await client.enqueue_to("q", "Ruby::Job", 1)
    await client.enqueue_many("Ruby::Job", [(1,), (2,)], queue="q")
    assert [(event.measurements["count"], event.metadata["queue"]) for event in log.events] == [(1, "q"), (2, "q")]


async def test_arguments_json_cannot_carry_are_refused_before_any_hook_runs(client: AsyncResque) -> None:
    with pytest.raises(NotSerializableError):
        await client.enqueue(Hooked, {1, 2})
    assert calls == []


async def test_a_class_without_a_queue_a_naive_time_and_an_oversized_payload_are_refused() -> None:
    resque = AsyncResque(fakeredis.FakeAsyncRedis(), max_payload_bytes=100)
    with pytest.raises(NoQueueError):
        await resque.enqueue("Ruby::Job", 1)
    with pytest.raises(ScheduleError):
        await resque.enqueue_at_with_queue("q", datetime(2030, 1, 1), "Ruby::Job", 1)
    with pytest.raises(PayloadTooLargeError):
        await resque.enqueue_to("q", "Ruby::Job", "x" * 200)
    assert await resque.queues() == []


async def test_an_unreachable_server_is_a_resque_connection_error() -> None:
    resque = AsyncResque("redis://127.0.0.1:1/0", socket_timeout=0.5)
    with pytest.raises(ResqueConnectionError, match=r"redis://127\.0\.0\.1:1/0"):
        await resque.enqueue_to("q", "Ruby::Job", 1)


async def test_durable_writes_wait_for_a_replica_of_a_sentinel_primary(redis_sentinel: SentinelTopology) -> None:
    async with AsyncResque(f"{redis_sentinel.url}?wait_replicas=1&namespace=durable") as resque:
        assert await resque.enqueue_to("q", "Ruby::Job", 1)
        assert await resque.size("q") == 1
        await resque.destroy("q", "Ruby::Job")


async def test_more_replicas_than_the_primary_has_is_refused_at_the_first_write(redis_server: RedisServer) -> None:
    async with AsyncResque(f"{redis_server.url}?wait_replicas=1&namespace=durable") as resque:
        with pytest.raises(ConfigurationError, match="wait_replicas=1"):
            await resque.enqueue_to("q", "Ruby::Job", 1)
        assert await resque.size("q") == 0


async def test_an_unconfirmed_durable_write_raises_a_durability_error(redis_server: RedisServer) -> None:
    namespace = "unconfirmed"
    resque = AsyncResque(redis_server.url, namespace=namespace, wait_replicas=1, wait_timeout=0.05)
    resque._replicas_checked = True  # as if a replica had been there at the first write and left since
    with pytest.raises(DurabilityError, match="only 0 of 1 replicas"):
        await resque.enqueue_to("q", "Ruby::Job", 1)
    assert await resque.size("q") == 1  # on the primary, but not confirmed
    await resque.destroy("q", "Ruby::Job")
    await resque.aclose()


async def test_a_client_that_decodes_replies_is_given_a_bytes_twin(redis_server: RedisServer) -> None:
    import redis.asyncio

    client: Any = redis.asyncio.Redis.from_url(redis_server.url, decode_responses=True)
    async with AsyncResque(client, namespace="decoding") as resque:
        await resque.enqueue_to("q", "Ruby::Job", "é")
        assert await resque.peek_raw("q") == ['{"class":"Ruby::Job","args":["é"]}'.encode()]
        await resque.destroy("q", "Ruby::Job")
    await client.aclose()
