"""Limits on a job and on a worker's life: the job timeout, the memory limit, and the restart policies.

A job's timeout is its class's ``job_timeout`` attribute (seconds) if set, else the worker's
``job_timeout`` option. A worker stops after the job that reaches ``max_jobs``, or after a job when its
resident memory exceeds ``max_memory_mb``, exiting with code 0 so a supervisor (systemd, Kubernetes,
``--count``) starts a fresh one. A job run in the worker's own process is interrupted as soon as the
process goes over ``max_memory_mb`` (:func:`alarm`), and the worker then stops for a fresh one; a forked
job's child is watched by the parent instead (see :mod:`.forking`).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from resque_impl.errors import JobTimeoutError, MemoryLimitError
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.memory import rss_mb
from resque_impl.worker.outcome import ReservedJob

__all__ = ["MEMORY_POLL", "Watch", "alarm", "job_timeout", "restart_reason"]

#: Seconds between two readings of resident memory while a job runs under a memory limit.
MEMORY_POLL = 0.1


def job_timeout(worker: LoopWorker, job: ReservedJob) -> float | None:
    """Seconds ``job`` may run, or ``None`` for no limit."""
    job_class = worker.resque.registry.get(job.class_name) if job.class_name else None
    value = getattr(job_class, "job_timeout", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return worker.options.job_timeout


def restart_reason(worker: LoopWorker, processed: int) -> str | None:
    """Why the worker should stop, having processed ``processed`` jobs, for a fresh one to take over;
    ``None`` to go on."""
    options = worker.options
    if options.max_jobs is not None and processed >= options.max_jobs:
        return f"processed {processed} jobs (max jobs {options.max_jobs})"
    if options.max_memory_mb is not None:
        used = rss_mb()
        if used > options.max_memory_mb:
            return f"resident memory {used:.0f} MB is over the {options.max_memory_mb:g} MB limit"
    return None


@dataclass
class Watch:
    """What :func:`alarm` saw: the resident memory (MB) that went over the limit, if it did."""

    memory_mb: float | None = None


@contextlib.contextmanager
def alarm(seconds: float | None, memory_limit_mb: float | None = None) -> Iterator[Watch]:
    """Raise :class:`JobTimeoutError` in this (main) thread after ``seconds``, and
    :class:`MemoryLimitError` once this process's resident memory goes over ``memory_limit_mb`` (read
    every :data:`MEMORY_POLL` seconds by a watcher thread, which signals this one): the limits of a job
    run in the worker's own process. Does nothing without limits or off the main thread."""
    watch = Watch()
    if (seconds is None and memory_limit_mb is None) or threading.current_thread() is not threading.main_thread():
        yield watch
        return
    armed = True

    def expire(signum: int, frame: FrameType | None) -> None:
        if not armed:  # struck while leaving: the job is over, nothing to interrupt
            return
        if watch.memory_mb is not None:
            raise MemoryLimitError(
                f"job's process reached {watch.memory_mb:.0f} MB, over the {memory_limit_mb:g} MB limit, "
                "and the job was interrupted"
            )
        raise JobTimeoutError(f"job ran longer than its {seconds:g} s timeout and was interrupted")

    main = threading.main_thread().ident
    stop = threading.Event()

    def patrol(limit: float) -> None:
        while not stop.wait(MEMORY_POLL):
            used = rss_mb()
            if used > limit:
                watch.memory_mb = used
                signal.pthread_kill(main, signal.SIGALRM)  # type: ignore[arg-type]
                return

    previous = signal.signal(signal.SIGALRM, expire)
    if seconds is not None:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    watcher = None
    if memory_limit_mb is not None:
        watcher = threading.Thread(target=patrol, args=(memory_limit_mb,), name="resque-memory-watch", daemon=True)
        watcher.start()
    try:
        yield watch
    finally:
        armed = False
        stop.set()
        signal.setitimer(signal.ITIMER_REAL, 0)
        if watcher is not None:
            watcher.join()
        signal.signal(signal.SIGALRM, previous)
