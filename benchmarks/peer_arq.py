"""The concurrency benchmark's job for arq (``arq benchmarks.peer_arq.WorkerSettings``): the Redis server
is ``BENCH_REDIS_URL`` and ``max_jobs`` is ``BENCH_CONCURRENCY``, read when this module is imported, which
is how arq's CLI reads its settings."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from arq.connections import RedisSettings

from benchmarks.concurrency_tasks import arecord

__all__ = ["WorkerSettings", "io_wait"]


async def io_wait(ctx: dict[str, Any], ms: int) -> None:
    started = time.time()
    await asyncio.sleep(ms / 1000)
    await arecord(started)


class WorkerSettings:
    functions = [io_wait]  # noqa: RUF012 - arq reads these class attributes
    redis_settings = RedisSettings.from_dsn(os.environ["BENCH_REDIS_URL"])
    max_jobs = int(os.environ.get("BENCH_CONCURRENCY", "10"))
