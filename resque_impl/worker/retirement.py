"""Retiring workers: pruning dead ones, and taking back the jobs a dead worker or a killed child held.

:class:`~resque_impl.worker.Worker` offers these as its ``prune_dead_workers``, ``retire`` and
``requeue_crashed`` steps. Which workers are dead is decided in :mod:`.pruning`; here they are
unregistered so that none of their jobs is lost: in-flight jobs (reliable fetch) go back to the head
of their queues, a job recovered more than ``max_recoveries`` times is recorded as a
:class:`~resque_impl.errors.PoisonJobError` failure instead, and a Ruby worker's job (nothing in flight)
becomes a dirty-exit failure record, as Ruby records it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from resque_impl.codec import dumps, loads
from resque_impl.errors import DirtyExit, PoisonJobError, PruneDeadWorkerDirtyExit
from resque_impl.worker.announce import announce_recovered
from resque_impl.worker.outcome import Outcome, ReservedJob
from resque_impl.worker.perform import failure_outcome, run_failure_hooks
from resque_impl.worker.pruning import dead_workers

if TYPE_CHECKING:
    from resque_impl.worker.steps import Worker

__all__ = ["prune_dead_workers", "requeue_crashed", "retire"]

logger = logging.getLogger("resque_impl.worker")

#: How long a process may hold the lock on retiring one dead worker (it releases it when done).
_RETIRE_LOCK_SECONDS = 30.0


def prune_dead_workers(worker: Worker) -> list[str]:
    """Unregister workers found dead (see :mod:`.pruning`), recovering their in-flight jobs.

    The worker that takes Ruby's ``pruning_dead_workers_in_progress`` lock (``SET NX EX <heartbeat
    interval>``, so one worker per interval) looks for every dead worker: stale heartbeats anywhere,
    gone processes on this host. The others look only for the latter, which costs one ``SMEMBERS``
    and is certain: a worker restarted after a crash finds the one it replaces at once, so that
    one's job runs again within seconds rather than a heartbeat interval later. Each dead worker is
    retired under its own short lock (:meth:`Keys.retiring`), so no two processes retire one worker
    together. As in Ruby, a stale heartbeat whose worker is not registered (any more) is retired too,
    which removes it. Returns the ids pruned.
    """
    store = worker.store
    everywhere = store.acquire_pruning_lock(worker.id, int(worker.options.heartbeat_interval))
    worker_ids = store.worker_ids()
    heartbeats = store.heartbeats() if everywhere else {}
    if not worker_ids and not heartbeats:
        return []
    dead = dead_workers(
        worker_ids,
        heartbeats,
        now=worker.heartbeat_time() if everywhere else 0.0,
        stale_after=worker.options.prune_after,
        me=worker.id,
        hostname=worker.hostname,
        my_queues=worker.queues.includes,
        local_pids=worker.local_pids,
    )
    return [worker_id for worker_id, stale in dead if _retire_dead(worker, worker_id, stale)]


def _retire_dead(worker: Worker, worker_id: str, stale: bool) -> bool:
    store = worker.store
    lock = store.keys.retiring(worker_id)
    if not store.lock_acquire(lock, worker.id, _RETIRE_LOCK_SECONDS):
        return False  # another process is retiring it
    try:
        if not store.worker_exists(worker_id) and not (stale and worker_id in store.heartbeats()):
            return False  # retired since we looked
        logger.info("pruning dead worker %s", worker_id)
        retire(worker, worker_id, _prune_error(worker_id, _job_of(worker, worker_id)) if stale else None)
        return True
    finally:
        store.lock_release(lock, worker.id)


def _job_of(worker: Worker, worker_id: str) -> ReservedJob | None:
    """The job ``worker_id``'s working-on record names, if it has a readable one."""
    record = worker.store.working_on([worker_id]).get(worker_id)
    if not record:
        return None
    try:
        data: Any = loads(record)
        queue = str(data["queue"])
        payload = data["payload"]
    except (ValueError, TypeError, KeyError):
        return None
    raw = payload.encode() if isinstance(payload, str) else dumps(payload)
    return ReservedJob.read(queue, raw)


def retire(worker: Worker, worker_id: str, error: BaseException | None = None) -> None:
    """Unregister ``worker_id`` (``worker`` itself or a dead one) so that none of its jobs is lost.

    Its in-flight jobs go back to the head of their queues (a job recovered more than
    ``max_recoveries`` times is recorded as a :class:`PoisonJobError` failure instead). A worker
    without in-flight jobs (reliable fetch off, or a Ruby worker) is handled as Ruby does: a job
    it was busy with becomes a failure record (``error``, by default ``DirtyExit("Job still being
    processed")``), never requeued. Then its keys are removed.
    """
    store = worker.store
    recovered, poison = store.recover_inflight(worker_id, worker.options.max_recoveries)
    if recovered:
        logger.warning("requeued %d in-flight job(s) of worker %s", recovered, worker_id)
        announce_recovered(worker.events, worker_id, recovered, worker.id)
    for queue, payload in poison:
        job = ReservedJob.read(queue, payload)
        worker.save_failure(job, _poison(worker, job, worker_id, f"its worker died again (last: {worker_id})"))
        store.discard_inflight(worker_id, queue, payload)
        logger.error("poison job %s from %s recorded as failed", job.describe(), queue)
    if not recovered and not poison:
        busy = _job_of(worker, worker_id)
        if busy is not None:
            problem = error if error is not None else DirtyExit("Job still being processed")
            worker.save_failure(busy, _failed(worker, busy, problem, worker_id))
    store.unregister_worker(worker_id)


def requeue_crashed(worker: Worker, job: ReservedJob, error: DirtyExit) -> Outcome | None:
    """``job``'s process died from a signal ``worker`` did not send (the OOM killer, an operator, the
    job itself): with reliable fetch, handled as if the worker had died with it.

    The job goes back to the head of its queue, counted as a recovery, and ``None`` is returned; a
    job already recovered ``max_recoveries`` times is a :class:`PoisonJobError` instead, returned
    as the failed outcome to save and acknowledge. Without reliable fetch (nothing in flight), the
    outcome is ``error``, a dirty exit as in Ruby.
    """
    recovered, poison = worker.store.recover_inflight(worker.id, worker.options.max_recoveries)
    if poison:
        return _poison(worker, job, worker.id, f"its process died again ({error})")
    if recovered:
        logger.warning("requeued %s: %s", job.describe(), error)
        announce_recovered(worker.events, worker.id, recovered, worker.id)
        worker.current = None
        return None
    return worker.fail(job, error)


def _poison(worker: Worker, job: ReservedJob, worker_id: str, how: str) -> Outcome:
    problem = PoisonJobError(
        f"job was recovered {worker.options.max_recoveries} times and {how}; recorded as failed instead of "
        "running it again"
    )
    return _failed(worker, job, problem, worker_id)


def _failed(worker: Worker, job: ReservedJob, error: BaseException, worker_id: str) -> Outcome:
    """``job`` of ``worker_id`` failed with ``error``, after its ``on_failure`` hooks ran."""
    return failure_outcome(worker.resque, job, run_failure_hooks(worker.resque, job, error), worker_id)


def _prune_error(worker_id: str, job: ReservedJob | None) -> PruneDeadWorkerDirtyExit:
    """With Ruby's message: "Worker <id> did not gracefully exit while processing <class>"."""
    doing = job.describe() if job is not None else "<Unknown Job>"
    return PruneDeadWorkerDirtyExit(f"Worker {worker_id} did not gracefully exit while processing {doing}")
