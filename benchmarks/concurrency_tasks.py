"""The jobs of the concurrency benchmark (:mod:`benchmarks.concurrency_peers`), ours and the peers' alike:
each waits (or computes) the same way and records when it started and ended with one RPUSH to
:data:`DONE_KEY` on the server named by ``BENCH_REDIS_URL``, so every system is timed from its first job
to its last done, by the same clock, at the same cost per job.

The peers' job definitions (:mod:`benchmarks.peer_dramatiq`, :mod:`benchmarks.peer_celery`,
:mod:`benchmarks.peer_arq`) call :func:`record` and :func:`arecord` from here.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time

import redis
import redis.asyncio

from resque_impl import job

__all__ = ["CPU_LOOPS", "DONE_KEY", "AsyncIoWait", "CpuWork", "IoWait", "arecord", "burn", "record"]

DONE_KEY = "bench:done"
#: Iterations of :func:`burn`: about 20 ms of one core on a 2020s x86 machine.
CPU_LOOPS = 200_000

_clients: dict[int, redis.asyncio.Redis] = {}


def _pool_size() -> int:
    # Every slot may record at once: redis-py 8's default pool (100 connections) would fail jobs at N = 200.
    return max(100, int(os.environ.get("BENCH_CONCURRENCY", "1")) + 10)


@functools.cache
def _sync_client() -> redis.Redis:
    # One client (and connection pool) shared by the process's threads.
    return redis.Redis.from_url(os.environ["BENCH_REDIS_URL"], max_connections=_pool_size())


def record(started: float) -> None:
    """Record one job that started at ``started`` (``time.time()``) and ends now."""
    _sync_client().rpush(DONE_KEY, f"{started!r} {time.time()!r}")


async def arecord(started: float) -> None:
    """:func:`record` from a coroutine, without blocking the event loop (one client per running loop)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        url = os.environ["BENCH_REDIS_URL"]
        client = _clients[id(loop)] = redis.asyncio.Redis.from_url(url, max_connections=_pool_size())
    await client.rpush(DONE_KEY, f"{started!r} {time.time()!r}")


def burn(loops: int) -> int:
    """Pure-Python arithmetic holding the GIL throughout: a CPU-bound job's work."""
    total = 0
    for n in range(loops):
        total += n * n % 7
    return total


@job(queue="io", name="Bench::IoWait")
class IoWait:
    """Waits ``ms`` milliseconds in a thread, as a job waiting on the network does (the GIL is free)."""

    @staticmethod
    def perform(ms: int) -> None:
        started = time.time()
        time.sleep(ms / 1000)
        record(started)


@job(queue="io", name="Bench::AsyncIoWait")
class AsyncIoWait:
    """:class:`IoWait` as ``async def``, awaited on the worker's event loop."""

    @staticmethod
    async def perform(ms: int) -> None:
        started = time.time()
        await asyncio.sleep(ms / 1000)
        await arecord(started)


@job(queue="io", name="Bench::CpuWork")
class CpuWork:
    """Computes for about 20 ms, holding the GIL."""

    @staticmethod
    def perform(loops: int) -> None:
        started = time.time()
        burn(loops)
        record(started)
