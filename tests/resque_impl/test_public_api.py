"""The public API is exactly this list; changing it is a deliberate act."""

from __future__ import annotations

import resque_impl

EXPECTED = {
    # producer API
    "JobClass", "Resque", "configure", "current", "dequeue", "enqueue", "enqueue_many", "enqueue_to",
    "info", "peek", "queues", "remove_queue", "size", "QueueLatency",
    # delayed jobs
    "DelayedJob", "enqueue_at", "enqueue_in", "remove_delayed",
    # declaring and running jobs
    "Execution", "current_job", "Job", "QueuedJob", "Registry", "default_registry", "job",
    # workers
    "Worker", "WorkerHooks", "WorkerOptions", "default_worker_hooks",
    # payloads
    "Payload", "decode_payload", "encode_payload", "validate_args",
    # failures
    "FailureBackend", "FailureRecord", "FailureSink", "MultipleBackend", "RedisBackend", "RedisMultiQueueBackend",
    # storage and time
    "SYSTEM_CLOCK", "Clock", "Keys", "ManualClock", "Store", "SystemClock",
    # errors
    "ConfigurationError", "DirtyExit", "DontPerform", "FailureHookError", "FailureNotFoundError",
    "JobRegistrationError", "ModeConflictError", "NoClassError", "NoQueueError", "NotSerializableError",
    "PayloadDecodeError", "PayloadError", "PayloadTooLargeError", "PruneDeadWorkerDirtyExit", "DurabilityError",
    "ResqueConnectionError", "ResqueError", "ScheduleError", "UnknownJobClassError", "JobTimeoutError",
    "MemoryLimitError", "PoisonJobError", "TermException",
    # metadata
    "__version__",
}  # fmt: skip


def test_all_lists_exactly_the_public_api() -> None:
    assert set(resque_impl.__all__) == EXPECTED
    assert len(resque_impl.__all__) == len(EXPECTED)


def test_every_public_name_exists() -> None:
    for name in resque_impl.__all__:
        assert hasattr(resque_impl, name), name


def test_errors_form_one_tree() -> None:
    errors = [getattr(resque_impl, name) for name in EXPECTED if name.endswith(("Error", "Exit", "Perform"))]
    assert all(issubclass(error, resque_impl.ResqueError) for error in errors)
