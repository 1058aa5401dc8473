"""resque_impl: Ruby-Resque-compatible background jobs for Python.

Queues, workers, failures and stats are byte-compatible with Ruby Resque 3.0 on Redis, so Python and
Ruby processes share them. Nothing here connects to Redis at import time.
"""

from resque_impl.client import JobClass, Resque
from resque_impl.clock import SYSTEM_CLOCK, Clock, ManualClock, SystemClock
from resque_impl.codec import Payload, decode_payload, encode_payload, validate_args
from resque_impl.default import (
    configure,
    current,
    dequeue,
    enqueue,
    enqueue_at,
    enqueue_in,
    enqueue_many,
    enqueue_to,
    info,
    peek,
    queues,
    remove_delayed,
    remove_queue,
    size,
)
from resque_impl.delayed import DelayedJob
from resque_impl.errors import (
    ConfigurationError,
    DirtyExit,
    DontPerform,
    DurabilityError,
    FailureHookError,
    FailureNotFoundError,
    JobRegistrationError,
    JobTimeoutError,
    MemoryLimitError,
    ModeConflictError,
    NoClassError,
    NoQueueError,
    NotSerializableError,
    PayloadDecodeError,
    PayloadError,
    PayloadTooLargeError,
    PoisonJobError,
    PruneDeadWorkerDirtyExit,
    ResqueConnectionError,
    ResqueError,
    ScheduleError,
    TermException,
    UnknownJobClassError,
)
from resque_impl.failure import (
    FailureBackend,
    FailureRecord,
    FailureSink,
    MultipleBackend,
    RedisBackend,
    RedisMultiQueueBackend,
)
from resque_impl.hooks import Execution, current_job
from resque_impl.job import Job, QueuedJob, job
from resque_impl.keys import Keys
from resque_impl.latency import QueueLatency
from resque_impl.registry import Registry, default_registry
from resque_impl.store import Store
from resque_impl.version import __version__
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions, default_worker_hooks

__all__ = [
    # producer API
    "JobClass",
    "Resque",
    "configure",
    "current",
    "dequeue",
    "enqueue",
    "enqueue_many",
    "enqueue_to",
    "info",
    "peek",
    "queues",
    "remove_queue",
    "size",
    "QueueLatency",
    # delayed jobs (the scheduler process is resque_impl.scheduler)
    "DelayedJob",
    "enqueue_at",
    "enqueue_in",
    "remove_delayed",
    # declaring and running jobs
    "Execution",
    "current_job",
    "Job",
    "QueuedJob",
    "Registry",
    "default_registry",
    "job",
    # workers
    "Worker",
    "WorkerHooks",
    "WorkerOptions",
    "default_worker_hooks",
    # payloads
    "Payload",
    "decode_payload",
    "encode_payload",
    "validate_args",
    # failures
    "FailureBackend",
    "FailureRecord",
    "FailureSink",
    "MultipleBackend",
    "RedisBackend",
    "RedisMultiQueueBackend",
    # storage and time
    "SYSTEM_CLOCK",
    "Clock",
    "Keys",
    "ManualClock",
    "Store",
    "SystemClock",
    # errors
    "ConfigurationError",
    "DirtyExit",
    "DontPerform",
    "FailureHookError",
    "FailureNotFoundError",
    "JobRegistrationError",
    "ModeConflictError",
    "NoClassError",
    "NoQueueError",
    "NotSerializableError",
    "PayloadDecodeError",
    "PayloadError",
    "PayloadTooLargeError",
    "JobTimeoutError",
    "MemoryLimitError",
    "PoisonJobError",
    "PruneDeadWorkerDirtyExit",
    "DurabilityError",
    "ResqueConnectionError",
    "ResqueError",
    "ScheduleError",
    "TermException",
    "UnknownJobClassError",
    # metadata
    "__version__",
]
