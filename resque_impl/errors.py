"""The exception tree: everything the library raises on purpose derives from :class:`ResqueError`.

::

    ResqueError
    ├── ConfigurationError          bad connection string, bad option value
    ├── ResqueConnectionError       Redis unreachable or dropped (wraps redis-py's error)
    ├── PayloadError
    │   ├── NotSerializableError    an argument cannot travel as JSON (names the argument path)
    │   │   └── SerializationError  an ActiveJob argument Rails could not read (ActiveJob's own error)
    │   ├── PayloadTooLargeError    the encoded payload exceeds the configured limit
    │   ├── PayloadDecodeError      bytes read from Redis are not a Resque payload
    │   └── DeserializationError    an ActiveJob payload's field, argument, serializer or GlobalID is unreadable
    ├── NoQueueError                a job class names no queue
    ├── NoClassError                an empty or missing job class
    ├── JobRegistrationError        two classes claim one payload class name
    ├── UnknownJobClassError        a payload names a class nobody registered
    ├── FailureNotFoundError        a failure record moved or was removed by someone else
    ├── FailureHookError            an ``on_failure`` hook raised (carries the original error)
    ├── ModeConflictError           a test mode was activated from a second thread, or left out of order
    ├── DirtyExit                   a job's process died or its worker vanished mid-job
    │   ├── PruneDeadWorkerDirtyExit
    │   ├── JobTimeoutError         a job ran past its timeout and was stopped
    │   ├── MemoryLimitError        a job's process grew past the worker's memory limit and was stopped
    │   └── PoisonJobError          a job was recovered from dead workers too many times
    ├── ScheduleError               a bad delayed-job time or delay, or a bad recurring schedule
    └── DontPerform                 raised by a ``before_perform`` hook to skip the job quietly

    TermException (a BaseException) raised inside a job when its worker is told to stop (TERM_CHILD)

Exceptions recorded in Redis failure records carry a ``resque_name`` where Ruby Resque uses a
different class name, so dashboards of both languages group them alike.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "DeserializationError",
    "DirtyExit",
    "DontPerform",
    "DurabilityError",
    "FailureHookError",
    "FailureNotFoundError",
    "JobRegistrationError",
    "JobTimeoutError",
    "ModeConflictError",
    "NoClassError",
    "NoQueueError",
    "NotSerializableError",
    "PayloadDecodeError",
    "PayloadError",
    "PayloadTooLargeError",
    "PoisonJobError",
    "PruneDeadWorkerDirtyExit",
    "ResqueConnectionError",
    "ResqueError",
    "ScheduleError",
    "SerializationError",
    "TermException",
    "UnknownJobClassError",
    "exception_message",
    "exception_name",
]

#: Longest exception message kept in a failure record; longer ones are cut with a note.
MAX_MESSAGE_CHARS = 64 * 1024


def exception_message(exc: BaseException, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``str(exc)``, but never raising (a hostile ``__str__``, even one raising ``SystemExit``) and cut
    to ``limit`` characters."""
    try:
        text = str(exc)
    except BaseException as inner:  # a job's exception must not take the worker down with it
        return f"<unprintable {type(exc).__name__}: str() raised {type(inner).__name__}>"
    if len(text) > limit:
        return f"{text[:limit]}... [{len(text) - limit:,} more characters cut]"
    return text


def exception_name(exc: BaseException | type[BaseException]) -> str:
    """The class name a failure record shows: ``resque_name`` if the class sets one, else its name."""
    cls = exc if isinstance(exc, type) else type(exc)
    name = getattr(cls, "resque_name", None)
    return name if isinstance(name, str) else cls.__name__


class ResqueError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigurationError(ResqueError, ValueError):
    """An option or connection string is malformed; the message says what is expected."""


class ResqueConnectionError(ResqueError, ConnectionError):
    """Redis could not be reached or the connection broke; the message names the server."""


class DurabilityError(ResqueConnectionError):
    """A durable write (``wait_replicas``) reached the primary, but fewer replicas than asked confirmed
    it in time: a failover now could lose it. Retrying is safe for acknowledgements; a retried enqueue
    may run its job twice."""


class PayloadError(ResqueError, ValueError):
    """A job payload cannot be written or read."""


class NotSerializableError(PayloadError, TypeError):
    """An argument cannot be encoded as JSON the way Ruby Resque would read it.

    ``path`` locates the offending value, e.g. ``args[1]["when"]``.
    """

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class PayloadTooLargeError(PayloadError):
    """The encoded payload is larger than the configured ``max_payload_bytes``."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            f"payload is {size:,} bytes, over the {limit:,}-byte limit; store large data elsewhere and "
            "pass a reference, or raise the limit with Resque(max_payload_bytes=...)"
        )
        self.size = size
        self.limit = limit


class SerializationError(NotSerializableError):
    """An ActiveJob argument has no representation Rails' ActiveJob reads back (a naive datetime, a
    dict with a reserved ``_aj_`` key, an unsupported type); raised at enqueue, before anything reaches
    Redis. Named ``ActiveJob::SerializationError`` as in Rails."""

    resque_name = "ActiveJob::SerializationError"


class DeserializationError(PayloadError):
    """An ActiveJob ``JobWrapper`` payload cannot be read: a missing or mistyped field, an unknown
    serializer, a malformed GlobalID or time. Recorded as ``ActiveJob::DeserializationError``, like
    Rails' own error for arguments it cannot read."""

    resque_name = "ActiveJob::DeserializationError"


class PayloadDecodeError(PayloadError):
    """Bytes read from Redis are not a valid Resque payload; ``raw`` keeps them."""

    def __init__(self, problem: str, raw: bytes) -> None:
        super().__init__(problem)
        self.raw = raw


class NoQueueError(ResqueError):
    """A job class has no ``queue`` and no queue was given."""


class NoClassError(ResqueError):
    """A job class is missing or its name is empty."""


class JobRegistrationError(ResqueError):
    """Two different classes were registered under the same payload class name."""


class UnknownJobClassError(ResqueError):
    """A payload names a class that is not registered in this process.

    Recorded as ``NameError`` like Ruby's ``uninitialized constant``; nothing is ever imported
    because a payload asked for it.
    """

    resque_name = "NameError"

    def __init__(self, class_name: str) -> None:
        super().__init__(
            f"uninitialized constant {class_name} (no job class is registered under this name in this "
            "process; import the module defining it, e.g. with --jobs)"
        )
        self.class_name = class_name


class FailureNotFoundError(ResqueError, LookupError):
    """A failure record was removed or changed by someone else before this action reached it."""


class FailureHookError(ResqueError):
    """An ``on_failure`` hook raised while handling a job's failure.

    Like Ruby Resque, this error replaces the original in the failure record (as a ``RuntimeError``),
    and its message names both, word for word as Ruby writes it, including Ruby's naming the hook's
    error class before the original's on the second line; ``original`` holds the job's exception and
    ``__cause__`` the hook's. ``job_description`` is Ruby's ``Job#inspect``:
    ``(Job{queue} | Class | ["args"])``.
    """

    resque_name = "RuntimeError"

    def __init__(self, hook_error: BaseException, original: BaseException, job_description: str) -> None:
        hook_class = exception_name(hook_error)
        super().__init__(
            f"Additional error ({hook_class}: {exception_message(hook_error)}) occurred in running failure hooks "
            f"for job {job_description}\nOriginal error that caused job failure was {hook_class}: "
            f"{exception_name(original)}: {exception_message(original)}"
        )
        self.original = original


class ModeConflictError(ResqueError):
    """A test mode (see :mod:`resque_impl.testmode`) was activated while another thread's mode was
    active, or deactivated out of order; the message names both."""


class DirtyExit(ResqueError):
    """A job did not finish cleanly: its process died, or its worker vanished while busy."""

    resque_name = "Resque::DirtyExit"


class PruneDeadWorkerDirtyExit(DirtyExit):
    """A worker whose heartbeat went stale was pruned while it was busy."""

    resque_name = "Resque::PruneDeadWorkerDirtyExit"


class ScheduleError(ResqueError, ValueError):
    """A delayed-job time or delay is unusable (a naive datetime, NaN), or a recurring schedule is
    malformed; the message names the schedule entry and says what is expected."""


class DontPerform(ResqueError):
    """Raise in a ``before_perform`` hook to skip the job: no failure, still counted as processed."""


class JobTimeoutError(DirtyExit):
    """A job ran longer than its timeout (the class's ``job_timeout`` or the worker's ``--job-timeout``)
    and was stopped: its child process killed, or, without forking, interrupted."""

    resque_name = "Resque::JobTimeoutError"


class MemoryLimitError(DirtyExit):
    """A job's process grew past the worker's memory limit (``--max-memory``) and the job was stopped:
    its child process killed, or, without forking, interrupted (the worker then exits for a fresh one)."""

    resque_name = "Resque::MemoryLimitError"


class PoisonJobError(DirtyExit):
    """A job was recovered from dead workers more times than allowed, so it is recorded as failed
    instead of being run again (it probably kills the workers that run it)."""

    resque_name = "Resque::PoisonJobError"


class TermException(BaseException):
    """Raised inside a running job when its worker is told to stop and ``TERM_CHILD`` is set, so the
    job can clean up; recorded as a failure if the job lets it through.

    Like Ruby's ``Resque::TermException`` (a ``SignalException``) and Python's ``KeyboardInterrupt``,
    it is not an ``Exception``, so a job's ``except Exception`` does not swallow a shutdown.
    """

    resque_name = "Resque::TermException"
