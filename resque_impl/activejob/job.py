"""Python jobs that run what Rails' ActiveJob enqueues, and the wrapper that dispatches to them.

Rails enqueues every ActiveJob job as a Resque job of class :data:`WRAPPER_CLASS` whose one argument
names the real job (``"job_class": "InvoiceJob"``). :class:`JobWrapper` is registered under that name
in the default registry, so any worker runs these payloads; it reads the job hash, finds the
:class:`ActiveJob` subclass registered under ``job_class`` and calls its ``perform`` with the
deserialized arguments. What goes wrong is an ordinary Resque failure, recorded with the whole
payload: ``ActiveJob::DeserializationError`` for a payload it cannot read, ``NameError`` for a
``job_class`` no Python class takes (nothing is ever imported), the job's own exception otherwise.

A worker built with its own :class:`~resque_impl.registry.Registry` runs them after
``registry.register(JobWrapper, WRAPPER_CLASS)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from resque_impl.activejob.arguments import deserialize_arguments
from resque_impl.activejob.envelope import WRAPPER_CLASS, JobData
from resque_impl.activejob.serializers import parse_time
from resque_impl.errors import DeserializationError
from resque_impl.registry import Registry, default_name, default_registry

__all__ = ["ActiveJob", "JobWrapper", "active_job_registry"]

#: ActiveJob classes by their Rails name (``job_class``); separate from Resque class names, which
#: may well be the same strings.
active_job_registry = Registry()


class ActiveJob:
    """Base class for Python jobs that Rails enqueues with ``perform_later``.

    ::

        class InvoiceJob(ActiveJob):
            queue_as = "mailers"                 # where enqueue_active_job(InvoiceJob, ...) puts it
            def perform(self, invoice_id, *, amount):
                print(self.job_id, self.executions, invoice_id, amount)

    A subclass runs the payloads whose ``job_class`` is its ``job_class`` attribute, by default its
    qualified name in Ruby's spelling (``Billing.ChargeJob`` -> ``Billing::ChargeJob``); set it for a
    Ruby name that differs. ``register=False`` in the class statement makes an abstract base.

    Each run gets a fresh instance carrying ActiveJob's fields: :attr:`job_id`, :attr:`queue_name`,
    :attr:`priority`, :attr:`executions` (1 on the first run, as in Rails' ``perform``),
    :attr:`exception_executions`, :attr:`locale`, :attr:`timezone`, :attr:`enqueued_at` (an aware
    ``datetime`` or ``None``), :attr:`provider_job_id` and the whole :attr:`job_data`.
    """

    job_class: ClassVar[str]
    queue_as: ClassVar[str] = "default"
    #: Not a Resque job class: ``--jobs`` must not register it under its own name (JobWrapper runs it).
    registers_itself: ClassVar[bool] = True

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "job_class" not in cls.__dict__:
            cls.job_class = default_name(cls)
        if register:
            active_job_registry.register(cls, cls.job_class)

    def __init__(self, job_data: JobData) -> None:
        self.job_data = job_data
        self.job_id = job_data.job_id
        self.provider_job_id = job_data.provider_job_id
        self.queue_name = job_data.queue_name
        self.priority = job_data.priority
        self.executions = job_data.executions + 1
        self.exception_executions = dict(job_data.exception_executions)
        self.locale = job_data.locale
        self.timezone = job_data.timezone
        self.enqueued_at: datetime | None = None
        if job_data.enqueued_at is not None:
            try:
                self.enqueued_at = parse_time(job_data.enqueued_at)
            except ValueError as error:
                raise DeserializationError(f"ActiveJob payload field 'enqueued_at': {error}") from None

    def perform(self, *args: Any, **kwargs: Any) -> None:
        """The job's work; Rails' keyword arguments arrive as keywords."""
        raise NotImplementedError(f"{type(self).__qualname__} must define perform")


class JobWrapper:
    """The Resque job class of every ActiveJob payload (see the module docstring)."""

    queue: ClassVar[str | None] = None

    @staticmethod
    def perform(*args: Any) -> None:
        """Run the ActiveJob job these payload ``args`` describe."""
        job_data = JobData.from_args(list(args))
        job_class = active_job_registry.resolve(job_data.job_class)
        positional, keywords = deserialize_arguments(job_data.arguments)
        job_class(job_data).perform(*positional, **keywords)

    @staticmethod
    def missing_class(args: list[Any]) -> str | None:
        """The ``job_class`` these payload ``args`` name if no Python class takes it, else ``None``
        (test modes do not run such a job, as they do not run a Resque class only Ruby defines)."""
        job = args[0] if len(args) == 1 else None
        name = job.get("job_class") if isinstance(job, dict) else None
        return name if isinstance(name, str) and name not in active_job_registry else None


default_registry.register(JobWrapper, WRAPPER_CLASS)
