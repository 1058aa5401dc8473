"""Fake and inline modes take in AsyncResque as they take in Resque, and inline mode runs ``async def
perform`` jobs to completion on a loop of their own, as a worker would."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest

from resque_impl import Resque
from resque_impl.aio import AsyncResque
from resque_impl.errors import NotSerializableError
from resque_impl.hooks import current_job
from resque_impl.testing import InlineDepthError, Sandbox, fake_mode, inline_mode

ran: list[Any] = []


class AioSyncJob:
    queue = "sync"

    @staticmethod
    def perform(n: int, data: Any = None) -> None:
        ran.append(("sync", n, data))


class AioAsyncJob:
    queue = "async"

    @staticmethod
    async def before_perform_note(n: int) -> None:
        ran.append(("before", n))

    @staticmethod
    async def perform(n: int) -> None:
        await asyncio.sleep(0)
        job = current_job()
        ran.append(("async", n, job.queue if job else None, asyncio.get_running_loop()))


class AioFailingJob:
    queue = "failing"

    @staticmethod
    async def perform(n: int) -> None:
        raise ValueError(f"no {n}")


class AioRecursive:
    queue = "recursive"
    resque: AsyncResque | None = None

    @classmethod
    async def perform(cls, n: int) -> None:
        assert cls.resque is not None
        await cls.resque.enqueue(cls, n + 1)


class NeedsTheCallersLoop:
    """A job that awaits something of the loop that enqueued it: it cannot work in a worker."""

    queue = "loop"
    waiting_on: asyncio.Future[None] | None = None

    @classmethod
    async def perform(cls) -> None:
        assert cls.waiting_on is not None
        await cls.waiting_on


@pytest.fixture
def app() -> Iterator[AsyncResque]:
    """The application's client, configured for a Redis the test modes must keep it from."""
    ran.clear()
    server = fakeredis.FakeServer()
    resque = AsyncResque(fakeredis.FakeAsyncRedis(server=server), namespace="app")
    resque.untouched = fakeredis.FakeRedis(server=server)  # type: ignore[attr-defined]
    yield resque
    assert resque.untouched.keys() == []  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_fake_mode_captures_async_enqueues_for_the_same_assertions(app: AsyncResque) -> None:
    with fake_mode() as fake:
        await app.enqueue(AioSyncJob, 1, {"k": (1, 2)})
        await app.enqueue_in(60, AioAsyncJob, 2)
        fake.assert_enqueued(AioSyncJob, 1, {"k": [1, 2]})
        fake.assert_scheduled(AioAsyncJob, 2)
        assert await app.size("sync") == 1
        assert [job.args for job in await app.peek("sync")] == [[1, {"k": [1, 2]}]]
        fake.advance(60)
        fake.assert_enqueued(AioAsyncJob, 2, queue="async")
    assert ran == []


@pytest.mark.asyncio
async def test_inline_mode_runs_a_plain_perform_at_enqueue(app: AsyncResque) -> None:
    with inline_mode() as inline:
        await app.enqueue(AioSyncJob, 1, (1, "x"))
        assert ran == [("sync", 1, [1, "x"])]  # after the JSON round trip, as a worker sees it
        inline.assert_performed(AioSyncJob, 1, [1, "x"])


@pytest.mark.asyncio
async def test_inline_mode_awaits_an_async_perform_on_a_loop_of_its_own(app: AsyncResque) -> None:
    with inline_mode():
        await app.enqueue(AioAsyncJob, 7)
    assert ran[0] == ("before", 7)
    kind, n, queue, loop = ran[1]
    assert (kind, n, queue) == ("async", 7, "async")
    assert loop is not asyncio.get_running_loop()


@pytest.mark.asyncio
async def test_arguments_json_cannot_carry_fail_in_inline_mode_as_in_production(app: AsyncResque) -> None:
    with inline_mode(), pytest.raises(NotSerializableError):
        await app.enqueue(AioSyncJob, 1, {1: "int key"})
    assert ran == []


@pytest.mark.asyncio
async def test_an_async_jobs_error_reaches_the_enqueuer_or_becomes_a_failure_record(app: AsyncResque) -> None:
    with inline_mode(), pytest.raises(ValueError, match="no 3"):
        await app.enqueue(AioFailingJob, 3)
    with inline_mode(record_failures=True) as inline:
        await app.enqueue(AioFailingJob, 4)
        assert [record.error for record in inline.failures] == ["no 4"]


@pytest.mark.asyncio
async def test_a_job_that_needs_the_enqueuing_loop_fails_inline_as_it_would_in_a_worker(app: AsyncResque) -> None:
    NeedsTheCallersLoop.waiting_on = asyncio.get_running_loop().create_future()
    with inline_mode(), pytest.raises(RuntimeError, match="different loop"):
        await app.enqueue(NeedsTheCallersLoop)


@pytest.mark.asyncio
async def test_async_jobs_enqueuing_themselves_stop_at_the_depth_limit(app: AsyncResque) -> None:
    AioRecursive.resque = app
    with inline_mode(max_depth=5), pytest.raises(InlineDepthError):
        await app.enqueue(AioRecursive, 0)


@pytest.mark.asyncio
async def test_delayed_now_runs_an_async_scheduled_job_at_once(app: AsyncResque) -> None:
    with inline_mode(delayed="now"):
        await app.enqueue_in(3600, AioAsyncJob, 1)
    assert [entry[:2] for entry in ran] == [("before", 1), ("async", 1)]


@pytest.mark.asyncio
async def test_a_sync_client_in_async_code_runs_an_async_job_inline_too() -> None:
    ran.clear()
    with inline_mode():
        Resque(fakeredis.FakeRedis()).enqueue(AioAsyncJob, 2)
    assert [entry[:2] for entry in ran] == [("before", 2), ("async", 2)]


def test_a_sync_client_runs_an_async_job_inline_without_any_loop() -> None:
    ran.clear()
    with inline_mode():
        Resque(fakeredis.FakeRedis()).enqueue(AioAsyncJob, 3)
    assert [entry[:2] for entry in ran] == [("before", 3), ("async", 3)]


@pytest.mark.asyncio
@pytest.mark.resque(mode="inline")
async def test_the_pytest_plugins_inline_fixture_covers_async_enqueues(
    resque_inline: Sandbox, app: AsyncResque
) -> None:
    await app.enqueue(AioAsyncJob, 5)
    resque_inline.assert_performed(AioAsyncJob, 5)


@pytest.mark.asyncio
async def test_the_pytest_plugins_fake_fixture_covers_async_enqueues(resque_fake: Sandbox, app: AsyncResque) -> None:
    await app.enqueue_to("elsewhere", AioSyncJob, 6)
    resque_fake.assert_enqueued(AioSyncJob, 6, queue="elsewhere")
    resque_fake.drain()
    assert ran == [("sync", 6, None)]
