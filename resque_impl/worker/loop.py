"""The production work loop: :meth:`Worker.work <resque_impl.worker.Worker.work>` runs a :class:`WorkLoop`.

Startup, as Ruby Resque: title ``Starting``, signal handlers, heartbeat thread, prune dead workers,
``before_first_fork`` hooks, register. Then, until told to stop: reserve (the previous job's
acknowledgement and the next reservation share one round trip), run the job (forked or not), record
its outcome; when idle, wait up to ``interval`` seconds for a push notification on one of our queues
(or a signal), then poll again. Dead workers are pruned at startup and then every heartbeat interval
(under the cluster-wide lock, so one worker at a time does it).

Redis going away never ends the loop: every step is retried with capped exponential backoff, the job
in hand is kept, and once Redis answers again the worker re-registers if its keys were lost and takes
back any job it reserved whose reply never arrived.
"""

from __future__ import annotations

import functools
import gc
import logging
import select
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from resque_impl.errors import (
    DirtyExit,
    DurabilityError,
    JobTimeoutError,
    MemoryLimitError,
    ResqueConnectionError,
    ResqueError,
    TermException,
)
from resque_impl.worker.child import Child
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.forking import describe_end, outcome_of
from resque_impl.worker.forks import Forks
from resque_impl.worker.heartbeat import Heartbeat, HeartbeatThread
from resque_impl.worker.limits import Watch, alarm, job_timeout, restart_reason
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.outcome import Outcome, ReservedJob
from resque_impl.worker.process import note_worker_process
from resque_impl.worker.signals import WakeupPipe, installed_handlers
from resque_impl.worker.titles import set_title

if TYPE_CHECKING:
    from resque_impl.store.protocol import NotificationSource

__all__ = ["WorkLoop"]

logger = logging.getLogger("resque_impl.worker")
T = TypeVar("T")

#: Longest a wait goes without looking at the signal flags (the idle wait on pub/sub cannot be woken
#: by the signal pipe).
_SLICE = 0.1


class WorkLoop:
    """One run of a worker's loop; :meth:`run` returns the exit code."""

    def __init__(self, worker: LoopWorker, options: WorkerOptions) -> None:
        worker.options = options
        self.worker = worker
        self.options = options
        self.shutting_down = False  # finish the current job, then stop
        self.stopping_now = False  # TERM / INT: stop the current job too
        self.paused = False  # USR2 until CONT
        self._pause_announced = False
        self._signals: list[str] = []
        self.child: Child | None = None
        self._forks = Forks(worker, options)
        self._in_job = False
        self._held: ReservedJob | None = None
        self._wakeup = WakeupPipe()
        self._handling_signals = False
        self._subscription: NotificationSource | None = None
        self._heartbeat: Heartbeat | None = None
        self._lost_connection = False
        self._next_prune = 0.0
        self._over_memory: str | None = None
        self._crash: DirtyExit | None = None

    # -- signals (handlers only set flags and signal the child) ----------------------------------------
    def _handlers(self) -> dict[str, Callable[[], None]]:
        return {
            "TERM": self._on_term,
            "INT": self._on_int,
            "QUIT": self._on_quit,
            "USR1": self._on_usr1,
            "USR2": self._on_usr2,
            "CONT": self._on_cont,
        }

    def _on_term(self) -> None:
        self._signals.append("TERM")
        if self.options.graceful_term:
            self.shutting_down = True
        else:
            self._stop_now()

    def _on_int(self) -> None:
        self._signals.append("INT")
        self._stop_now()

    def _stop_now(self) -> None:
        first = not self.stopping_now
        self.shutting_down = self.stopping_now = True
        self._stop_child()
        if first and self._in_job and self.options.term_child:
            raise TermException("SIGTERM")

    def _on_quit(self) -> None:
        self._signals.append("QUIT")
        self.shutting_down = True

    def _on_usr1(self) -> None:
        self._signals.append("USR1")
        self._stop_child()

    def _on_usr2(self) -> None:
        self._signals.append("USR2")
        self.paused = True

    def _on_cont(self) -> None:
        self._signals.append("CONT")
        self.paused = False

    def _stop_child(self) -> None:
        if self.child is not None:
            self.child.stop(
                term_child=self.options.term_child,
                pre_shutdown=self.options.pre_shutdown_timeout,
                term_timeout=self.options.term_timeout,
            )

    def _log_signals(self) -> None:
        while self._signals:
            logger.info("%s received", self._signals.pop(0))

    # -- running ----------------------------------------------------------------------------------------
    def run(self) -> int:
        set_title("Starting")
        code = 0
        error: BaseException | None = None
        with installed_handlers(self._handlers(), self._wakeup) as self._handling_signals:
            try:
                self._startup()
                self._loop()
            except TermException:
                logger.info("stopped by TERM")
            except Exception as failure:
                logger.exception("worker %s failed", self.worker.id)
                error, code = failure, 1
            finally:
                self._teardown(error)
        self._wakeup.close()
        return code

    def _start_heartbeat(self) -> Heartbeat:
        beating = HeartbeatThread(self.worker, self.options.heartbeat_interval)
        beating.start()
        return beating

    def _subscribe(self) -> NotificationSource:
        return self.worker.store.subscribe()

    def _startup(self) -> None:
        worker = self.worker
        note_worker_process()
        logger.info("starting worker %s", worker.id)
        self._redis(worker.remove_heartbeat, "removing an old heartbeat")
        self._heartbeat = self._start_heartbeat()
        self._prune()
        worker.run_before_first_fork()
        self._redis(worker.register, "registering")
        if self.options.fork_per_job:
            # What startup made (modules, job classes, connections) lives as long as the worker. Out of
            # the collector's sight, its objects are not written to by collections in the worker or in
            # a child, which would copy their pages in every child.
            gc.freeze()
        if self.options.notify:
            self._subscription = self._subscribe()

    def _loop(self) -> None:
        worker = self.worker
        job: ReservedJob | None = None
        was_busy = False
        while True:
            self._log_signals()
            self._held = job
            if self.shutting_down:
                break
            self._announce_pause()
            if self.paused:
                set_title("Paused")
                self._idle(3600.0, paused=True)
                continue
            if worker.now() >= self._next_prune:
                self._prune()
            if job is None:
                job = self._held = self._redis(self._next_job, "reserving a job")
            if job is None:
                if worker.paused_by_key and not self.options.burst:
                    set_title("Paused")
                    self._idle(self.options.interval or 1.0)
                    continue
                if was_busy:
                    was_busy = False
                    self._hook("queue_empty")
                if self.options.burst:
                    break
                set_title(f"Waiting for {','.join(worker.queues.patterns)}")
                self._idle(self.options.interval)
                continue
            was_busy = True
            outcome = self._work(job)
            if outcome is None:
                # Its process was killed from outside: the job went back to its queue, or it is poison.
                outcome = self._redis(functools.partial(self._requeue_crashed, job), "requeueing a crashed job")
                if outcome is None:
                    job = None
                    continue
            if outcome.failed:
                self._redis(functools.partial(worker.save_failure, job, outcome), "recording a failure")
            reason = self._over_memory or restart_reason(worker, worker.processed + 1)
            more = not (self.shutting_down or self.paused or reason)
            job = self._acknowledge(job, outcome, more)
            if reason is not None:
                logger.info("stopping for a restart: %s", reason)
                self.shutting_down = True
        if job is not None:
            self._redis(functools.partial(worker.release, job), "giving back an unstarted job")
            self._held = None

    def _next_job(self) -> ReservedJob | None:
        worker = self.worker
        if self._lost_connection:
            self._lost_connection = False
            if not worker.is_registered():
                logger.warning("worker %s was not registered any more (Redis lost its data?); registering", worker.id)
                worker.register()
                worker.heartbeat()
            adopted = worker.adopt()
            if adopted is not None:
                logger.warning("taking back in-flight job %s from %s", adopted.describe(), adopted.queue)
                return adopted
        return worker.reserve()

    def _acknowledge(self, job: ReservedJob, outcome: Outcome, reserve_next: bool) -> ReservedJob | None:
        try:
            return self.worker.acknowledge(job, outcome, reserve_next=reserve_next)
        except ResqueConnectionError as error:
            logger.warning("lost Redis while acknowledging a job: %s", error)
            self._lost_connection = True
        # The reply may have been lost after Redis acted; acknowledging again is harmless, and any job
        # the lost reply reserved is taken back by _next_job.
        self._redis(functools.partial(self.worker.acknowledge, job, outcome), "acknowledging a job")
        return None

    def _work(self, job: ReservedJob) -> Outcome | None:
        """Run ``job``; ``None`` if its child was killed from outside (see :meth:`_requeue_crashed`)."""
        worker = self.worker
        set_title(f"Processing {job.queue} since {int(worker.now())} [{job.describe()}]")
        logger.info("got: %s from %s", job.describe(), job.queue)
        timeout = job_timeout(worker, job)
        worker.begin(job)
        run = self._work_forked if self.options.fork_per_job else self._work_here
        outcome = run(job, timeout)
        if outcome is None:
            logger.warning("crashed: %s from %s: %s", job.describe(), job.queue, self._crash)
        elif outcome.failed:
            logger.info("failed: %s from %s: %s: %s", job.describe(), job.queue, outcome.exception, outcome.error)
        else:
            logger.info("done: %s from %s", job.describe(), job.queue)
        return outcome

    def _work_forked(self, job: ReservedJob, timeout: float | None) -> Outcome | None:
        worker = self.worker
        try:
            worker.hooks.run("before_fork", worker, job)
        except Exception as error:
            return worker.fail(job, error)
        child = self._forks.child(job, timeout)
        self.child = child
        try:
            if self.stopping_now:
                self._stop_child()
            set_title(f"Forked {child.pid} at {int(worker.now())}")
            self._forks.start_server(shutting_down=self.shutting_down)
            result = child.wait(self._wakeup if self._handling_signals else None)
        finally:
            self.child = None
        self._forks.reported(child)
        if self.options.reliable and result.killed_from_outside:
            self._crash = DirtyExit(describe_end(result.pid, result.status))
            return None
        return outcome_of(worker, job, result)

    def _requeue_crashed(self, job: ReservedJob) -> Outcome | None:
        return self.worker.requeue_crashed(job, self._crash or DirtyExit("Child process was killed"))

    def _work_here(self, job: ReservedJob, timeout: float | None) -> Outcome:
        outcome: Outcome | None = None
        watch: Watch | None = None
        self._in_job = True
        try:
            if timeout is None and self.options.max_memory_mb is None:
                outcome = self.worker.perform(job)
            else:
                with alarm(timeout, self.options.max_memory_mb) as watch:
                    outcome = self.worker.perform(job)
        except (JobTimeoutError, MemoryLimitError, TermException) as error:
            # Raised by the alarm or a signal just outside perform, which catches them inside.
            if outcome is None:
                outcome = self.worker.fail(job, error)
        finally:
            self._in_job = False
        if watch is not None and watch.memory_mb is not None:
            self._over_memory = f"resident memory reached {watch.memory_mb:.0f} MB during a job, over the limit"
        return outcome

    # -- waiting ----------------------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        """Wait ``seconds``, or less if a signal arrives."""
        if seconds <= 0:
            return
        if self._handling_signals:
            ready, _, _ = select.select([self._wakeup.fd], [], [], seconds)
            if ready:
                self._wakeup.drain()
        else:
            time.sleep(min(seconds, _SLICE))

    def _idle(self, seconds: float, *, paused: bool = False) -> None:
        """Wait up to ``seconds`` for a push to one of our queues, a signal, or the pause to end."""
        self._forks.reap()  # no zombie left while idle
        deadline = time.monotonic() + seconds
        while True:
            self._log_signals()
            if self.shutting_down or self.paused != paused:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = min(remaining, _SLICE)
            if self._subscription is None or paused:
                self._sleep(step)
                continue
            try:
                names = self._subscription.wait(step)
            except ResqueConnectionError:
                self._sleep(step)
                continue
            if any(self.worker.queues.covers(name) for name in names):
                return

    def _redis(self, action: Callable[[], T], doing: str) -> T:
        """``action()``, retried with capped exponential backoff while Redis is unreachable."""
        delay = 0.1
        while True:
            try:
                result = action()
            except ResqueConnectionError as error:
                if self.stopping_now:
                    raise
                self._lost_connection = True
                logger.warning("lost Redis while %s: %s; retrying in %.1f s", doing, error, delay)
                self._sleep(delay)
                # An unconfirmed durable write came from a primary that answered, after its WAIT had
                # already waited wait_timeout: the next WAIT returns the moment the replicas are back
                # (after a SENTINEL FAILOVER, when the sentinels demote the old primary), so backing
                # off further would only leave the worker idle after that.
                if not isinstance(error, DurabilityError):
                    delay = min(delay * 2, self.options.reconnect_max_delay)
                continue
            if delay > 0.1:
                logger.warning("Redis is back (%s)", doing)
            return result

    # -- the rest ---------------------------------------------------------------------------------------
    def _prune(self) -> None:
        self._next_prune = self.worker.now() + self.options.heartbeat_interval
        pruned = self._redis(self.worker.prune_dead_workers, "pruning dead workers")
        if pruned:
            logger.info("pruned dead workers: %s", ", ".join(pruned))

    def _announce_pause(self) -> None:
        if self.paused and not self._pause_announced:
            self._pause_announced = True
            logger.info("paused: taking no new jobs until CONT")
            self._hook("before_pause")
        elif not self.paused and self._pause_announced:
            self._pause_announced = False
            logger.info("resumed")
            self._hook("after_pause")

    def _hook(self, name: str) -> None:
        try:
            self.worker.hooks.run(name, self.worker)
        except Exception:
            logger.exception("%s hook failed", name)

    def _teardown(self, error: BaseException | None) -> None:
        set_title("Shutting down")
        self._forks.close()
        self._hook("shutdown")
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self._subscription is not None:
            self._subscription.close()
        try:
            self.worker.unregister(error)
        except ResqueError as failure:
            logger.error("could not unregister worker %s: %s", self.worker.id, failure)
        logger.info("worker %s exiting", self.worker.id)
        self._hook("worker_exit")
