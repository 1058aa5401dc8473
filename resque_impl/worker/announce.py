"""What a worker announces on its Resque's job-event stream (see :mod:`resque_impl.events`).

Every event comes from the worker's own process, never from a forked child: the parent knows when it
reserved a job, when it began it, and when the outcome was acknowledged in Redis, so one subscriber
in the worker process sees every job whether jobs fork or not. Each function returns at once when
nobody listens to its event.
"""

from __future__ import annotations

from typing import Any

from resque_impl.clock import Clock
from resque_impl.events import JOB_FAILED, JOB_FINISHED, JOB_RECOVERED, JOB_RESERVED, JOB_STARTED, EventBus
from resque_impl.worker.outcome import Outcome, ReservedJob

__all__ = ["announce_end", "announce_recovered", "announce_reserved", "announce_started"]


def _metadata(job: ReservedJob, worker_id: str) -> dict[str, Any]:
    return {"class": job.describe(), "queue": job.queue, "worker": worker_id}


def announce_reserved(events: EventBus, clock: Clock, job: ReservedJob, worker_id: str) -> None:
    """``job.reserved``, with ``wait`` (seconds since ``enqueued_at``) when the payload is stamped."""
    if not events.listening(JOB_RESERVED):
        return
    measurements: dict[str, float] = {}
    stamp = job.payload.extras.get("enqueued_at") if job.payload is not None else None
    if isinstance(stamp, (int, float)) and not isinstance(stamp, bool):
        measurements["wait"] = max(0.0, clock.time() - stamp)
    events.emit(JOB_RESERVED, measurements, _metadata(job, worker_id))


def announce_started(events: EventBus, job: ReservedJob, worker_id: str) -> None:
    """``job.started``."""
    if events.listening(JOB_STARTED):
        events.emit(JOB_STARTED, {}, _metadata(job, worker_id))


def announce_end(events: EventBus, job: ReservedJob, outcome: Outcome, worker_id: str, run_time: float) -> None:
    """``job.finished`` or ``job.failed`` with ``run_time``, the outcome's ``perform_time`` when it has
    one, and its ``status`` (and, for a failure, its ``exception`` and ``error``)."""
    name = JOB_FAILED if outcome.failed else JOB_FINISHED
    if not events.listening(name):
        return
    # One dict literal rather than _metadata plus additions: this runs for every job.
    metadata: dict[str, Any] = {
        "class": job.describe(),
        "queue": job.queue,
        "worker": worker_id,
        "status": outcome.status,
    }
    if outcome.failed:
        metadata["exception"] = outcome.exception
        metadata["error"] = outcome.error
    measurements = {"run_time": run_time if run_time > 0 else 0.0}
    if outcome.perform_time is not None:
        measurements["perform_time"] = outcome.perform_time
    events.emit(name, measurements, metadata)


def announce_recovered(events: EventBus, worker_id: str, count: int, recovered_by: str) -> None:
    """``job.recovered``: ``count`` in-flight jobs of ``worker_id`` went back to their queues."""
    if events.listening(JOB_RECOVERED):
        events.emit(JOB_RECOVERED, {"count": count}, {"worker": worker_id, "recovered_by": recovered_by})
