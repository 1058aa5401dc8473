"""Rails ActiveJob interoperability: Python enqueues jobs Rails runs, and runs jobs Rails enqueues.

::

    from resque_impl.activejob import ActiveJob, GlobalID, Symbol

    class InvoiceJob(ActiveJob):                       # runs Rails' InvoiceJob.perform_later(...)
        def perform(self, user, *, amount): ...        # user: GlobalID("gid://app/User/42")

    job_id = resque.enqueue_active_job("ReportJob", Symbol("weekly"), queue="reports")

The wire format is Rails 6.1's ActiveJob over Resque (pinned by golden payloads captured from Rails);
:mod:`~resque_impl.activejob.arguments` lists how each Ruby value maps to Python. Test helpers for fake
mode are in :mod:`resque_impl.activejob.testing`.
"""

from resque_impl.activejob.arguments import deserialize_arguments, serialize_arguments
from resque_impl.activejob.envelope import WRAPPER_CLASS, JobData
from resque_impl.activejob.job import ActiveJob, JobWrapper, active_job_registry
from resque_impl.activejob.producer import ActiveJobs, build_job_data
from resque_impl.activejob.values import DateTime, GlobalID, IndifferentHash, RubyModule, Symbol, TimeWithZone
from resque_impl.errors import DeserializationError, SerializationError

__all__ = [
    # jobs
    "ActiveJob",
    "ActiveJobs",
    "JobData",
    "JobWrapper",
    "WRAPPER_CLASS",
    "active_job_registry",
    "build_job_data",
    # arguments
    "DateTime",
    "GlobalID",
    "IndifferentHash",
    "RubyModule",
    "Symbol",
    "TimeWithZone",
    "deserialize_arguments",
    "serialize_arguments",
    # errors
    "DeserializationError",
    "SerializationError",
]
