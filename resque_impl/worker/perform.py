"""Running one reserved job in this process and turning what happened into an :class:`Outcome`.

Semantics are Ruby Resque's ``Job#perform`` and ``Job#fail``: hooks and ``perform`` run through
:class:`resque_impl.hooks.Execution` (``on_failure`` hooks once per failed job), a payload naming an
unregistered class fails as ``NameError`` without hooks, and bytes that are not a payload fail with
the bytes kept in the record. Nothing here talks to Redis: the record is saved when the job is
acknowledged.
"""

from __future__ import annotations

from collections.abc import Callable

from resque_impl.client import Resque
from resque_impl.codec import MAX_NESTING, RAW_PAYLOAD_KEEP, Payload, nesting
from resque_impl.errors import (
    FailureHookError,
    PayloadDecodeError,
    UnknownJobClassError,
    exception_message,
    exception_name,
)
from resque_impl.failure import build_record
from resque_impl.hooks import Execution
from resque_impl.instrumentation import performing
from resque_impl.worker.outcome import PERFORMED, SKIPPED, Outcome, ReservedJob

__all__ = ["failure_outcome", "perform_in_process", "run_failure_hooks"]


def failure_outcome(resque: Resque, job: ReservedJob, error: BaseException, worker_id: str) -> Outcome:
    """A failed :class:`Outcome` for ``job`` with its record built now (hooks are the caller's business).

    A payload this worker refused to run (not a payload, or naming a class nobody registered here) is
    recorded as its bytes, cut to 64 KB when larger, so a hostile payload cannot make a huge record;
    but a JSON object naming a class (one whose ``args`` are not a list) is recorded as that object,
    as Ruby records it, when no larger than that.
    """
    body: Payload | bytes = job.raw
    if job.payload is not None and not (isinstance(error, UnknownJobClassError) and len(job.raw) > RAW_PAYLOAD_KEEP):
        body = job.payload
    record = _record_of_object(resque, job, error, worker_id) if job.payload is None else None
    if record is None:
        record = resque.failure_record(job.queue, body, error, worker=worker_id)
    return Outcome("failed", exception_name(error), exception_message(error), record)


def _record_of_object(resque: Resque, job: ReservedJob, error: BaseException, worker_id: str) -> bytes | None:
    if len(job.raw) > RAW_PAYLOAD_KEEP:
        return None
    data = job.payload_object()
    # The record nests the object one level deeper; Ruby reads no more than MAX_NESTING levels.
    if data is None or nesting(data) >= MAX_NESTING:
        return None
    try:
        return build_record(data, error, worker=worker_id, queue=job.queue, now=resque.clock.time())
    except (ValueError, UnicodeError):  # text JSON cannot write back (a lone surrogate escape)
        return None


def run_failure_hooks(resque: Resque, job: ReservedJob, error: BaseException) -> BaseException:
    """Run the job class's ``on_failure`` hooks for an error found outside the job (its process died,
    it timed out, its worker vanished), as Ruby's ``Job#fail`` does; returns the error to record (a
    :class:`FailureHookError` if a hook raised). Jobs of unknown classes have no hooks."""
    job_class = resque.registry.get(job.class_name) if job.class_name else None
    if job_class is None:
        return error
    try:
        Execution(job_class, job.args, job=job.as_queued()).run_failure_hooks(error)
    except FailureHookError as hook_error:
        return hook_error
    return error


def perform_in_process(
    resque: Resque, job: ReservedJob, worker_id: str, timer: Callable[[], float] | None = None
) -> Outcome:
    """Run ``job`` here and now; never raises except ``KeyboardInterrupt``. With a ``timer``, the
    outcome's ``perform_time`` is how long ``perform`` itself ran (when it was called)."""
    if job.payload is None:
        problem = job.decode_error or PayloadDecodeError("payload could not be read", job.raw)
        return failure_outcome(resque, job, problem, worker_id)
    execution: Execution | None = None
    try:
        # A tracer's perform span (resque_impl.instrumentation) sees an unknown class fail as the job.
        with performing(job.queue, job.payload):
            job_class = resque.registry.resolve(job.payload.class_name)
            execution = Execution(job_class, job.payload.args, job=job.as_queued(), timer=timer)
            outcome = PERFORMED if execution.perform() else SKIPPED
    except UnknownJobClassError as error:
        return failure_outcome(resque, job, error, worker_id)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit and TermException from a job are failures too, as in Ruby
        outcome = failure_outcome(resque, job, error, worker_id)
    seconds = execution.perform_time if execution is not None else None
    return outcome if seconds is None else outcome.timed(seconds)
