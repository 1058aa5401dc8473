"""The SimPy engine: arrivals enqueue through the real client, simulated workers run the real worker steps.

What a caller needs::

    record = simulate(scenario, replication=0, backend=Backend("memory"))   # -> RunRecord

Nothing about queues is reimplemented here.  Every job is pushed with :meth:`resque_impl.Resque.enqueue`
and taken, performed and acknowledged by a :class:`resque_impl.worker.Worker` through its steps
(``register``, ``reserve``, ``perform``/``fail``, ``done``, ``heartbeat``, ``prune_dead_workers``,
``unregister``), against a real store -- a fakeredis server, a real Redis, or the in-memory twin -- whose
clock reads simulated time (:class:`SimClock`).  What the engine models is only what lies outside the
library:

- **arrivals** (:func:`resque_sim.distributions.arrivals`), each job's **draws** fixed when it arrives
  (duration, failure and exception per attempt, working set: common random numbers across a sweep);
- **perform**: the job classes are registered in a private :class:`~resque_impl.Registry`; ``perform``
  raises the drawn exception or returns, and the drawn duration (plus the pool's ``job_overhead``, and its
  ``fork_overhead`` when it forks) passes as a SimPy timeout before it;
- **retries** go through the library: a class with a ``retry`` policy mixes in the
  :class:`~resque_impl.plugins.Retry` plugin (settings mapped from the policy; its jitter taken from the
  attempt's draw), which schedules the next attempt in the delayed queue, and a simulated resque-scheduler
  (the real :class:`~resque_impl.scheduler.Scheduler`, polling every 5 s) releases it when due;
- **worker memory** and **restarts** (:mod:`resque_sim.memory`): boot time, OOM kills (``DirtyExit``
  through :meth:`Worker.fail`), restart policies.

**Polling**, as Resque's loop does it, but without the cost of polls that cannot find work:

- ``interval: <seconds>``: after a job a worker reserves again at once; after finding nothing it sleeps
  ``interval`` and polls again, so it polls on a grid ``t0, t0 + interval, ...`` from its last empty poll
  (``interval + poll_cost`` apart, when the pool sets a poll cost).
  A poll on that grid can only find work if a job was pushed to one of its queues since the last empty
  poll, so an idle worker waits for such a push (every idle worker that covers the queue is told) and
  then polls at its next grid point: the poll that would have found the job, and none of those that
  would not have.
- ``interval: instant``: idle workers are woken at once when a job is pushed to one of their queues (the
  worker's push notifications), and reserve ``wake_latency`` later.  One idle worker is woken per push,
  the one idle longest; a woken worker that takes a job from another queue passes the wake-up on, so no
  job waits while a worker that could take it sleeps.
- The engine counts the jobs waiting per queue (each push adds one, each job a reserve returns takes one
  away), so a reserve that cannot find work is not sent at all: a worker with nothing waiting on its queues
  acknowledges its job without asking for the next, and an idle worker woken for a job another worker
  took goes back to waiting.  Which job a worker gets, and in which order, is always the store's answer.
No blocking Redis call is ever made (the steps never block), so nothing waits in wall-clock time.
"""

from __future__ import annotations

import dataclasses
import math
import operator
import time
from collections.abc import Callable, Collection, Generator
from dataclasses import dataclass
from itertools import groupby
from typing import Any, NamedTuple

import fakeredis
import numpy as np
import redis
import simpy

from resque_impl import DirtyExit, Keys, Registry, Resque, ResqueError
from resque_impl.connection import connect
from resque_impl.keys import DEFAULT_NAMESPACE
from resque_impl.memory_store import MemoryStore
from resque_impl.plugins import Retry
from resque_impl.scheduler import MasterLock, Scheduler
from resque_impl.store import Store, StoreProtocol
from resque_impl.worker import Outcome, ReservedJob, Worker, WorkerOptions
from resque_sim.distributions import Arrival, JobDraws, JobSampler, arrivals, random_stream
from resque_sim.memory import WorkerMemoryModel
from resque_sim.metrics import bucket_width
from resque_sim.records import COMPLETED, DOWN_REASONS, FAILED, RETRIED, Recorder, RunRecord
from resque_sim.scenario import JobSpec, RetryPolicy, Scenario, WorkerPool

__all__ = ["EPOCH", "Backend", "BackendError", "SimClock", "Simulation", "simulate"]

EPOCH = 1_767_225_600.0
"""Simulated time 0 on the library's clock: 2026-01-01 00:00:00 UTC (a midnight, as diurnal loads assume)."""

_HOST = "sim"
_FIRST_PID = 1000
_PROGRESS_STEPS = 200
#: An arrival's (time, job_class), picked in C: the key arrivals are grouped by, once per job.
_TIME_AND_CLASS = operator.itemgetter(Arrival._fields.index("time"), Arrival._fields.index("job_class"))
_OOM_MESSAGE = "the job's process was killed for using more memory than its limit (simulated OOM kill)"


class BackendError(RuntimeError):
    """The backend cannot be used as asked (e.g. a Redis database holding data, without ``--allow-flush``)."""


class SimClock:
    """The library's clock in simulated time: ``time()`` is ``epoch + env.now``.

    ``sleep`` is refused: the worker steps never sleep, and a library path that did would stall nothing
    in simulated time while claiming to wait, so it is better found at once.
    """

    def __init__(self, env: simpy.Environment, epoch: float = EPOCH) -> None:
        self._env = env
        self._epoch = epoch

    def time(self) -> float:
        return self._epoch + float(self._env.now)

    @property
    def now(self) -> float:
        """Simulated seconds since the start (exact, unlike ``time() - epoch``)."""
        return float(self._env.now)

    def sleep(self, seconds: float) -> None:
        raise RuntimeError(f"library code tried to sleep {seconds}s in simulated time; the steps never should")


@dataclass(frozen=True)
class Backend:
    """Where the store lives: ``fake`` (a fresh fakeredis server per run), ``memory`` (the in-memory
    twin) or ``redis`` (the server at ``url``; its database must be empty unless ``allow_flush``)."""

    kind: str = "memory"
    url: str | None = None
    allow_flush: bool = False

    @classmethod
    def for_scenario(cls, scenario: Scenario, *, allow_flush: bool = False) -> Backend:
        return cls(scenario.backend, scenario.url, allow_flush)

    def open(self, clock: SimClock) -> StoreProtocol:
        """A store for one run, empty (a Redis database is flushed; see :meth:`claim`)."""
        if self.kind == "memory":
            return MemoryStore(clock=clock)
        if self.kind == "fake":
            return Store(fakeredis.FakeRedis(server=fakeredis.FakeServer()), Keys(), "fakeredis")
        store = self._redis()
        store.flush_database()
        return store

    def twin(self) -> Backend:
        """Where a run whose results must equal this backend's may go instead: the in-memory twin for
        ``fake`` (byte-identical for the same seed, and much faster), else this backend itself."""
        return Backend("memory") if self.kind == "fake" else self

    def claim(self) -> Backend:
        """Check the backend can be used, and return it ready for several runs in a row.

        A Redis database holding keys is refused (:class:`BackendError`) unless ``allow_flush``; once it
        is ours, each run flushes what the previous one left.
        """
        if self.kind != "redis":
            return self
        self._redis()
        return dataclasses.replace(self, allow_flush=True)

    def _redis(self) -> Store:
        if self.kind != "redis" or self.url is None:
            raise BackendError(f"unknown backend {self.kind!r}; use fake, memory or redis with a url")
        try:
            connection = connect(self.url)
            names = Keys(connection.namespace or DEFAULT_NAMESPACE)
            store = Store(
                connection.client_for(names.namespace),
                names,
                connection.description,
                wait_replicas=connection.wait_replicas,
                wait_timeout=connection.wait_timeout,
            )
            keys = store.database_size()
        except (ResqueError, redis.RedisError) as error:  # a bad URL, or a server that does not answer
            raise BackendError(f"cannot use Redis at {self.url}: {error}") from error
        if keys and not self.allow_flush:
            raise BackendError(
                f"the Redis database at {self.url} holds {keys} keys; the simulator empties the database it "
                "uses, so point it at an empty one, or pass --allow-flush to delete them"
            )
        return store


# --------------------------------------------------------------------------------------------------
# Engine state
# --------------------------------------------------------------------------------------------------


class _Job:
    """A job in flight: its draws, the row of its current attempt, and what that attempt raises."""

    __slots__ = ("attempt", "class_code", "draws", "raises", "row")

    def __init__(self, draws: JobDraws, class_code: int) -> None:
        self.draws = draws
        self.class_code = class_code
        self.attempt = 0
        self.row = -1
        self.raises: str | None = None


class _ClassInfo(NamedTuple):
    """What the engine needs per job class, looked up by class code on the hot path."""

    name: str
    job_class: type
    queue: str
    queue_code: int
    leak_mb: float
    retry: RetryPolicy | None


@dataclass(eq=False)
class _Slot:
    """One worker of a pool: the worker processes that fill it, one after another."""

    index: int
    name: str
    pool: WorkerPool
    covers: tuple[int, ...]  # codes of the queues its patterns match
    interval: float | None  # None: instant
    fork: bool
    overhead: float  # seconds added to each job: the round trips, and the fork when it forks
    wake_latency: float  # seconds between an instant worker's wake-up and its reserve
    model: WorkerMemoryModel
    jitter_rng: np.random.Generator
    worker: Worker | None = None
    incarnation: int = 0
    polled_at: float = 0.0
    wake: simpy.Event | None = None
    woken_for: int = -1
    waiting: bool = False

    def max_jobs(self) -> int | None:
        """This process's job limit: the policy's plus its own jitter, so a pool does not restart in step."""
        restart = self.pool.restart
        if restart.max_jobs is None:
            return None
        return restart.max_jobs + int(self.jitter_rng.integers(0, restart.max_jobs_jitter + 1))


class Simulation:
    """One replication: a SimPy environment, a store, a client, and the processes that use them.

    :func:`simulate` is the usual way in; build one directly to look at ``store`` or ``resque`` after
    :meth:`run` (tests check the store's own counters against the records).
    """

    def __init__(
        self, scenario: Scenario, replication: int, backend: Backend, progress: Callable[[float], None] | None
    ) -> None:
        self.scenario = scenario
        self.seed = scenario.seed + replication
        self.replication = replication
        self.backend = backend
        self.progress = progress
        self.env = simpy.Environment()
        self.clock = SimClock(self.env)
        self.store = backend.open(self.clock)
        self.registry = Registry()
        self.resque = Resque(store=self.store, registry=self.registry, clock=self.clock)
        self.sampler = JobSampler(scenario, self.seed)
        self.queue_names = list(scenario.queues)
        self.queue_codes = {name: code for code, name in enumerate(self.queue_names)}
        self.exceptions: dict[str, type[Exception]] = {}
        self.jobs: dict[int, _Job] = {}
        self.classes = [self._class_info(name, spec) for name, spec in scenario.jobs.items()]
        self.class_codes = {info.name: code for code, info in enumerate(self.classes)}
        # jobs waiting per queue code: pushes counted here, reserves subtracted, so a poll that cannot
        # find work is never sent (the store stays the only place jobs are taken from)
        self.pending = [0] * len(self.queue_names)
        # retries in the delayed queue, and the scheduler process's state (it sleeps while there are none)
        self.delayed = 0
        self.releasing = False
        self.last_poll = -math.inf
        self.scheduler_idle: simpy.Event | None = None
        self.jitter_draw = 0.5
        self.next_job_id = 1
        self.next_pid = _FIRST_PID
        self.live_pids: set[str] = set()
        self.slots = self._slots()
        self.recorder = Recorder(list(scenario.jobs), self.queue_names, [slot.name for slot in self.slots])
        # idle workers per queue code, in the order they went idle (dicts keep insertion order)
        self.waiting: list[dict[int, _Slot]] = [{} for _ in self.queue_names]

    # -- setup ------------------------------------------------------------------------------------------
    def _class_info(self, name: str, spec: JobSpec) -> _ClassInfo:
        """Register the job class ``name``: ``perform`` raises the attempt's drawn exception or returns;
        with a retry policy the class also mixes in the library's :class:`~resque_impl.plugins.Retry`."""
        jobs = self.jobs
        exception = self._exception

        def perform(job_id: int) -> None:
            raises = jobs[job_id].raises
            if raises is not None:
                raise exception(raises)(f"simulated {raises}")

        attributes: dict[str, Any] = {"queue": spec.queue, "perform": staticmethod(perform), "resque": self.resque}
        retry = spec.failure.retry if spec.failure.retry is not None and spec.failure.retry.max > 0 else None
        bases: tuple[type, ...] = ()
        if retry is not None:
            bases = (Retry,)
            attributes |= _retry_settings(retry, _DrawnJitter(self))
            attributes["after_enqueue_simulator"] = staticmethod(self._released)
        job_class = self.registry.register(type(f"SimulatedJob{len(self.registry)}", bases, attributes), name)
        return _ClassInfo(name, job_class, spec.queue, self.queue_codes[spec.queue], spec.memory.leak_mb, retry)

    def _exception(self, name: str) -> type[Exception]:
        """An exception class whose failure records name ``name`` (Ruby-style names like ``Net::ReadTimeout``)."""
        found = self.exceptions.get(name)
        if found is None:
            bases = (Exception,)
            found = self.exceptions[name] = type(f"SimulatedError{len(self.exceptions)}", bases, {"resque_name": name})
        return found

    def _slots(self) -> list[_Slot]:
        slots: list[_Slot] = []
        for pool in self.scenario.workers:
            patterns = Worker(pool.queues, resque=self.resque, hostname=_HOST, pid=0).queues
            covers = tuple(code for code, queue in enumerate(self.queue_names) if patterns.covers(queue))
            for number in range(pool.count):
                slots.append(
                    _Slot(
                        index=len(slots),
                        name=f"{pool.pool}-{number}",
                        pool=pool,
                        covers=covers,
                        interval=None if pool.interval == "instant" else float(pool.interval) + pool.poll_cost,
                        fork=pool.fork_per_job,
                        overhead=pool.job_overhead + (pool.fork_overhead if pool.fork_per_job else 0.0),
                        wake_latency=pool.wake_latency,
                        model=WorkerMemoryModel(pool.memory, pool.restart, fork_per_job=pool.fork_per_job),
                        jitter_rng=random_stream(self.seed, f"worker/{pool.pool}/{number}/max_jobs_jitter"),
                    )
                )
        return slots

    # -- jobs -------------------------------------------------------------------------------------------
    def _enqueue(self, job_id: int, job: _Job) -> None:
        self._pushed(job_id, job)
        info = self.classes[job.class_code]
        self.resque.enqueue(info.job_class, job_id)
        self._notify(info.queue_code)

    def _pushed(self, job_id: int, job: _Job) -> None:
        """Account for the next attempt of ``job`` being pushed now (a row, and one more job waiting)."""
        queue = self.classes[job.class_code].queue_code
        job.attempt += 1
        job.row = self.recorder.enqueued(job_id, job.class_code, queue, job.attempt, self.env.now)
        self.pending[queue] += 1

    def _released(self, job_id: int) -> None:
        """``after_enqueue`` hook of classes with retries: the scheduler just pushed a due retry."""
        if self.releasing:
            job = self.jobs[job_id]
            self._pushed(job_id, job)
            self.delayed -= 1
            self._notify(self.classes[job.class_code].queue_code)

    def _enqueue_batch(self, class_code: int, count: int) -> None:
        """``count`` new jobs of one class arriving at the same instant (a burst): one bulk push."""
        info, now, recorder, jobs, draw = (
            self.classes[class_code],
            self.env.now,
            self.recorder,
            self.jobs,
            self.sampler.draw,
        )
        first = self.next_job_id
        self.next_job_id += count
        for job_id in range(first, first + count):
            job = jobs[job_id] = _Job(draw(info.name), class_code)
            job.attempt = 1
            job.row = recorder.enqueued(job_id, class_code, info.queue_code, 1, now)
        self.resque.enqueue_many(info.job_class, [(job_id,) for job_id in range(first, first + count)])
        self.pending[info.queue_code] += count
        self._notify(info.queue_code, count)

    def _arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, sampler, jobs, codes = self.env, self.sampler, self.jobs, self.class_codes
        for (at, job_class), same in groupby(arrivals(self.scenario, self.seed), key=_TIME_AND_CLASS):
            if at > env.now:
                yield env.timeout(at - env.now)
            count = len(list(same))
            if count > 1:
                self._enqueue_batch(codes[job_class], count)
                continue
            job_id = self.next_job_id
            self.next_job_id += 1
            job = jobs[job_id] = _Job(sampler.draw(job_class), codes[job_class])
            self._enqueue(job_id, job)

    def _finished(self, job_id: int, job: _Job, outcome: Outcome) -> None:
        now = self.env.now
        if outcome.failed:
            self.recorder.finished(job.row, now, FAILED, outcome.exception)
            del self.jobs[job_id]
        elif job.raises is None:
            self.recorder.finished(job.row, now, COMPLETED)
            del self.jobs[job_id]
        else:
            # perform raised and the Retry plugin swallowed it, scheduling the next attempt
            self.recorder.finished(job.row, now, RETRIED, job.raises)
            job_class = self.classes[job.class_code].job_class
            if job_class.retry_delay_for(job.attempt) > 0:  # type: ignore[attr-defined]
                self.delayed += 1  # in the delayed queue until the scheduler releases it
                if self.scheduler_idle is not None and not self.scheduler_idle.triggered:
                    self.scheduler_idle.succeed()
            else:  # pushed at once (Resque.push: no hooks)
                self._pushed(job_id, job)
                self._notify(self.classes[job.class_code].queue_code)

    def _took(self, job: ReservedJob | None) -> ReservedJob | None:
        if job is not None:
            self.pending[self.queue_codes[job.queue]] -= 1
        return job

    def _has_work(self, slot: _Slot) -> bool:
        pending = self.pending
        for code in slot.covers:  # noqa: SIM110 - a plain loop: no generator per call on the hot path
            if pending[code]:
                return True
        return False

    # -- waking idle workers ----------------------------------------------------------------------------
    def _notify(self, queue: int, jobs: int = 1) -> None:
        """``jobs`` jobs were pushed to ``queue``: wake the idle workers that would see them (see the module
        docstring): every polling one, and one instant one per job."""
        waiting = self.waiting[queue]
        if not waiting:
            return
        instant_left = jobs
        for slot in list(waiting.values()):
            if slot.interval is None:
                if not instant_left:
                    continue
                instant_left -= 1
            self._wake(slot, queue)

    def _wake(self, slot: _Slot, queue: int, restart: str | None = None) -> None:
        for code in slot.covers:
            self.waiting[code].pop(slot.index, None)
        slot.waiting = False
        slot.woken_for = queue
        assert slot.wake is not None
        slot.wake.succeed(restart)

    def _idle(self, slot: _Slot) -> simpy.Event:
        slot.wake = self.env.event()
        slot.waiting = True
        for code in slot.covers:
            self.waiting[code][slot.index] = slot
        return slot.wake

    def _age_expired(self, slot: _Slot, incarnation: int) -> None:
        if slot.incarnation == incarnation and slot.waiting:
            self._wake(slot, -1, "max_age")

    # -- workers ----------------------------------------------------------------------------------------
    def _boot(self, slot: _Slot) -> Worker:
        pool = slot.pool
        pid = self.next_pid
        self.next_pid += 1
        self.live_pids.add(str(pid))
        options = WorkerOptions(
            fork_per_job=pool.fork_per_job,
            interval=slot.interval if slot.interval is not None else WorkerOptions().interval,
            notify=slot.interval is None,
        )
        worker = Worker(
            pool.queues,
            resque=self.resque,
            options=options,
            clock=self.clock,
            hostname=_HOST,
            pid=pid,
            server_time=False,
            local_pids=self._local_pids,
        )
        worker.prune_dead_workers()
        worker.register()
        worker.heartbeat()
        slot.worker = worker
        slot.incarnation += 1
        now = self.env.now
        slot.model.boot(now, slot.max_jobs())
        self.recorder.rss(slot.index, now, slot.model.rss_mb)
        deadline = slot.model.age_deadline()
        if deadline is not None:
            incarnation = slot.incarnation
            timer = self.env.timeout(deadline - now)
            timer.callbacks.append(lambda _event: self._age_expired(slot, incarnation))
        return worker

    def _local_pids(self) -> Collection[str]:
        return self.live_pids

    def _worker_life(self, slot: _Slot) -> Generator[simpy.Event, Any, None]:
        env, recorder = self.env, self.recorder
        boot_time = slot.pool.restart.boot_time
        while True:
            worker = self._boot(slot)
            reason = yield from self._serve(slot, worker)
            worker.unregister()
            self.live_pids.discard(str(worker.pid))
            slot.worker = None
            recorder.worker_down(slot.index, env.now, DOWN_REASONS.index(reason))
            if boot_time > 0:
                yield env.timeout(boot_time)
            recorder.worker_up(slot.index, env.now)

    def _serve(self, slot: _Slot, worker: Worker) -> Generator[simpy.Event, Any, str]:
        """Work until a restart policy (or the OOM killer) ends this worker process; returns the reason."""
        env, model = self.env, slot.model
        interval = slot.interval
        job = self._took(worker.reserve()) if self._has_work(slot) else None
        while True:
            if job is None:
                slot.polled_at = now = env.now
                reason = model.restart_reason(now)
                if reason is not None:
                    return reason
                restart = yield self._idle(slot)
                if restart is not None:
                    return str(restart)
                if interval is not None:
                    # sleep on to the next point of this worker's polling grid
                    ticks = max(1, math.ceil((env.now - slot.polled_at) / interval - 1e-9))
                    yield env.timeout(slot.polled_at + ticks * interval - env.now)
                elif slot.wake_latency:
                    yield env.timeout(slot.wake_latency)
                if self._has_work(slot):
                    job = self._took(worker.reserve())
                    woken_for = slot.woken_for
                    if job is not None and woken_for >= 0 and self.pending[woken_for]:
                        self._notify(woken_for)  # it took another queue's job: pass the wake-up on
                continue
            outcome = yield from self._run(slot, worker, job)
            if outcome is None:
                return "oom"
            reason = model.restart_reason(env.now)
            if reason is not None:
                worker.done(job, outcome)
                return reason
            if self._has_work(slot):
                job = self._took(worker.done(job, outcome, reserve_next=True))
            else:
                worker.done(job, outcome)
                job = None

    def _run(self, slot: _Slot, worker: Worker, job: ReservedJob) -> Generator[simpy.Event, Any, Outcome | None]:
        """Run one reserved job for its drawn duration; its outcome, or ``None`` when the OOM killer took
        the whole (in-process) worker, after acknowledging the job as failed."""
        env, recorder, model, fork, overhead = self.env, self.recorder, slot.model, slot.fork, slot.overhead
        job_id = job.args[0]
        state = self.jobs[job_id]
        draws = state.draws.attempt(state.attempt)
        now = env.now
        recorder.started(state.row, slot.index, now, now + overhead)
        plan = model.start_job(draws.working_set_mb)
        recorder.rss(slot.index, now, plan.peak_mb, peak=True)
        if plan.oom_fraction is not None:
            yield env.timeout(overhead + draws.duration * plan.oom_fraction)
            outcome = worker.fail(job, DirtyExit(_OOM_MESSAGE))
            self._finished(job_id, state, outcome)
            if not fork:
                worker.done(job, outcome)
                return None
            model.killed_job()
            return outcome
        yield env.timeout(overhead + draws.duration)
        state.raises = draws.exception
        self.jitter_draw = draws.retry_jitter
        outcome = worker.perform(job)
        self._finished(job_id, state, outcome)
        rss = model.finish_job(draws.working_set_mb, self.classes[state.class_code].leak_mb)
        if not fork:
            recorder.rss(slot.index, env.now, rss)
        return outcome

    # -- the run ---------------------------------------------------------------------------------------
    def _heartbeats(self) -> Generator[simpy.Event, Any, None]:
        interval = WorkerOptions().heartbeat_interval
        while True:
            yield self.env.timeout(interval)
            for slot in self.slots:
                if slot.worker is not None:
                    slot.worker.heartbeat()

    def _scheduler(self) -> Generator[simpy.Event, Any, None]:
        """resque-scheduler, polling every ``DEFAULT_INTERVAL`` seconds from time 0 (the real
        :meth:`Scheduler.poll`): it releases due retries, whose hook tells the engine.  While no retry
        is waiting it has nothing to do, so it sleeps until one is scheduled."""
        env = self.env
        scheduler = Scheduler(self.resque, (), lock=MasterLock(self.store, identity=f"{_HOST}:scheduler"))
        interval = scheduler.interval
        while True:
            if not self.delayed:
                self.scheduler_idle = env.event()
                yield self.scheduler_idle
                self.scheduler_idle = None
            # the scheduler has polled at 0, interval, 2 interval, ... all along; the next of those
            next_poll = math.ceil(env.now / interval - 1e-9) * interval
            if next_poll <= self.last_poll:
                next_poll += interval
            if next_poll > env.now:
                yield env.timeout(next_poll - env.now)
            self.last_poll = env.now
            self.releasing = True
            try:
                scheduler.poll()
            finally:
                self.releasing = False

    def _progress(self, report: Callable[[float], None]) -> Generator[simpy.Event, Any, None]:
        step = self.scenario.duration / _PROGRESS_STEPS
        while True:
            yield self.env.timeout(step)
            report(min(1.0, self.env.now / self.scenario.duration))

    def _sample_store_memory(self, store: Store) -> Generator[simpy.Event, Any, None]:
        step = bucket_width(self.scenario.duration)
        while True:
            self.recorder.store_memory(self.env.now, int(store.redis_info().get("used_memory", 0)))
            yield self.env.timeout(step)

    def run(self) -> RunRecord:
        """Simulate to the scenario's duration and return the records (call once)."""
        started = time.perf_counter()
        env = self.env
        env.process(self._arrivals())
        for slot in self.slots:
            env.process(self._worker_life(slot))
        env.process(self._heartbeats())
        if any(info.retry is not None for info in self.classes):
            env.process(self._scheduler())
        if self.progress is not None:
            env.process(self._progress(self.progress))
        if self.backend.kind == "redis" and isinstance(self.store, Store):
            env.process(self._sample_store_memory(self.store))
        env.run(until=self.scenario.duration)
        return self.recorder.freeze(
            scenario=self.scenario.name,
            replication=self.replication,
            seed=self.seed,
            backend=self.backend.kind,
            duration=self.scenario.duration,
            warmup=self.scenario.warmup,
            wall_seconds=time.perf_counter() - started,
        )


class _DrawnJitter:
    """Stands in for the Retry plugin's ``retry_random``: its jitter comes from the failed attempt's own
    draw, so retries keep common random numbers across a sweep."""

    def __init__(self, simulation: Simulation) -> None:
        self._simulation = simulation

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self._simulation.jitter_draw


def _retry_settings(policy: RetryPolicy, jitter: _DrawnJitter) -> dict[str, Any]:
    """The Retry plugin's class attributes for a scenario's retry policy (no cap on the delay, as the
    scenario has none; ``linear`` as the list of its delays)."""
    backoff: str | list[float]
    if isinstance(policy.backoff, tuple):
        backoff = list(policy.backoff)
    elif policy.backoff == "linear":
        backoff = [policy.base * retry for retry in range(1, policy.max + 1)]
    else:
        backoff = policy.backoff
    return {
        "retry_limit": policy.max,
        "retry_backoff": backoff,
        "retry_delay": policy.base,
        "retry_max_delay": math.inf,
        "retry_jitter": policy.jitter,
        "retry_random": jitter,
    }


def simulate(
    scenario: Scenario,
    *,
    replication: int = 0,
    backend: Backend | None = None,
    progress: Callable[[float], None] | None = None,
) -> RunRecord:
    """Run replication ``replication`` of ``scenario`` (seed ``scenario.seed + replication``) and return
    its records.  ``backend`` defaults to the scenario's; ``progress`` is called now and then with the
    fraction of simulated time done."""
    return Simulation(scenario, replication, backend or Backend.for_scenario(scenario), progress).run()
