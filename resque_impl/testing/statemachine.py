"""A Hypothesis state machine of Resque's queue semantics, checked against a plain-Python model.

Hypothesis runs random sequences of operations (enqueue, enqueue_to, dequeue by class or by
arguments, remove a queue, record/requeue/remove failures ...) against a real ``Resque`` and against
:class:`QueueModel`, a few lines of Python that say what Resque means, and checks after every step
that the two agree: every queue in FIFO order (so nothing lost, nothing doubled), the set of known
queues, the failure list, the stats. A failing sequence is shrunk to a minimal one and printed.

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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import fakeredis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from resque_impl.client import Resque
from resque_impl.clock import ManualClock
from resque_impl.codec import Payload
from resque_impl.registry import Registry
from resque_impl.store import StoreProtocol

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
        max_examples=25,
        stateful_step_count=25,
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

    def push(self, queue: str, class_name: str, args: list[Any]) -> None:
        self.known.add(queue)
        self.queues.setdefault(queue, []).append((class_name, args))

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
        """Ruby Resque's queue list: each pattern's matches among known queues, sorted; in pattern order;
        without duplicates; minus ``!`` exclusions. Without wildcards, the list as given."""
        includes = [pattern for pattern in patterns if not pattern.startswith("!")]
        excludes = [pattern[1:] for pattern in patterns if pattern.startswith("!")]
        if not any(set(pattern) & set("*?[") for pattern in patterns):
            return [queue for queue in includes if queue not in excludes]
        ordered: list[str] = []
        for pattern in includes:
            for queue in sorted(self.known):
                if fnmatch.fnmatchcase(queue, pattern) and queue not in ordered:
                    ordered.append(queue)
        return [queue for queue in ordered if not any(fnmatch.fnmatchcase(queue, ex) for ex in excludes)]


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
