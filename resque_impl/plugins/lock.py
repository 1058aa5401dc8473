"""Job locks: at most one job holding a given lock runs at a time.

::

    class SyncAccount(Lock, resque_impl.Job):
        queue = "sync"
        lock_timeout = 600          # seconds; a crashed worker's lock is gone after this
        lock_retry_delay = 5        # a job that finds the lock taken runs again this much later
                                    # (0: at the back of its queue now; None: it is dropped)

        @classmethod
        def lock_name(cls, account_id, *rest):
            return f"account:{account_id}"      # default: the class and all its arguments

An ``around_perform`` hook takes ``plugins:lock:<name>`` for this run (owned by a random token, so
only this run frees it) and frees it when ``perform`` ends; a job that finds it taken does not run and
is put back as it was (payload extras kept). A job that runs longer than ``lock_timeout`` loses the
lock, so set it above the longest run you expect.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Generator
from typing import Any, ClassVar

from resque_impl.codec import Payload
from resque_impl.hooks import current_job
from resque_impl.job import queue_of
from resque_impl.plugins.base import args_digest, resque_for

__all__ = ["Lock"]

log = logging.getLogger(__name__)


class Lock:
    """Mixin for job classes: one run at a time per lock name (see the module docstring)."""

    lock_timeout: ClassVar[float] = 3600.0
    lock_retry_delay: ClassVar[float | None] = 5.0

    @classmethod
    def lock_name(cls, *args: Any) -> str:
        """What runs exclusively; by default this class with exactly these arguments."""
        return f"{resque_for(cls).registry.name_of(cls)}:{args_digest(args)}"

    @classmethod
    def around_perform_lock(cls, *args: Any) -> Generator[None, None, None]:
        resque = resque_for(cls)
        key = resque.keys.job_lock(cls.lock_name(*args))
        token = uuid.uuid4().hex
        if not resque.store.lock_acquire(key, token, cls.lock_timeout):
            cls._put_back(args)
            return
        try:
            yield
        finally:
            resque.store.lock_release(key, token)

    @classmethod
    def _put_back(cls, args: tuple[Any, ...]) -> None:
        delay = cls.lock_retry_delay
        resque = resque_for(cls)
        job = current_job()
        name = resque.registry.name_of(cls)
        queue = job.queue if job is not None else queue_of(cls)
        if delay is None or queue is None:
            log.info("%s: lock taken; job dropped", name)
            return
        extras = {key: value for key, value in job.payload.extras.items() if key != "enqueued_at"} if job else {}
        payload = Payload(name, list(args), extras)
        if delay > 0:
            resque.push_at(resque.clock.time() + delay, queue, payload)
        else:
            resque.push(queue, payload)
        log.info("%s: lock taken; job put back on %s in %gs", name, queue, delay)
