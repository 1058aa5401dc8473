"""python-rq, driven the way the benchmarks drive our worker, when it is installed (``pip install
'.[bench]'``). Every function here is a no-op report of absence (``None``) without it.

rq is measured as it ships: its ``SimpleWorker`` (no fork) and ``Worker`` (a work horse forked per job),
burst mode, default result TTL, logging at WARNING so neither side pays for printing.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

import redis

from benchmarks._common import installed_version
from benchmarks.tasks import noop, stamp

__all__ = ["drain", "enqueue", "enqueue_many", "fill", "installed", "version"]

QUEUE = "bench"


def version() -> str | None:
    """rq's version, or None when it is not installed."""
    return installed_version("rq")


def installed() -> bool:
    return version() is not None


def _rq() -> Any:
    # Imported on first use: the suite runs without rq, and importing it costs every section memory.
    return importlib.import_module("rq")


def _queue(client: redis.Redis, name: str = QUEUE) -> Any:
    return _rq().Queue(name, connection=client)


def fill(client: redis.Redis, jobs: int) -> None:
    """Empty the database, then queue ``jobs`` no-op jobs with rq's bulk enqueue."""
    rq = _rq()
    client.flushdb()
    queue = _queue(client)
    batch = 5_000
    for start in range(0, jobs, batch):
        queue.enqueue_many([rq.Queue.prepare_data(noop, (n,)) for n in range(start, min(jobs, start + batch))])


def enqueue(client: redis.Redis, jobs: int) -> None:
    """``jobs`` single ``Queue.enqueue`` calls."""
    queue = _queue(client)
    for n in range(jobs):
        queue.enqueue(noop, n)


def enqueue_many(client: redis.Redis, jobs: int) -> None:
    """One ``Queue.enqueue_many`` of ``jobs`` jobs."""
    rq = _rq()
    _queue(client).enqueue_many([rq.Queue.prepare_data(noop, (n,)) for n in range(jobs)])


def enqueue_stamp(client: redis.Redis, pushed_at: float) -> None:
    _queue(client, "latency").enqueue(stamp, pushed_at)


def _without_command_channel(worker_class: Any) -> Any:
    """``worker_class`` without its pub/sub command listener. With redis-py 8.2, rq 3.0's listener
    thread can stop only after waiting out its 60 s poll for a subscription that its own shutdown just
    ended, so a burst worker's exit stalls now and then for up to a minute; the listener takes no part
    in working jobs, so leaving it out changes no per-job figure."""

    class Worker(worker_class):  # type: ignore[misc]
        def subscribe(self) -> None:
            self.pubsub_thread = None

        def unsubscribe(self) -> None:
            return None

    return Worker


def drain(client: redis.Redis, fork: bool) -> None:
    """Work the ``bench`` queue empty with a ``Worker`` (fork) or ``SimpleWorker``, in burst mode."""
    rq = _rq()
    worker_class = _without_command_channel(rq.Worker if fork else rq.SimpleWorker)
    worker = worker_class([_queue(client)], connection=client)
    worker.work(burst=True, logging_level=logging.WARNING)
