"""A Hypothesis state machine of Resque's queue semantics, checked against a plain-Python model.

Hypothesis runs random sequences of operations (enqueue, enqueue_to, dequeue by class or by
arguments, remove a queue, record/requeue/remove failures, schedule, remove and release delayed jobs,
workers reserving in priority order with wildcards and exclusions, finishing or failing jobs, dying
while holding one ...) against a real ``Resque`` and its workers and against :class:`QueueModel`, a
page of plain Python that says what Resque means, and checks after every step that the two agree:
every queue in FIFO order (nothing lost, nothing doubled), the delayed jobs, the set of known queues,
the failure list, the workers, the stats. The one stated duplication: a job whose worker dies is
delivered again (reliable fetch, at least once), until it has been recovered too often. A failing
sequence is shrunk to a minimal one and printed.

Check your own store (or a fork of ours) by subclassing::

    from resque_impl.testing.statemachine import ResqueStateMachine

    class MyStoreMachine(ResqueStateMachine):
        def make_resque(self, clock, registry):
            return Resque(store=MyStore(...), clock=clock, registry=registry)

    TestMyStore = MyStoreMachine.TestCase            # collected by pytest / unittest

:class:`DifferentialStore` goes further: it runs every store call on two stores (yours and ours, or
fakeredis and a real server) and fails on the first call whose results differ.

:data:`PROFILES` holds Hypothesis settings profiles: ``ci`` (fast, for every run) and ``thorough``
(long runs); :func:`register_profiles` registers them. This module needs Hypothesis
(``pip install 'resque-impl[test]'``).
"""

from __future__ import annotations

import fnmatch
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import fakeredis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from resque_impl.client import Resque
from resque_impl.clock import ManualClock
from resque_impl.codec import Payload, dumps
from resque_impl.registry import Registry
from resque_impl.store import StoreProtocol
from resque_impl.worker import Worker, WorkerOptions

__all__ = [
    "PROFILES",
    "QUEUES",
    "DifferentialStore",
    "MachineError",
    "QueueModel",
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


@dataclass
class Failure:
    """What the model keeps of a failure record."""

    class_name: str
    args: list[Any]
    queue: str
    retried: bool = False


@dataclass
class QueueModel:
    """Resque's semantics in plain Python: FIFO lists per queue, the set of known queues, failures."""

    queues: dict[str, list[tuple[str, list[Any]]]] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)
    failures: list[Failure] = field(default_factory=list)
    processed: int = 0
    failed: int = 0
    #: Reliable fetch: worker id -> (queue, class name, args) of the job it holds.
    holding: dict[str, tuple[str, str, list[Any]]] = field(default_factory=dict)
    #: Reliable fetch: how often each payload was recovered from a dead worker.
    recoveries: dict[bytes, int] = field(default_factory=dict)
    #: Delayed jobs: epoch second -> (queue, class name, args), in the order they were scheduled.
    delayed: dict[int, list[tuple[str, str, list[Any]]]] = field(default_factory=dict)

    def schedule(self, timestamp: int, queue: str, class_name: str, args: list[Any]) -> None:
        self.delayed.setdefault(timestamp, []).append((queue, class_name, args))

    def release(self, now: float) -> int:
        """Move every delayed job due by ``now`` to its queue: earliest second first, then in order."""
        moved = 0
        for timestamp in sorted(stamp for stamp in self.delayed if stamp <= math.floor(now)):
            for queue, class_name, args in self.delayed.pop(timestamp):
                self.push(queue, class_name, args)
                moved += 1
        return moved

    def remove_delayed(self, queue: str, class_name: str, args: list[Any]) -> int:
        """Remove every delayed copy of this exact job; how many."""
        removed = 0
        for timestamp in list(self.delayed):
            kept = [item for item in self.delayed[timestamp] if item != (queue, class_name, args)]
            removed += len(self.delayed[timestamp]) - len(kept)
            if kept:
                self.delayed[timestamp] = kept
            else:
                del self.delayed[timestamp]
        return removed

    def scheduled(self) -> list[tuple[int, str, str, list[Any]]]:
        return [(stamp, *item) for stamp in sorted(self.delayed) for item in self.delayed[stamp]]

    def push(self, queue: str, class_name: str, args: list[Any]) -> None:
        self.known.add(queue)
        self.queues.setdefault(queue, []).append((class_name, args))

    def push_front(self, queue: str, class_name: str, args: list[Any]) -> None:
        self.known.add(queue)
        self.queues.setdefault(queue, []).insert(0, (class_name, args))

    def reserve(self, worker_id: str, patterns: list[str]) -> tuple[str, str, list[Any]] | None:
        """The head of the first non-empty queue in the worker's list, now held by the worker."""
        for queue in self.expand(patterns):
            if self.queues.get(queue):
                class_name, args = self.queues[queue].pop(0)
                self.holding[worker_id] = (queue, class_name, args)
                return self.holding[worker_id]
        return None

    def finish(self, worker_id: str, failed: bool) -> None:
        """The worker acknowledged its job: counted, its recovery count forgotten, a failure recorded."""
        queue, class_name, args = self.holding.pop(worker_id)
        self.recoveries.pop(_identity(class_name, args), None)
        self.processed += 1
        if failed:
            self.failed += 1
            self.failures.append(Failure(class_name, args, queue))

    def recover(self, worker_id: str, max_recoveries: int) -> bool:
        """A dead worker's job goes back to the head of its queue, unless it was recovered too often
        (then it is a poison failure). Returns whether it was requeued."""
        queue, class_name, args = self.holding.pop(worker_id)
        identity = _identity(class_name, args)
        count = self.recoveries.get(identity, 0) + 1
        if count > max_recoveries:
            self.recoveries.pop(identity, None)
            self.failures.append(Failure(class_name, args, queue))
            return False
        self.recoveries[identity] = count
        self.push_front(queue, class_name, args)
        return True

    def dequeue(self, queue: str, class_name: str, args: list[Any] | None) -> int:
        """Remove every entry of the class (with exactly ``args``, if given); how many."""
        entries = self.queues.get(queue, [])
        kept = [entry for entry in entries if not (entry[0] == class_name and (args is None or entry[1] == args))]
        self.queues[queue] = kept
        return len(entries) - len(kept)

    def remove_queue(self, queue: str) -> None:
        self.known.discard(queue)
        self.queues.pop(queue, None)

    def contents(self) -> dict[str, list[tuple[str, list[Any]]]]:
        return {queue: entries for queue, entries in self.queues.items() if entries}

    def expand(self, patterns: list[str]) -> list[str]:
        """Ruby Resque's queue list: each pattern's matches among known queues, sorted, in pattern order,
        without duplicates (without wildcards: the names as given); minus ``!`` exclusions."""
        includes = [pattern for pattern in patterns if not pattern.startswith("!")]
        excludes = [pattern[1:] for pattern in patterns if pattern.startswith("!")]
        if any(set(pattern) & set("*?[") for pattern in includes):
            matches = [
                queue for pattern in includes for queue in sorted(self.known) if fnmatch.fnmatchcase(queue, pattern)
            ]
        else:
            matches = includes
        ordered = list(dict.fromkeys(matches))
        return [queue for queue in ordered if not any(fnmatch.fnmatchcase(queue, ex) for ex in excludes)]


def _identity(class_name: str, args: list[Any]) -> bytes:
    """A payload's identity as reliable fetch counts recoveries: its exact bytes."""
    return dumps({"class": class_name, "args": args})


class DifferentialStore:
    """A store that runs every call on two stores and fails on the first call whose results differ.

    Results are compared after reading iterators to the end; ``primary``'s result is returned. Give
    it to a ``Resque`` as ``Resque(store=DifferentialStore(mine, reference).as_store())``.
    """

    def __init__(self, primary: StoreProtocol, secondary: StoreProtocol) -> None:
        self.primary = primary
        self.secondary = secondary
        self.keys = primary.keys
        self.description = f"{primary.description} vs {secondary.description}"
        #: Calls made so far, for the failure message.
        self.calls = 0

    def as_store(self) -> StoreProtocol:
        """This object, typed as the store protocol it fulfils through :meth:`__getattr__`."""
        return cast("StoreProtocol", self)

    def __getattr__(self, name: str) -> Any:
        first = getattr(self.primary, name)
        second = getattr(self.secondary, name)
        if not callable(first):
            return first
        return self._compare(name, first, second)

    def _compare(self, name: str, first: Callable[..., Any], second: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            mine, theirs = _settled(first(*args, **kwargs)), _settled(second(*args, **kwargs))
            if mine != theirs:
                raise AssertionError(
                    f"call {self.calls}, {name}{args!r}: {self.primary.description} returned {mine!r} but "
                    f"{self.secondary.description} returned {theirs!r}"
                )
            return mine

        return call


def _settled(result: Any) -> Any:
    return list(result) if isinstance(result, Iterator) else result


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
