"""A Hypothesis state machine of Resque's queue semantics, checked against a plain-Python model.

Hypothesis runs random sequences of operations (enqueue, enqueue_to, dequeue by class or by arguments,
remove a queue, record/requeue/remove failures, schedule, remove and release delayed jobs, workers
reserving in priority order with wildcards and exclusions, finishing or failing jobs, dying while
holding one ...) against a real ``Resque`` and its workers and against
:class:`~resque_impl.testing.queue_model.QueueModel`, a page of plain Python that says what Resque
means, and checks after every step that the two agree: every queue in FIFO order (nothing lost, nothing
doubled), the delayed jobs, the set of known queues, the failure list, the workers, the stats. The one
stated duplication: a job whose worker dies is delivered again (reliable fetch, at least once), until it
has been recovered too often. A failing sequence is shrunk to a minimal one and printed.

Check your own store (or a fork of ours) by subclassing::

    from resque_impl.testing.statemachine import ResqueStateMachine

    class MyStoreMachine(ResqueStateMachine):
        def make_resque(self, clock, registry):
            return Resque(store=MyStore(...), clock=clock, registry=registry)

    TestMyStore = MyStoreMachine.TestCase            # collected by pytest / unittest

:class:`~resque_impl.testing.differential.DifferentialStore` goes further: it runs every store call on
two stores (yours and ours, or fakeredis and a real server) and fails on the first call whose results
differ.

:data:`PROFILES` holds Hypothesis settings profiles: ``ci`` (fast, for every run) and ``thorough``
(long runs); :func:`register_profiles` registers them. This module needs Hypothesis
(``pip install 'resque-impl[test]'``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import fakeredis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from resque_impl.client import Resque
from resque_impl.clock import ManualClock
from resque_impl.codec import Payload
from resque_impl.registry import Registry
from resque_impl.testing.queue_model import Failure, QueueModel
from resque_impl.worker import Worker, WorkerOptions

__all__ = [
    "PROFILES",
    "QUEUES",
    "MachineError",
    "ResqueStateMachine",
    "machine_registry",
    "register_profiles",
]

#: Queue names: two plain ones and two sharing a prefix, so wildcards and exclusions select subsets.
QUEUES = ("high", "low", "mail-a", "mail-b")
#: Fixed start for the machine's clock: 2026-11-27 23:43:29 UTC.
START = 1_795_823_009.0

PROFILES: dict[str, settings] = {
    "ci": settings(
        max_examples=40,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    ),
    "thorough": settings(
        max_examples=2_000,
        stateful_step_count=80,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    ),
}


def register_profiles() -> None:
    """Register :data:`PROFILES` with Hypothesis (select one with ``--hypothesis-profile=NAME``)."""
    for name, profile in PROFILES.items():
        settings.register_profile(name, profile)


class MachineError(Exception):
    """What the machine's jobs raise when their first argument is ``"fail"``."""


def _perform(*args: Any) -> None:
    if args and args[0] == "fail":
        raise MachineError("planned failure")


def machine_registry() -> Registry:
    """A private registry with the machine's two job classes: ``Machine::Alpha`` (queue ``high``) and
    ``Machine::Beta`` (queue ``mail-a``); both fail when their first argument is ``"fail"``."""
    registry = Registry()
    registry.register(type("Alpha", (), {"queue": "high", "perform": staticmethod(_perform)}), "Machine::Alpha")
    registry.register(type("Beta", (), {"queue": "mail-a", "perform": staticmethod(_perform)}), "Machine::Beta")
    return registry


#: Worker queue lists: names, wildcards and exclusions, as ``resque-impl work --queues`` takes them.
_PATTERNS = st.sampled_from(
    [
        ("high",),
        ("low", "high"),
        ("*",),
        ("mail-*", "low"),
        ("*", "!low"),
        ("!mail-b", "mail-*", "*"),
        ("high", "!mail-*", "mail-a"),
    ]
)
#: Workers alive at once; recoveries before a job counts as poison (small, so the machine reaches it).
MAX_WORKERS = 3
MAX_RECOVERIES = 1

_ARG = st.one_of(st.integers(-2, 2), st.sampled_from(["a", "b", "fail", "ü"]))
_ARGS = st.lists(_ARG, max_size=2).map(tuple)
_CLASSES = st.sampled_from(["Machine::Alpha", "Machine::Beta"])
_QUEUES = st.sampled_from(QUEUES)


class ResqueStateMachine(RuleBasedStateMachine):
    """Resque semantics against :class:`QueueModel`. Override :meth:`make_resque` to check a store.

    The default runs on a fresh fakeredis per example.
    """

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(START)
        self.registry = machine_registry()
        self.resque = self.make_resque(self.clock, self.registry)
        self.model = QueueModel()
        self.worker_options = WorkerOptions(fork_per_job=False, max_recoveries=MAX_RECOVERIES)
        #: Live workers by id; a worker holds a job while its id is in ``model.holding``.
        self.workers: dict[str, Worker] = {}
        self._pids = itertools.count(1)

    def make_resque(self, clock: ManualClock, registry: Registry) -> Resque:
        """The ``Resque`` under test, on an empty store, using ``clock`` and ``registry``."""
        return Resque(fakeredis.FakeRedis(), clock=clock, registry=registry)

    def _queue_of(self, class_name: str) -> str:
        cls = self.registry.resolve(class_name)
        return str(cls.queue)  # type: ignore[attr-defined]

    # -- producing ---------------------------------------------------------------------------------
    @rule(class_name=_CLASSES, args=_ARGS)
    def enqueue(self, class_name: str, args: tuple[Any, ...]) -> None:
        assert self.resque.enqueue(self.registry.resolve(class_name), *args) is True
        self.model.push(self._queue_of(class_name), class_name, list(args))

    @rule(queue=_QUEUES, class_name=_CLASSES, args=_ARGS)
    def enqueue_to(self, queue: str, class_name: str, args: tuple[Any, ...]) -> None:
        assert self.resque.enqueue_to(queue, self.registry.resolve(class_name), *args) is True
        self.model.push(queue, class_name, list(args))

    @rule(class_name=_CLASSES)
    def dequeue_class(self, class_name: str) -> None:
        removed = self.resque.dequeue(self.registry.resolve(class_name))
        assert removed == self.model.dequeue(self._queue_of(class_name), class_name, None)

    @rule(class_name=_CLASSES, args=st.lists(_ARG, min_size=1, max_size=2).map(tuple))
    def dequeue_args(self, class_name: str, args: tuple[Any, ...]) -> None:
        removed = self.resque.dequeue(self.registry.resolve(class_name), *args)
        assert removed == self.model.dequeue(self._queue_of(class_name), class_name, list(args))

    @rule(queue=_QUEUES)
    def remove_queue(self, queue: str) -> None:
        self.resque.remove_queue(queue)
        self.model.remove_queue(queue)

    # -- failures ----------------------------------------------------------------------------------
    @rule(queue=_QUEUES, class_name=_CLASSES, args=_ARGS)
    def fail(self, queue: str, class_name: str, args: tuple[Any, ...]) -> None:
        self.resque.record_failure(queue, Payload(class_name, list(args)), MachineError("recorded"))
        self.model.failures.append(Failure(class_name, list(args), queue))

    @precondition(lambda self: self.model.failures)
    @rule(data=st.data())
    def requeue(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model.failures) - 1), label="failure")
        self.resque.failures.requeue(index)
        failure = self.model.failures[index]
        failure.retried = True
        self.model.push(failure.queue, failure.class_name, failure.args)

    @precondition(lambda self: self.model.failures)
    @rule(data=st.data())
    def retry_and_remove(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model.failures) - 1), label="failure")
        self.resque.failures.retry_and_remove(index)
        failure = self.model.failures.pop(index)
        self.model.push(failure.queue, failure.class_name, failure.args)

    @precondition(lambda self: self.model.failures)
    @rule(data=st.data())
    def remove_failure(self, data: st.DataObject) -> None:
        index = data.draw(st.integers(0, len(self.model.failures) - 1), label="failure")
        self.resque.failures.remove(index)
        del self.model.failures[index]

    # -- delayed jobs (resque-scheduler) -----------------------------------------------------------
    @rule(delay=st.integers(0, 3), class_name=_CLASSES, args=_ARGS)
    def enqueue_in(self, delay: int, class_name: str, args: tuple[Any, ...]) -> None:
        assert self.resque.enqueue_in(delay, self.registry.resolve(class_name), *args) is True
        when = math.floor(self.clock.time() + delay)
        self.model.schedule(when, self._queue_of(class_name), class_name, list(args))

    @rule(seconds=st.integers(0, 3))
    def release_due(self, seconds: int) -> None:
        """Time passes and the scheduler moves what is due, as on each of its polls."""
        self.clock.advance(seconds)
        _agree("delayed jobs moved", self.resque.release_due(), self.model.release(self.clock.time()))

    @rule(class_name=_CLASSES, args=_ARGS)
    def remove_delayed(self, class_name: str, args: tuple[Any, ...]) -> None:
        removed = self.resque.remove_delayed(self.registry.resolve(class_name), *args)
        _agree(
            "delayed jobs removed",
            removed,
            self.model.remove_delayed(self._queue_of(class_name), class_name, list(args)),
        )

    # -- workers (reliable fetch) ------------------------------------------------------------------
    def _worker(self, patterns: Sequence[str]) -> Worker:
        return Worker(
            list(patterns),
            resque=self.resque,
            options=self.worker_options,
            hostname="machine",
            pid=next(self._pids),
            local_pids=lambda: (),
        )

    def _pick(self, data: st.DataObject, busy: bool) -> Worker:
        ids = sorted(worker_id for worker_id in self.workers if (worker_id in self.model.holding) == busy)
        return self.workers[data.draw(st.sampled_from(ids), label="worker")]

    def _has(self, busy: bool) -> bool:
        return any((worker_id in self.model.holding) == busy for worker_id in self.workers)

    @initialize(patterns=st.lists(_PATTERNS, min_size=1, max_size=2))
    def start_workers(self, patterns: list[tuple[str, ...]]) -> None:
        for queues in patterns:
            self.start_worker(queues)

    @precondition(lambda self: len(self.workers) < MAX_WORKERS)
    @rule(patterns=_PATTERNS)
    def start_worker(self, patterns: tuple[str, ...]) -> None:
        worker = self._worker(patterns)
        worker.register()
        self.workers[worker.id] = worker

    @precondition(lambda self: self._has(busy=False))
    @rule(data=st.data())
    def reserve(self, data: st.DataObject) -> None:
        self._reserve(self._pick(data, busy=False))

    def _reserve(self, worker: Worker) -> None:
        job = worker.reserve()
        expected = self.model.reserve(worker.id, list(worker.queues.patterns))
        _agree("reserved job", None if job is None else (job.queue, job.class_name, job.args), expected)

    @precondition(lambda self: self._has(busy=False))
    @rule(data=st.data())
    def work_one(self, data: st.DataObject) -> None:
        """Reserve and finish a job in one go, as a worker's loop does."""
        worker = self._pick(data, busy=False)
        self._reserve(worker)
        if worker.id in self.model.holding:
            self._finish(worker)

    @precondition(lambda self: self._has(busy=True))
    @rule(data=st.data())
    def finish(self, data: st.DataObject) -> None:
        self._finish(self._pick(data, busy=True))

    def _finish(self, worker: Worker) -> None:
        job = worker.current
        assert job is not None
        outcome = worker.perform(job)
        worker.done(job, outcome)
        _, _, args = self.model.holding[worker.id]
        _agree("job failed", outcome.failed, bool(args) and args[0] == "fail")
        self.model.finish(worker.id, outcome.failed)

    @precondition(lambda self: self.workers)
    @rule(data=st.data())
    def kill_worker(self, data: st.DataObject) -> None:
        """A worker dies (an idle one just after reserving); a survivor retires it as pruning does.
        At least once: its job runs again, unless it has been recovered too often (poison)."""
        worker = self.workers[data.draw(st.sampled_from(sorted(self.workers)), label="worker")]
        if worker.id not in self.model.holding:
            self._reserve(worker)
        del self.workers[worker.id]
        self._worker(["*"]).retire(worker.id)
        if worker.id in self.model.holding:
            self.model.recover(worker.id, MAX_RECOVERIES)

    @precondition(lambda self: self._has(busy=False))
    @rule(data=st.data())
    def stop_worker(self, data: st.DataObject) -> None:
        worker = self._pick(data, busy=False)
        worker.unregister()
        del self.workers[worker.id]

    # -- what must always hold ---------------------------------------------------------------------
    @invariant()
    def queues_hold_exactly_the_model_jobs_in_fifo_order(self) -> None:
        actual: dict[str, list[tuple[str, list[Any]]]] = {}
        for queue in set(QUEUES) | set(self.resque.queues()):
            jobs = [(job.class_name, job.args) for job in self.resque.peek(queue, 0, 1_000)]
            if jobs:
                actual[queue] = jobs
        _agree("queue contents", actual, self.model.contents())

    @invariant()
    def known_queues_match(self) -> None:
        _agree("known queues", set(self.resque.queues()), self.model.known)

    @invariant()
    def failures_match(self) -> None:
        records = [
            Failure(record.class_name or "", record.args, record.queue or "", record.retried_at is not None)
            for record in self.resque.failures.all()
        ]
        _agree("failure records", records, self.model.failures)

    @invariant()
    def delayed_jobs_match(self) -> None:
        found = [(job.timestamp, job.queue, job.class_name, job.args) for job in self.resque.find_delayed()]
        _agree("delayed jobs", found, self.model.scheduled())

    @invariant()
    def workers_match(self) -> None:
        _agree("registered workers", self.resque.workers(), sorted(self.workers))
        _agree("busy workers", sorted(self.resque.working()), sorted(self.model.holding))

    @invariant()
    def stats_match(self) -> None:
        _agree("stat:processed", self.resque.stat("processed"), self.model.processed)
        _agree("stat:failed", self.resque.stat("failed"), self.model.failed)
        _agree("pending jobs", self.resque.info()["pending"], sum(len(jobs) for jobs in self.model.queues.values()))


def _agree(what: str, actual: object, expected: object) -> None:
    """Fail, saying what differs, unless the implementation agrees with the model."""
    if actual != expected:
        raise AssertionError(
            f"{what} differ from the model:\n  implementation: {actual!r}\n  model:          {expected!r}"
        )
