"""The jobs the benchmarks run, for our workers and python-rq's alike, importable by worker processes
(``resque-impl work --jobs benchmarks.tasks``, ``rq worker`` with the repository on ``PYTHONPATH``).

Jobs that report something (their start time, the worker's memory) push it to a list on the Redis
server named by ``BENCH_REDIS_URL``, so a worker in another process can be measured; the time is read
before anything else, so connecting costs the figure nothing.
"""

from __future__ import annotations

import asyncio
import os
import time

import redis

from resque_impl import job
from resque_impl.worker.memory import rss_mb

__all__ = ["LATENCY_KEY", "RSS_KEY", "AsyncSleep", "Noop", "Rss", "Sleep", "Stamp", "noop", "stamp"]

LATENCY_KEY = "bench:latency"
RSS_KEY = "bench:rss"

_client: redis.Redis | None = None
_client_pid = 0


def _report(key: str, value: float) -> None:
    global _client, _client_pid
    # A forked job inherits its parent's client: its socket must not be shared, so each process opens its own.
    if _client is None or _client_pid != os.getpid():
        _client, _client_pid = redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]), os.getpid()
    _client.rpush(key, repr(value))


@job(queue="bench", name="Bench::Noop")
class Noop:
    """Does nothing: what a worker costs per job."""

    @staticmethod
    def perform(n: int) -> None:
        return None


@job(queue="latency", name="Bench::Stamp")
class Stamp:
    """Reports the seconds from ``pushed_at`` (``time.time()`` at enqueue) to the start of ``perform``."""

    @staticmethod
    def perform(pushed_at: float) -> None:
        _report(LATENCY_KEY, time.time() - pushed_at)


@job(queue="memory", name="Bench::Rss")
class Rss:
    """A no-op that reports the worker's resident memory (MB) when ``report`` is true."""

    @staticmethod
    def perform(n: int, report: bool) -> None:
        if report:
            _report(RSS_KEY, rss_mb())


def noop(n: int) -> None:
    """python-rq's no-op job."""


def stamp(pushed_at: float) -> None:
    """python-rq's latency job, as :class:`Stamp`."""
    _report(LATENCY_KEY, time.time() - pushed_at)


@job(queue="io", name="Bench::Sleep")
class Sleep:
    """Waits ``ms`` milliseconds, as a job waiting on the network does (the GIL is free meanwhile)."""

    @staticmethod
    def perform(ms: int) -> None:
        time.sleep(ms / 1000)


@job(queue="io", name="Bench::AsyncSleep")
class AsyncSleep:
    """:class:`Sleep` as ``async def``: awaits ``ms`` milliseconds."""

    @staticmethod
    async def perform(ms: int) -> None:
        await asyncio.sleep(ms / 1000)
