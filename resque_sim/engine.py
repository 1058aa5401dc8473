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
  ``fork_overhead`` when it forks) passes as a SimPy timeout before it.  A forking pool that sets
  ``fork_start`` has only that part of ``fork_overhead`` before perform (the fork and the child's start);
  the rest passes after the job has finished, before the worker acknowledges it and reserves again (the
  child's report and exit: the worker is busy, the job is done);
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

The store's backend and the simulated clock are :mod:`resque_sim.backend`'s (re-exported here), the job
classes :mod:`resque_sim.job_classes`', the simulated workers :mod:`resque_sim.slots`', what waits for
them :mod:`resque_sim.idling`'s, and resque-scheduler :mod:`resque_sim.scheduler_process`'s.
"""

from __future__ import annotations

import math
import operator
import time
from collections.abc import Callable, Collection, Generator
from itertools import groupby
from typing import Any

import simpy

from resque_impl import DirtyExit, Registry, Resque
from resque_impl.store import Store
from resque_impl.worker import Outcome, ReservedJob, Worker, WorkerOptions
from resque_sim.backend import EPOCH, Backend, BackendError, SimClock
from resque_sim.cpu import hold_job
from resque_sim.distributions import Arrival, JobSampler, arrivals
from resque_sim.idling import IdleWorkers
from resque_sim.job_classes import JobClasses, JobInFlight
from resque_sim.records import COMPLETED, DOWN_REASONS, FAILED, RETRIED, Recorder, RunRecord
from resque_sim.scenario import Scenario
from resque_sim.scheduler_process import SimulatedScheduler
from resque_sim.slots import Slot, pool_slots
from resque_sim.timeseries import bucket_width

__all__ = ["EPOCH", "Backend", "BackendError", "SimClock", "Simulation", "simulate"]

_HOST = "sim"
_FIRST_PID = 1000
_PROGRESS_STEPS = 200
#: An arrival's (time, job_class), picked in C: the key arrivals are grouped by, once per job.
_TIME_AND_CLASS = operator.itemgetter(Arrival._fields.index("time"), Arrival._fields.index("job_class"))
_OOM_MESSAGE = "the job's process was killed for using more memory than its limit (simulated OOM kill)"


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
        self.jobs: dict[int, JobInFlight] = {}
        job_classes = JobClasses(self.resque, self.registry, self.jobs, lambda: self.jitter_draw, self._released)
        self.classes = [
            job_classes.register(name, spec, self.queue_codes[spec.queue]) for name, spec in scenario.jobs.items()
        ]
        self.class_codes = {info.name: code for code, info in enumerate(self.classes)}
        # jobs waiting per queue code (pushes counted here, reserves subtracted, so a poll that cannot
        # find work is never sent: the store stays the only place jobs are taken from), and idle workers
        self.idle = IdleWorkers(self.env, len(self.queue_names))
        self.scheduler = SimulatedScheduler(self.env, self.resque, self.store, f"{_HOST}:scheduler")
        self.jitter_draw = 0.5
        self.next_job_id = 1
        self.next_pid = _FIRST_PID
        self.live_pids: set[str] = set()
        self.slots = pool_slots(scenario, self.resque, self.queue_names, self.env, self.seed, _HOST)
        self.recorder = Recorder(list(scenario.jobs), self.queue_names, [slot.name for slot in self.slots])

    # -- jobs -------------------------------------------------------------------------------------------
    def _enqueue(self, job_id: int, job: JobInFlight) -> None:
        self._pushed(job_id, job)
        info = self.classes[job.class_code]
        self.resque.enqueue(info.job_class, job_id)
        self.idle.notify(info.queue_code)

    def _pushed(self, job_id: int, job: JobInFlight) -> None:
        """Account for the next attempt of ``job`` being pushed now (a row, and one more job waiting)."""
        queue = self.classes[job.class_code].queue_code
        job.attempt += 1
        job.row = self.recorder.enqueued(job_id, job.class_code, queue, job.attempt, self.env.now)
        self.idle.pending[queue] += 1

    def _released(self, job_id: int) -> None:
        """``after_enqueue`` hook of classes with retries: the scheduler just pushed a due retry."""
        if self.scheduler.releasing:
            job = self.jobs[job_id]
            self._pushed(job_id, job)
            self.scheduler.released()
            self.idle.notify(self.classes[job.class_code].queue_code)

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
            job = jobs[job_id] = JobInFlight(draw(info.name), class_code)
            job.attempt = 1
            job.row = recorder.enqueued(job_id, class_code, info.queue_code, 1, now)
        self.resque.enqueue_many(info.job_class, [(job_id,) for job_id in range(first, first + count)])
        self.idle.pending[info.queue_code] += count
        self.idle.notify(info.queue_code, count)

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
            job = jobs[job_id] = JobInFlight(sampler.draw(job_class), codes[job_class])
            self._enqueue(job_id, job)

    def _finished(self, job_id: int, job: JobInFlight, outcome: Outcome) -> None:
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
                self.scheduler.scheduled()  # in the delayed queue until the scheduler releases it
            else:  # pushed at once (Resque.push: no hooks)
                self._pushed(job_id, job)
                self.idle.notify(self.classes[job.class_code].queue_code)

    def _took(self, job: ReservedJob | None) -> ReservedJob | None:
        if job is not None:
            self.idle.pending[self.queue_codes[job.queue]] -= 1
        return job

    # -- workers ----------------------------------------------------------------------------------------
    def _boot(self, slot: Slot) -> Worker:
        pool = slot.pool
        pid = self.next_pid
        self.next_pid += 1
        self.live_pids.add(str(pid))
        options = WorkerOptions(
            fork_per_job=pool.forks,
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
            timer.callbacks.append(lambda _event: self.idle.age_expired(slot, incarnation))
        return worker

    def _local_pids(self) -> Collection[str]:
        return self.live_pids

    def _worker_life(self, slot: Slot) -> Generator[simpy.Event, Any, None]:
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

    def _serve(self, slot: Slot, worker: Worker) -> Generator[simpy.Event, Any, str]:
        """Work until a restart policy (or the OOM killer) ends this worker process; returns the reason."""
        env, model = self.env, slot.model
        interval = slot.interval
        job = self._took(worker.reserve()) if self.idle.has_work(slot) else None
        while True:
            if job is None:
                slot.polled_at = now = env.now
                reason = model.restart_reason(now)
                if reason is not None:
                    return reason
                restart = yield self.idle.idle(slot)
                if restart is not None:
                    return str(restart)
                if interval is not None:
                    # sleep on to the next point of this worker's polling grid
                    ticks = max(1, math.ceil((env.now - slot.polled_at) / interval - 1e-9))
                    yield env.timeout(slot.polled_at + ticks * interval - env.now)
                elif slot.wake_latency:
                    yield env.timeout(slot.wake_latency)
                if self.idle.has_work(slot):
                    job = self._took(worker.reserve())
                    woken_for = slot.woken_for
                    if job is not None and woken_for >= 0 and self.idle.pending[woken_for]:
                        self.idle.notify(woken_for)  # it took another queue's job: pass the wake-up on
                continue
            outcome = yield from self._run(slot, worker, job)
            if outcome is None:
                return "oom"
            reason = model.restart_reason(env.now)
            if reason is not None:
                worker.done(job, outcome)
                return reason
            if self.idle.has_work(slot):
                job = self._took(worker.done(job, outcome, reserve_next=True))
            else:
                worker.done(job, outcome)
                job = None

    def _run(self, slot: Slot, worker: Worker, job: ReservedJob) -> Generator[simpy.Event, Any, Outcome | None]:
        """Run one reserved job for its drawn duration, and hold the worker for the slot's ``after``; its
        outcome, or ``None`` when the OOM killer took the whole (in-process) worker, after acknowledging
        the job as failed."""
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
            if slot.after:
                yield env.timeout(slot.after)
            return outcome
        yield from hold_job(env, slot.cpu, overhead, draws.duration, self.classes[state.class_code].cpu_fraction)
        state.raises = draws.exception
        self.jitter_draw = draws.retry_jitter
        outcome = worker.perform(job)
        self._finished(job_id, state, outcome)
        rss = model.finish_job(draws.working_set_mb, self.classes[state.class_code].leak_mb)
        if not fork:
            recorder.rss(slot.index, env.now, rss)
        if slot.after:
            yield env.timeout(slot.after)
        return outcome

    # -- the run ---------------------------------------------------------------------------------------
    def _heartbeats(self) -> Generator[simpy.Event, Any, None]:
        interval = WorkerOptions().heartbeat_interval
        while True:
            yield self.env.timeout(interval)
            for slot in self.slots:
                if slot.worker is not None:
                    slot.worker.heartbeat()

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
            env.process(self.scheduler.run())
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
