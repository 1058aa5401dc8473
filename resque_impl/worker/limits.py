"""Limits on a job and on a worker's life: the job timeout, and the restart policies.

A job's timeout is its class's ``job_timeout`` attribute (seconds) if set, else the worker's
``job_timeout`` option. A worker stops after the job that reaches ``max_jobs``, or after a job when its
resident memory exceeds ``max_memory_mb``, exiting with code 0 so a supervisor (systemd, Kubernetes,
``--count``) starts a fresh one.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

from resque_impl.errors import JobTimeoutError
from resque_impl.worker.memory import rss_mb
from resque_impl.worker.outcome import ReservedJob

if TYPE_CHECKING:
    from resque_impl.worker.steps import Worker

__all__ = ["alarm", "job_timeout", "restart_reason"]


def job_timeout(worker: Worker, job: ReservedJob) -> float | None:
    """Seconds ``job`` may run, or ``None`` for no limit."""
    job_class = worker.resque.registry.get(job.class_name) if job.class_name else None
    value = getattr(job_class, "job_timeout", None)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    return worker.options.job_timeout


def restart_reason(worker: Worker, processed: int) -> str | None:
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


@contextlib.contextmanager
def alarm(seconds: float | None) -> Iterator[None]:
    """Raise :class:`JobTimeoutError` in this (main) thread after ``seconds``: the job timeout when jobs
    run in the worker's own process. Does nothing without a limit or off the main thread."""
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise JobTimeoutError(f"job ran longer than its {seconds:g} s timeout and was interrupted")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
