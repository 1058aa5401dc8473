"""Enqueuing ActiveJob jobs for Rails: :meth:`ActiveJobs.enqueue_active_job`, mixed into
:class:`~resque_impl.client.Resque`.

::

    job_id = r.enqueue_active_job("InvoiceJob", 42, amount=Decimal("9.99"), queue="mailers")
    r.enqueue_active_job("ReminderJob", GlobalID("gid://app/User/7"), wait=timedelta(hours=1))

The payload is byte for byte what Rails 6.1's ``InvoiceJob.set(queue: :mailers).perform_later(...)``
writes through Resque (only ``job_id`` and ``enqueued_at`` differ, as they do between two Rails calls);
``wait``/``wait_until`` go through resque-scheduler's ``enqueue_at_with_queue``, as Rails' adapter does.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from resque_impl.activejob.arguments import serialize_arguments
from resque_impl.activejob.envelope import WRAPPER_CLASS, JobData
from resque_impl.activejob.job import ActiveJob
from resque_impl.activejob.serializers import format_time
from resque_impl.errors import NoClassError, ScheduleError

if TYPE_CHECKING:
    from resque_impl.clock import Clock
    from resque_impl.delayed import When

__all__ = ["ActiveJobs", "build_job_data"]


def build_job_data(
    job_class: str | type[ActiveJob],
    args: tuple[Any, ...] | list[Any],
    kwargs: Mapping[str, Any],
    *,
    queue: str | None,
    now: float,
) -> JobData:
    """The job hash Rails would write for ``job_class`` with these arguments, enqueued at ``now``.

    Raises :class:`~resque_impl.errors.SerializationError` for an argument Rails could not read and
    :class:`~resque_impl.errors.NoClassError` for an empty class name.
    """
    if isinstance(job_class, type) and issubclass(job_class, ActiveJob):
        name, default_queue = job_class.job_class, job_class.queue_as
    elif isinstance(job_class, str) and job_class.strip():
        name, default_queue = job_class, "default"
    else:
        raise NoClassError(f"an ActiveJob job needs a class name or an ActiveJob subclass, got {job_class!r}")
    return JobData(
        job_class=name,
        job_id=str(uuid.uuid4()),
        queue_name=queue if queue is not None else default_queue,
        arguments=serialize_arguments(args, kwargs),
        enqueued_at=format_time(datetime.fromtimestamp(math.floor(now), timezone.utc), digits=0),
    )


class ActiveJobs:
    """Rails' ``perform_later`` from Python (see the module docstring)."""

    if TYPE_CHECKING:

        @property
        def clock(self) -> Clock: ...

        def enqueue_to(self, queue: str | None, job_class: type | str, *args: Any) -> bool: ...
        def enqueue_at_with_queue(self, queue: str, when: When, job_class: type | str, *args: Any) -> bool: ...

    def enqueue_active_job(
        self,
        job_class: str | type[ActiveJob],
        *args: Any,
        queue: str | None = None,
        wait: timedelta | float | None = None,
        wait_until: When | None = None,
        **kwargs: Any,
    ) -> str:
        """Enqueue ``job_class`` (a Rails class name such as ``"Billing::InvoiceJob"``, or an
        :class:`~resque_impl.activejob.ActiveJob` subclass) as Rails' ``perform_later`` does, and
        return its ``job_id``.

        :param args: the job's arguments; ``kwargs`` arrive in Rails as keyword arguments (so a Rails
            job cannot be given keywords named ``queue``, ``wait`` or ``wait_until`` this way).
        :param queue: the queue (default: the class's ``queue_as``, or ``"default"`` for a name).
        :param wait: seconds or a ``timedelta`` from now, like ``set(wait: ...)``; a negative wait
            enqueues at once, as resque-scheduler does.
        :param wait_until: an aware ``datetime`` or epoch seconds, like ``set(wait_until: ...)``.
        :raises SerializationError: an argument Rails could not read; nothing was written.
        :raises ScheduleError: both ``wait`` and ``wait_until``, or an unusable time or delay.
        """
        if wait is not None and wait_until is not None:
            raise ScheduleError("give wait or wait_until, not both")
        if wait is not None and (isinstance(wait, bool) or not isinstance(wait, (int, float, timedelta))):
            raise ScheduleError(f"wait must be seconds or a timedelta, not {type(wait).__name__}")
        now = self.clock.time()
        job_data = build_job_data(job_class, args, kwargs, queue=queue, now=now)
        body = job_data.to_dict()
        if wait is not None:
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else wait
            self.enqueue_at_with_queue(job_data.queue_name, now + seconds, WRAPPER_CLASS, body)
        elif wait_until is not None:
            self.enqueue_at_with_queue(job_data.queue_name, wait_until, WRAPPER_CLASS, body)
        else:
            self.enqueue_to(job_data.queue_name, WRAPPER_CLASS, body)
        return job_data.job_id
