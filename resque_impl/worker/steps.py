"""The :class:`Worker` and the small steps its loop is made of, each usable on its own.

The steps talk to the store and read time from the injected clock only: no threads, signals, sleeps or
forks, so a simulator (or a test) can drive a worker one step at a time, in simulated time, on Redis,
fakeredis or the in-memory twin::

    worker = Worker(["critical", "*"], resque=Resque(store=MemoryStore(clock=clock), clock=clock))
    worker.register()
    worker.heartbeat()
    job = worker.reserve()                         # ReservedJob | None (priority order, reliable)
    while job is not None:
        outcome = worker.perform(job)              # in this process; never raises
        job = worker.done(job, outcome, reserve_next=True)   # ack + next job in one round trip
    worker.prune_dead_workers()                     # under the cluster-wide pruning lock
    worker.unregister()

:meth:`Worker.work` runs the production loop around these steps (see :mod:`.loop`): signals,
forking, the heartbeat thread, waking on push notifications, reconnecting, restart policies.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import time
from collections.abc import Sequence
from typing import Any

from resque_impl.client import Resque
from resque_impl.clock import Clock, SystemClock, format_heartbeat, format_run_at, format_started
from resque_impl.default import current
from resque_impl.errors import DirtyExit, ResqueConnectionError
from resque_impl.events import WORKER_STOPPED
from resque_impl.job_metrics import JobMetricsRecorder
from resque_impl.plugins.timing import attach_timing
from resque_impl.store import Ack
from resque_impl.worker import retirement
from resque_impl.worker.announce import announce_end, announce_reserved, announce_started
from resque_impl.worker.hooks import WorkerHooks, default_worker_hooks
from resque_impl.worker.loop import WorkLoop
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.outcome import Outcome, ReservedJob
from resque_impl.worker.patterns import QueuePatterns, as_patterns
from resque_impl.worker.perform import failure_outcome, perform_in_process, run_failure_hooks
from resque_impl.worker.pruning import LocalPids, local_worker_pids

__all__ = ["Worker"]

logger = logging.getLogger("resque_impl.worker")


class Worker:
    """A Resque worker: id ``host:pid:<queue patterns>``, serving ``queues`` in priority order.

    :param queues: queue names and patterns (``"*"``, ``"mail*"``, ``"!low"``), a list or a
        comma-separated string.
    :param resque: the connection to work for (default: :func:`resque_impl.current`).
    :param options: a :class:`WorkerOptions` (default: Ruby Resque's defaults, reliable fetch on).
    :param hooks: worker hooks (default: :data:`~resque_impl.worker.default_worker_hooks`).
    :param clock: where time comes from (default: the Resque's clock).
    :param hostname: / :param pid: override the id's parts (a simulator's fake workers, tests).
    :param server_time: take heartbeat and pruning times from Redis ``TIME`` (as Ruby does) rather than
        the clock; default: only when the clock is the system clock.
    :param local_pids: returns the pids of live worker processes on this host, for pruning (default:
        the process table; a simulator passes its own).
    """

    def __init__(
        self,
        queues: QueuePatterns | Sequence[str] | str,
        *,
        resque: Resque | None = None,
        options: WorkerOptions | None = None,
        hooks: WorkerHooks | None = None,
        clock: Clock | None = None,
        hostname: str | None = None,
        pid: int | None = None,
        server_time: bool | None = None,
        local_pids: LocalPids | None = None,
    ) -> None:
        self.queues = as_patterns(queues)
        self.resque = resque if resque is not None else current()
        self.store = self.resque.store
        self.events = self.resque.events
        self.options = options if options is not None else WorkerOptions()
        self.hooks = hooks if hooks is not None else default_worker_hooks
        self.clock = clock if clock is not None else self.resque.clock
        self.hostname = hostname if hostname is not None else socket.gethostname()
        self.pid = pid if pid is not None else os.getpid()
        self.id = f"{self.hostname}:{self.pid}:{self.queues.id_part}"
        self.use_server_time = server_time if server_time is not None else isinstance(self.clock, SystemClock)
        self.local_pids = local_pids if local_pids is not None else local_worker_pids
        #: The job reserved and not yet acknowledged, if any.
        self.current: ReservedJob | None = None
        #: Whether the last reserve found ``pause-all-workers`` set.
        self.paused_by_key = False
        #: Jobs acknowledged (and of those, failed) by this object.
        self.processed = 0
        self.failed = 0
        #: Whether a ``before_first_fork`` hook has run for this object (see :meth:`run_before_first_fork`).
        self.before_first_fork_ran = False
        # the `queues` set the wildcard patterns were last expanded from (see _fetch)
        self._queue_set: tuple[str, ...] | None = None
        # perf_counter() when the current job was reserved / begun, for the events' run_time
        self._reserved_at = 0.0
        self._begun_at: float | None = None
        # What perform_time is measured with: the monotonic counter in production, else the injected
        # clock (a test's manual clock, a simulator's simulated time), as the Timing plugin always did.
        self._timer = time.perf_counter if isinstance(self.clock, SystemClock) else self.clock.time
        attach_timing(self.events, self.resque.registry)  # the Timing plugin records from the events

    def __repr__(self) -> str:
        return f"<Worker {self.id}>"

    # -- time ------------------------------------------------------------------------------------------
    def now(self) -> float:
        """The clock's time."""
        return self.clock.time()

    def _run_at(self) -> str:
        """The working-on record's ``run_at`` for now, formatted once per second (see :func:`_run_at_text`)."""
        return _run_at_text(int(self.clock.time()))

    def heartbeat_time(self) -> float:
        """The time heartbeats are written with and compared against: Redis ``TIME`` or the clock."""
        return self.store.server_time() if self.use_server_time else self.clock.time()

    # -- registration ----------------------------------------------------------------------------------
    def register(self) -> None:
        """Add this worker to ``workers`` and record when it started."""
        self.store.register_worker(self.id, format_started(self.now()))

    def is_registered(self) -> bool:
        return self.store.worker_exists(self.id)

    def heartbeat(self) -> None:
        """Record that this worker is alive."""
        self.store.heartbeat(self.id, format_heartbeat(self.heartbeat_time()))

    def remove_heartbeat(self) -> None:
        self.store.remove_heartbeat(self.id)

    def unregister(self, error: BaseException | None = None) -> None:
        """Leave the registry, like Ruby's ``unregister_worker``: see :meth:`retire`. Announces
        ``worker.stopped`` first, so that subscribers holding buffered data can flush it."""
        if self.events.listening(WORKER_STOPPED):
            self.events.emit(WORKER_STOPPED, {}, {"worker": self.id})
        self.retire(self.id, error)
        self.current = None

    def run_before_first_fork(self) -> None:
        """Run the ``before_first_fork`` hooks, once per Worker object as Ruby does: a later
        :meth:`work` on the same object does not run them again (unless none had run yet)."""
        if self.before_first_fork_ran:
            return
        for hook in self.hooks.get("before_first_fork"):
            hook(self)
            self.before_first_fork_ran = True

    # -- jobs ------------------------------------------------------------------------------------------
    def queue_list(self) -> list[str]:
        """The queues to try now, in order (patterns expanded against the ``queues`` set)."""
        if self.queues.static:
            return self.queues.expand()
        return self.queues.expand(self.store.queue_names())

    def _fetch(self, ended: tuple[ReservedJob, Outcome] | None, reserve: bool) -> ReservedJob | None:
        # With wildcards, the list is expanded from the `queues` set as last seen and the store checks,
        # in the same round trip, that the set is still that one (else it answers "stale" with the set).
        patterns, queue_set = self.queues, None
        if not reserve:
            queues: list[str] = []
        elif patterns.static:
            queues = patterns.expand()
        else:
            queue_set = self._queue_set
            if queue_set is None:
                queue_set = self._queue_set = tuple(self.store.queue_names())
            queues = patterns.expand(queue_set)
        ack = Ack(ended[0].queue, ended[0].raw, ended[1].failed) if ended is not None else None
        fetched = self.store.fetch(
            self.id,
            queues,
            _run_at_text(int(self.clock.time())),  # self._run_at() without its frame: once per job
            reliable=self.options.reliable,
            ack=ack,
            reserve=reserve,
            max_payload=self.resque.max_payload_bytes,
            queue_set=queue_set,
        )
        if ended is not None:
            self.current = None
            self.processed += 1
            self.failed += ended[1].failed
            self._announce_end(*ended)
        if fetched.state == "stale":
            self._queue_set = fetched.queue_set
            return self._fetch(None, True)
        if reserve:
            self.paused_by_key = fetched.state == "paused"
        if fetched.state != "job" or fetched.queue is None or fetched.payload is None:
            return None
        if fetched.oversized is not None:
            self.current = ReservedJob.oversized(
                fetched.queue, fetched.payload, fetched.oversized, self.resque.max_payload_bytes
            )
        else:
            self.current = ReservedJob.read(fetched.queue, fetched.payload)
        self._reserved(self.current)
        return self.current

    def _reserved(self, job: ReservedJob) -> None:
        self._reserved_at = time.perf_counter()
        self._begun_at = None
        announce_reserved(self.events, self.clock, job, self.id)

    def begin(self, job: ReservedJob) -> None:
        """Note that this worker's process starts running ``job`` now (before any fork), announcing
        ``job.started``; the run time announced at acknowledgement counts from here. :meth:`perform`
        calls it when nobody has."""
        self._begun_at = time.perf_counter()
        announce_started(self.events, job, self.id)

    def _announce_end(self, job: ReservedJob, outcome: Outcome) -> None:
        if outcome.events:  # announced by the job in a forked child: delivered here, before its end
            self.events.deliver(outcome.events)
        started = self._begun_at if self._begun_at is not None else self._reserved_at
        announce_end(self.events, job, outcome, self.id, time.perf_counter() - started)

    def reserve(self) -> ReservedJob | None:
        """Take the first job of the first non-empty queue and mark this worker busy with it, in one
        round trip; ``None`` if every queue is empty or ``pause-all-workers`` is set
        (:attr:`paused_by_key`)."""
        return self._fetch(None, True)

    def adopt(self) -> ReservedJob | None:
        """Take back a job already in this worker's in-flight lists (one reserved when a connection
        broke before the reply arrived), marking this worker busy with it; ``None`` if there is none.
        Any other job found there goes back to the head of its queue."""
        if not self.options.reliable:
            return None
        # A worker holds one job at a time, but a reserve whose reply was lost or not confirmed by the
        # replicas (wait_replicas) may have been sent again, after a failover, and popped a second one
        # that this worker would never run nor anyone recover while it lives: the store gives those back.
        taken = self.store.adopt_inflight(self.id, format_run_at(self.now()))
        if taken is None:
            return None
        queue, payload = taken
        self.current = ReservedJob.read(queue, payload)
        self._reserved(self.current)
        return self.current

    def perform(self, job: ReservedJob) -> Outcome:
        """Run ``job`` in this process with its hooks; never raises (failures become the outcome, whose
        ``perform_time`` says how long ``perform`` itself ran)."""
        if self._begun_at is None:
            self.begin(job)
        return perform_in_process(self.resque, job, self.id, self._timer)

    def fail(self, job: ReservedJob, error: BaseException) -> Outcome:
        """A failed outcome for an error found outside the job (its process died, it timed out), after
        running the job's ``on_failure`` hooks as Ruby's ``Job#fail`` does."""
        return failure_outcome(self.resque, job, run_failure_hooks(self.resque, job, error), self.id)

    def save_failure(self, job: ReservedJob, outcome: Outcome) -> None:
        """Write a failed outcome's record to the failure backend (nothing for other outcomes).

        A backend that raises is logged and the worker goes on, as Ruby's ``report_failed_job`` does
        (the record is lost; the job still counts as failed); only a lost Redis connection propagates,
        for the caller to retry.
        """
        if outcome.failed and outcome.record is not None:
            try:
                self.resque.failures.save(outcome.record, job.queue)
            except ResqueConnectionError:
                raise
            except Exception:
                logger.exception("could not record the failure of %s from %s", job.describe(), job.queue)

    def acknowledge(self, job: ReservedJob, outcome: Outcome, *, reserve_next: bool = False) -> ReservedJob | None:
        """Mark ``job`` finished (working-on record cleared, stats counted, in-flight entry dropped) and,
        with ``reserve_next``, reserve the next job, in one round trip. Announces ``job.finished`` or
        ``job.failed`` once Redis answered, with the run time since :meth:`begin`."""
        return self._fetch((job, outcome), reserve_next)

    def done(self, job: ReservedJob, outcome: Outcome, *, reserve_next: bool = False) -> ReservedJob | None:
        """:meth:`save_failure`, then :meth:`acknowledge`: the step after :meth:`perform`."""
        self.save_failure(job, outcome)
        return self.acknowledge(job, outcome, reserve_next=reserve_next)

    def release(self, job: ReservedJob) -> None:
        """Give back a reserved job that was never started: to the head of its queue, worker idle."""
        self.store.release(self.id, job.queue, job.raw, reliable=self.options.reliable)
        self.current = None

    # -- the production loop ---------------------------------------------------------------------------
    def work(self, interval: float | None = None, *, burst: bool | None = None) -> int:
        """Run until told to stop (a signal, ``burst`` with the queues drained, a restart policy) and
        return the exit code (0). ``interval`` and ``burst`` override :attr:`options`. Installs signal
        handlers when called from the main thread. Records per-class job metrics while it runs unless
        ``options.job_metrics`` is off (see :mod:`resque_impl.job_metrics`)."""
        changes: dict[str, Any] = {"interval": interval, "burst": burst}
        if interval == 0:
            changes["burst"] = True
        loop = WorkLoop(self, self.options.replace(**changes))
        recorder = JobMetricsRecorder(self.store, self.clock).attach(self.events) if loop.options.job_metrics else None
        try:
            return loop.run()
        finally:
            if recorder is not None:
                recorder.detach()

    # -- dead workers (see :mod:`.retirement`) ---------------------------------------------------------
    def prune_dead_workers(self) -> list[str]:
        """Unregister workers found dead, recovering their in-flight jobs; returns the ids pruned (see
        :func:`~resque_impl.worker.retirement.prune_dead_workers`)."""
        return retirement.prune_dead_workers(self)

    def retire(self, worker_id: str, error: BaseException | None = None) -> None:
        """Unregister ``worker_id`` (this worker or a dead one) so that none of its jobs is lost (see
        :func:`~resque_impl.worker.retirement.retire`)."""
        retirement.retire(self, worker_id, error)

    def requeue_crashed(self, job: ReservedJob, error: DirtyExit) -> Outcome | None:
        """``job``'s process died from a signal this worker did not send: ``None`` once it is back at the
        head of its queue, else the failed outcome to save and acknowledge (see
        :func:`~resque_impl.worker.retirement.requeue_crashed`)."""
        return retirement.requeue_crashed(self, job, error)


@functools.lru_cache(maxsize=64)
def _run_at_text(second: int) -> str:
    # Shared by the workers of a process: a simulator's many workers start jobs in the same seconds.
    return format_run_at(second)
