"""``--concurrency N``: N job slots in one worker process (see :mod:`.slots` for one slot).

Each slot is a worker of its own in Redis (id from :func:`~resque_impl.worker.slots.slot_id`), with its
own registration, heartbeat, stats and in-flight list, running the production work loop in a thread;
the slots of a namespace share one heartbeat thread and one push-notification subscription.
The main thread owns the signals and acts on every slot:

======  ==============================================================================================
QUIT    every slot finishes the job in hand, then the process exits
TERM    every job in hand is interrupted (:class:`TermException`, at once, or after
INT     ``RESQUE_PRE_SHUTDOWN_TIMEOUT`` with ``TERM_CHILD``; coroutines are cancelled); a slot whose
        thread has not ended ``RESQUE_TERM_TIMEOUT`` seconds later (stuck in a C call) is retired from
        here, its job going back to its queue, and the process exits. ``GRACEFUL_TERM``: as QUIT
USR1    every job in hand is interrupted (a ``DirtyExit``), the slots work on
USR2    every slot finishes its job and pauses; CONT resumes them
======  ==============================================================================================

The job timeout applies to each slot's job: the main thread interrupts a job past it. The memory limit
cannot be per slot (threads share one address space): each slot checks the process's resident memory
after each job, and the first to find it over the limit stops the process as QUIT does, for a
supervisor to start a fresh one. So does a slot that reaches ``max_jobs`` (counted per slot). A slot
whose loop fails unexpectedly is retired (its job requeued by reliable fetch) and started again.

Jobs are never forked here: fork-per-job in a process with several threads would copy into the child
locks other threads hold, so the CLI refuses ``--fork`` with ``--concurrency`` above 1.

Several namespaces (:func:`work_namespaces`, ``resque-impl work --namespace a --namespace b``): each
gets ``concurrency`` slots of its own, whose workers use that namespace's :class:`~resque_impl.Resque`
and register in it (slot ids restart at the plain ``host:pid:queues`` in each), and each slot's thread
(and the coroutines its jobs start) sees that Resque as the process default
(:func:`resque_impl.default.scoped`), so jobs and plugins enqueue into their own namespace. No order
holds across namespaces: each reserves with its own slots, so a busy one never starves another.
"""

from __future__ import annotations

import functools
import logging
import select
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from resque_impl.clock import Clock
from resque_impl.default import scoped
from resque_impl.errors import DirtyExit, JobTimeoutError, ResqueError, TermException
from resque_impl.job_metrics import JobMetricsRecorder
from resque_impl.store import StoreProtocol
from resque_impl.worker.heartbeat import SharedHeartbeat
from resque_impl.worker.notifications import SharedNotifications
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.signals import HANDLED, WakeupPipe, installed_handlers
from resque_impl.worker.slots import EventLoopThread, SlotLoop, slot_id
from resque_impl.worker.steps import Worker

__all__ = ["work_concurrently", "work_namespaces"]

logger = logging.getLogger("resque_impl.worker")

#: Longest the main thread waits without looking at its slots (timeouts, ended threads).
_TICK = 0.05


class _LockedRecorder(JobMetricsRecorder):
    """The job-metrics recorder, shared by the slots' threads."""

    def __init__(self, store: StoreProtocol, clock: Clock) -> None:
        super().__init__(store, clock)
        self._lock = threading.RLock()

    def handle(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        with self._lock:
            super().handle(name, measurements, metadata)

    def flush(self, *, sample_depths: bool = True) -> None:
        with self._lock:
            super().flush(sample_depths=sample_depths)


class _Concurrent:
    def __init__(self, makers: Sequence[Callable[[], Worker]], options: WorkerOptions, concurrency: int) -> None:
        # One maker a namespace; slot ``index`` belongs to namespace ``index // concurrency``.
        self.makers = list(makers)
        self.options = options
        self.concurrency = concurrency
        self.events = EventLoopThread()
        self.heartbeats = SharedHeartbeat(options.heartbeat_interval)
        self.notifications: list[SharedNotifications] = []  # one a namespace
        self.slots: list[SlotLoop] = []
        self.threads: list[threading.Thread] = []
        self.wakeup = WakeupPipe()
        self.signals: list[str] = []
        self.stopping = False  # QUIT (or a slot stopped for a restart): no new jobs
        self.stop_now_at: float | None = None  # TERM/INT: when to interrupt the jobs in hand
        self.give_up_at: float | None = None  # TERM/INT: when to stop waiting for the slots
        self.paused = False
        # Set once every slot's thread is started: a slot starting work while the main thread still
        # starts the others makes both wait for the GIL, and the last slots began 0.1 s after the first.
        self.go = threading.Event()

    # -- signals (handlers only note them; the main loop acts) ------------------------------------------
    def handlers(self) -> dict[str, Callable[[], None]]:
        return {name: functools.partial(self.signals.append, name) for name in HANDLED}

    def _act_on_signals(self) -> None:
        while self.signals:
            name = self.signals.pop(0)
            logger.info("%s received", name)
            if name == "QUIT" or (name == "TERM" and self.options.graceful_term):
                self._stop_all()
            elif name in ("TERM", "INT"):
                self._stop_all()
                if self.stop_now_at is None:
                    delay = self.options.pre_shutdown_timeout if self.options.term_child else 0.0
                    self.stop_now_at = time.monotonic() + delay
                    self.give_up_at = self.stop_now_at + self.options.term_timeout
                    for slot in self.slots:
                        slot.stopping_now = True
            elif name == "USR1":
                for slot in self.slots:
                    slot.interrupt(DirtyExit("job was interrupted by USR1"))
            elif name in ("USR2", "CONT"):
                self.paused = name == "USR2"
                for slot in self.slots:
                    slot.paused = self.paused

    def _stop_all(self) -> None:
        self.stopping = True
        for slot in self.slots:
            slot.shutting_down = True

    # -- slots ------------------------------------------------------------------------------------------
    def _start(self, index: int, worker: Worker) -> None:
        worker.id = slot_id(worker.id, index % self.concurrency)
        worker.options = self.options
        notifications = self.notifications[index // self.concurrency]
        # The first slot of each namespace prunes for all of them.
        first = index % self.concurrency == 0
        slot = SlotLoop(worker, self.options, index, self.events, self.heartbeats, notifications, prunes=first)
        slot.paused = self.paused
        slot.shutting_down = self.stopping
        slot.stopping_now = self.stop_now_at is not None
        thread = threading.Thread(target=_run_slot, args=(slot, self.go), name=f"resque-slot-{index}", daemon=True)
        if index < len(self.slots):
            self.slots[index], self.threads[index] = slot, thread
        else:
            self.slots.append(slot)
            self.threads.append(thread)
        thread.start()

    def _watch(self, now: float) -> None:
        for index, slot in enumerate(self.slots):
            if slot.deadline is not None and now >= slot.deadline and slot.busy:
                slot.interrupt(
                    JobTimeoutError(f"job ran longer than its {slot.timeout:g} s timeout and was interrupted")
                )
            if self.stop_now_at is not None and now >= self.stop_now_at:
                slot.interrupt(TermException("SIGTERM"))
            thread = self.threads[index]
            if thread.is_alive() or slot.code is None or self.stopping:
                continue
            if slot.code != 0:
                logger.warning("slot %d (%s) ended with %d; starting it again", index, slot.worker.id, slot.code)
                self._start(index, self._fresh_worker(index))
            elif not self.options.burst:
                logger.info("slot %d stopped for a restart; stopping the others", index)
                self._stop_all()

    def _fresh_worker(self, index: int) -> Worker:
        worker = self.makers[index // self.concurrency]()
        worker.before_first_fork_ran = True  # they ran once, in the first slot's worker
        return worker

    def run(self) -> int:
        firsts = [make() for make in self.makers]
        self.notifications = [SharedNotifications(first.store.subscribe) for first in firsts]
        # One recorder a namespace: each writes its namespace's job metrics.
        recorders = (
            [_LockedRecorder(first.store, first.clock).attach(first.events) for first in firsts]
            if self.options.job_metrics
            else []
        )
        code = 0
        with installed_handlers(self.handlers(), self.wakeup) as handling:
            try:
                firsts[0].run_before_first_fork()
                for group, first in enumerate(firsts):
                    first.before_first_fork_ran = True
                    base = group * self.concurrency
                    for index in range(base, base + self.concurrency):
                        self._start(index, first if index == base else self._fresh_worker(index))
                self.go.set()
                logger.info("running %d job slots", len(self.slots))
                self._wait(handling)
            except Exception:
                logger.exception("the worker's main thread failed; stopping every slot")
                code = 1
                self._abandon()
            finally:
                for recorder in recorders:
                    recorder.detach()
                self.events.stop()
                self.heartbeats.close()
                for notifications in self.notifications:
                    notifications.close()
        self.wakeup.close()
        return code

    def _abandon(self) -> None:
        """Stop every slot now and retire those that do not stop within the TERM timeout."""
        self._stop_all()
        self.go.set()  # slots not yet let go see they must stop
        deadline = time.monotonic() + self.options.term_timeout
        for slot in self.slots:
            slot.stopping_now = True
            slot.interrupt(TermException("SIGTERM"))
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._retire_stuck()

    def _wait(self, handling: bool) -> None:
        while True:
            if handling:
                ready, _, _ = select.select([self.wakeup.fd], [], [], _TICK)
                if ready:
                    self.wakeup.drain()
            else:
                time.sleep(_TICK)
            self._act_on_signals()
            now = time.monotonic()
            self._watch(now)
            if self.give_up_at is not None and now >= self.give_up_at:
                self._retire_stuck()
                return
            if not any(thread.is_alive() for thread in self.threads):  # after _watch restarted failed slots
                return

    def _retire_stuck(self) -> None:
        for slot, thread in zip(self.slots, self.threads, strict=True):
            thread.join(0.01)
            if not thread.is_alive():
                continue
            worker = slot.worker
            logger.warning("slot %s did not stop within %g s; retiring it", worker.id, self.options.term_timeout)
            try:
                worker.unregister()
            except ResqueError as error:
                logger.error("could not retire %s: %s", worker.id, error)


def _run_slot(slot: SlotLoop, go: threading.Event) -> None:
    go.wait()
    # The slot's jobs, and plugins acting for them, use its namespace's Resque as the default.
    with scoped(slot.worker.resque):
        slot.run()


def work_concurrently(make_worker: Callable[[], Worker], options: WorkerOptions, concurrency: int) -> int:
    """Run ``concurrency`` job slots, each a worker built by ``make_worker()`` (ids are set here), until
    told to stop; returns the exit code. Call from the main thread, for signals. Jobs are not forked."""
    return work_namespaces([make_worker], options, concurrency)


def work_namespaces(makers: Sequence[Callable[[], Worker]], options: WorkerOptions, concurrency: int) -> int:
    """Run ``concurrency`` job slots for each of ``makers`` (one a namespace: each builds a worker on
    that namespace's :class:`~resque_impl.Resque`), as :func:`work_concurrently` does for one, until
    told to stop; returns the exit code. Signals act on every slot of every namespace."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if not makers:
        raise ValueError("work_namespaces needs at least one worker maker")
    return _Concurrent(makers, options.replace(fork_per_job=False), concurrency).run()
