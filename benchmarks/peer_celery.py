"""The concurrency benchmark's job for Celery (``celery -A benchmarks.peer_celery worker --pool threads``):
the broker is the Redis server named by ``BENCH_REDIS_URL``; no result backend, as a fire-and-forget
job queue runs."""

from __future__ import annotations

import os
import time

from celery import Celery

from benchmarks.concurrency_tasks import record

__all__ = ["app", "io_wait"]

app = Celery("bench", broker=os.environ["BENCH_REDIS_URL"])
app.conf.task_ignore_result = True


@app.task(name="bench.io_wait")
def io_wait(ms: int) -> None:
    started = time.time()
    time.sleep(ms / 1000)
    record(started)
