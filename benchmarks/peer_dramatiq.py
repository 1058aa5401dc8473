"""The concurrency benchmark's job for Dramatiq (``dramatiq benchmarks.peer_dramatiq --threads N``): the
broker is the Redis server named by ``BENCH_REDIS_URL``, read when this module is imported, which is how
Dramatiq's CLI finds actors and their broker."""

from __future__ import annotations

import os
import time

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from benchmarks.concurrency_tasks import record

__all__ = ["io_wait"]

dramatiq.set_broker(RedisBroker(url=os.environ["BENCH_REDIS_URL"]))


@dramatiq.actor(queue_name="io", max_retries=0)
def io_wait(ms: int) -> None:
    started = time.time()
    time.sleep(ms / 1000)
    record(started)
