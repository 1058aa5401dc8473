"""Retry with backoff: a failed job is scheduled again, up to ``retry_limit`` times.

::

    class FetchFeed(Retry, resque_impl.Job):
        queue = "feeds"
        retry_limit = 5
        retry_backoff = "exponential"        # retry_delay * 2**(attempt-1), capped at retry_max_delay
        retry_delay = 15                     # or retry_backoff = [10, 60, 600] (the last repeats)
        retry_jitter = 0.1                   # each delay varied by up to +-10 %
        retry_exceptions = (TimeoutError, ConnectionError)

The attempt number travels in the payload, as the extra key ``"retry_attempt"`` (Ruby ignores it),
so any worker process can pick the retry up. Retries are scheduled with the delayed queue (the
scheduler enqueues them when due; a zero delay pushes at once) on the queue the job came from.

While retries remain, the exception is swallowed by an ``around_perform`` hook: no failure record,
and the job counts as processed. The last attempt's exception goes through as usual: ``on_failure``
hooks run and a failure record (whose payload shows the attempt) is written. Exceptions not in
``retry_exceptions`` are never retried. The hook needs the running job
(:func:`resque_impl.hooks.current_job`); without it nothing is retried.

Each retry is announced as ``job.retried`` (``source`` ``"retry_plugin"``, with the ``attempt`` and
the ``delay``) on the job's Resque; in a forked child the worker's process delivers it, before the
run's ``job.finished`` (see ``docs/events.md``).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Generator, Sequence
from typing import Any, ClassVar

from resque_impl.codec import Payload
from resque_impl.errors import exception_message, exception_name
from resque_impl.events import JOB_RETRIED
from resque_impl.hooks import current_job
from resque_impl.job import QueuedJob
from resque_impl.plugins.base import resque_for

__all__ = ["RETRY_ATTEMPT_KEY", "Retry"]

log = logging.getLogger(__name__)

#: The payload key that carries the attempt number of a retried job (1 for the first retry).
RETRY_ATTEMPT_KEY = "retry_attempt"


class Retry:
    """Mixin for job classes: retry failed runs with backoff (see the module docstring)."""

    retry_limit: ClassVar[int] = 3
    retry_backoff: ClassVar[str | Sequence[float]] = "exponential"
    retry_delay: ClassVar[float] = 15.0
    retry_max_delay: ClassVar[float] = 6 * 3600.0
    retry_jitter: ClassVar[float] = 0.0
    retry_exceptions: ClassVar[tuple[type[BaseException], ...]] = (Exception,)
    retry_random: ClassVar[random.Random] = random.Random()

    @classmethod
    def retry_delay_for(cls, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first), before jitter."""
        backoff = cls.retry_backoff
        if isinstance(backoff, str):
            if backoff == "exponential":
                return float(min(cls.retry_max_delay, cls.retry_delay * 2 ** (attempt - 1)))
            if backoff == "constant":
                return float(cls.retry_delay)
            raise ValueError(f"{cls.__name__}.retry_backoff must be 'exponential', 'constant' or a list of delays")
        if not backoff:
            return 0.0
        return float(backoff[min(attempt, len(backoff)) - 1])

    @classmethod
    def around_perform_retry(cls, *args: Any) -> Generator[None, None, None]:
        try:
            yield
        except cls.retry_exceptions as error:
            job = current_job()
            attempt = _attempt(job)
            if job is None or attempt >= cls.retry_limit:
                raise
            cls._schedule_retry(job, attempt + 1, error)

    @classmethod
    def _schedule_retry(cls, job: QueuedJob, attempt: int, error: BaseException) -> None:
        delay = cls.retry_delay_for(attempt)
        if cls.retry_jitter:
            delay *= 1 + cls.retry_random.uniform(-cls.retry_jitter, cls.retry_jitter)
        extras = {key: value for key, value in job.payload.extras.items() if key != "enqueued_at"}
        payload = Payload(job.class_name, job.args, {**extras, RETRY_ATTEMPT_KEY: attempt})
        resque = resque_for(cls)
        if delay > 0:
            resque.push_at(resque.clock.time() + delay, job.queue, payload)
        else:
            resque.push(job.queue, payload)
        if resque.events.listening(JOB_RETRIED):
            metadata = {
                "class": job.class_name,
                "queue": job.queue,
                "source": "retry_plugin",
                "attempt": attempt,
                "exception": exception_name(error),
                "error": exception_message(error),
            }
            resque.events.emit(JOB_RETRIED, {"count": 1, "delay": delay}, metadata)
        log.info(
            "%s failed (%s: %s); retry %d of %d in %.1fs",
            job.class_name, type(error).__name__, error, attempt, cls.retry_limit, delay,
        )  # fmt: skip


def _attempt(job: QueuedJob | None) -> int:
    value = job.payload.extras.get(RETRY_ATTEMPT_KEY, 0) if job is not None else 0
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
