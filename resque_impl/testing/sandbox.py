"""Fake and inline test modes: a :class:`Sandbox` is a private, in-memory Resque world for one test.

::

    from resque_impl.testing import fake_mode, inline_mode

    with fake_mode() as fake:                    # jobs are captured, with the production encoding
        signup("ann@example.com")                # application code: resque_impl.enqueue(...) etc.
        fake.assert_enqueued(WelcomeEmail, "ann@example.com", queue="email")
        fake.drain()                             # run them through a real worker, in this process
        fake.advance(3600)                       # virtual time: delayed jobs and retries fall due

    with inline_mode() as inline:                # enqueue performs the job at once
        signup("ann@example.com")
        inline.assert_performed(WelcomeEmail, "ann@example.com")

While a sandbox is active, *every* ``Resque`` in the process (ones the application built at import
time, the module-level default) keeps its jobs, failures, stats and delayed jobs in the sandbox's own
fakeredis server and reads time from the sandbox's :class:`~resque_impl.testing.VirtualClock`; see
:mod:`resque_impl.testmode`. Each ``Resque`` keeps its namespace, registry and failure-backend choice.
Jobs run through the real code paths: the codec, every hook, the failure backend, the plugins.

Inline mode, like Ruby's ``Resque.inline``, performs a job inside ``enqueue`` after the JSON round
trip; exceptions propagate, or with ``record_failures=True`` become failure records. A delayed job
(``enqueue_in``/``enqueue_at``) waits for the virtual clock by default (``delayed="clock"``: it runs
when :meth:`Sandbox.advance` reaches its time); ``delayed="now"`` runs it at once, as Ruby's inline
mode does.

Sandboxes nest in one thread (the innermost is in force); activating one from another thread while
one is active raises :class:`~resque_impl.ModeConflictError`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import fakeredis

from resque_impl import testmode
from resque_impl.client import JobClass, Resque
from resque_impl.codec import decode_payload, encode_payload
from resque_impl.delayed import DelayedJob
from resque_impl.errors import ConfigurationError, PayloadDecodeError
from resque_impl.failure import FailureRecord
from resque_impl.job import QueuedJob
from resque_impl.keys import DEFAULT_NAMESPACE, Keys
from resque_impl.registry import Registry
from resque_impl.scheduler import Scheduler
from resque_impl.store import Store
from resque_impl.testing.assertions import Expectation, Seen, times
from resque_impl.testing.clock import VirtualClock
from resque_impl.testing.errors import DrainLimitError, SandboxInactiveError
from resque_impl.testing.inline import InlineRunner, InlineStore
from resque_impl.testing.performed import Performed
from resque_impl.testing.runner import DEFAULT_MAX_JOBS, InProcessWorker
from resque_impl.testing.schedules import Schedules, delayed_jobs
from resque_impl.testing.timeline import Timeline

__all__ = ["DelayedPolicy", "ModeName", "Sandbox", "active_sandbox", "fake_mode", "inline_mode"]

ModeName = Literal["fake", "inline"]
#: What inline mode does with a delayed job: wait for the virtual clock, or run it at once.
DelayedPolicy = Literal["clock", "now"]

DESCRIPTION = "fakeredis (resque_impl test mode)"
#: How deeply inline jobs may enqueue inline jobs before :class:`InlineDepthError`.
DEFAULT_MAX_DEPTH = 100


class Sandbox:
    """A private fakeredis world, a virtual clock, and the test-facing API over them.

    :param mode: ``"fake"`` (capture jobs) or ``"inline"`` (perform them at enqueue).
    :param record_failures: inline mode: record a failing job as a worker would, instead of raising.
    :param delayed: inline mode: ``"clock"`` (default) runs a delayed job when the virtual clock
        reaches its time; ``"now"`` runs it at once, as Ruby's ``Resque.inline`` does.
    :param start: the virtual clock's start (aware datetime or epoch seconds; default: now).
    :param namespace: the namespace of :attr:`resque`, the sandbox's own instance.
    :param registry: the registry of :attr:`resque` (default: the global one).
    :param max_depth: inline mode: how deeply jobs may enqueue jobs before
        :class:`~resque_impl.testing.InlineDepthError`.
    :param strict: inline mode: a job no Python class here can run (a class named only by a string
        nobody registered) raises :class:`~resque_impl.testing.StrictInlineError` instead of being
        pushed with a :class:`~resque_impl.testing.NotRunInlineWarning`.
    """

    def __init__(
        self,
        mode: ModeName = "fake",
        *,
        record_failures: bool = False,
        delayed: DelayedPolicy = "clock",
        start: float | datetime | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        registry: Registry | None = None,
        max_depth: int = DEFAULT_MAX_DEPTH,
        strict: bool = False,
    ) -> None:
        if mode not in ("fake", "inline"):
            raise ConfigurationError(f"test mode must be 'fake' or 'inline', got {mode!r}")
        if delayed not in ("clock", "now"):
            raise ConfigurationError(f"delayed must be 'clock' or 'now', got {delayed!r}")
        self.mode: ModeName = mode
        self.record_failures = record_failures
        self.delayed: DelayedPolicy = delayed
        self.max_depth = max_depth
        self.strict = strict
        #: The fakeredis server holding everything; :attr:`client` talks to it.
        self.server = fakeredis.FakeServer()
        self.client = fakeredis.FakeRedis(server=self.server)
        self.clock = VirtualClock(start)
        self.clock.on_move(self._step_to)
        self.timeline = Timeline(self.clock, self._schedulers)
        self._schedules = Schedules()
        #: Every job this sandbox ran (drained, or performed inline), oldest first.
        self.performed: list[Performed] = []
        self._lock = threading.Lock()
        self._depth: ContextVar[int] = ContextVar("resque_inline_depth", default=0)
        self._overrides: dict[int, tuple[Resque, testmode.Overrides]] = {}
        self._namespaces: dict[str, Resque] = {}
        #: The sandbox's own ``Resque`` (for tests that enqueue directly).
        own_store = Store(self.client, Keys(namespace), DESCRIPTION)
        self.resque = Resque(store=own_store, clock=self.clock, registry=registry)
        self.overrides(self.resque)

    def __repr__(self) -> str:
        return f"<Sandbox {self.mode} mode at {self.clock.now().isoformat()}>"

    # -- the test-mode switch ----------------------------------------------------------------------
    def activate(self) -> Sandbox:
        """Put this sandbox in force for every ``Resque`` in the process."""
        testmode.activate(self)
        return self

    def deactivate(self) -> None:
        """Leave the sandbox (its contents stay readable)."""
        testmode.deactivate(self)

    def __enter__(self) -> Sandbox:
        return self.activate()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.deactivate()

    def overrides(self, resque: Resque) -> testmode.Overrides:
        """The store, clock and failure backend ``resque`` uses while this sandbox is in force."""
        found = self._overrides.get(id(resque))
        if found is None:
            with self._lock:
                found = self._overrides.get(id(resque))
                if found is None:
                    # Keeping ``resque`` in the entry keeps its id from being reused while we live.
                    found = self._overrides[id(resque)] = (resque, self._build(resque))
                    self._namespaces.setdefault(resque.namespace, resque)
        return found[1]

    def _build(self, resque: Resque) -> testmode.Overrides:
        store: Store
        if self.mode == "inline":
            runner = InlineRunner(
                resque,
                record_failures=self.record_failures,
                log=self.performed.append,
                max_depth=self.max_depth,
                depth=self._depth,
                strict=self.strict,
            )
            store = InlineStore(self.client, resque.keys, runner, DESCRIPTION, delayed_now=self.delayed == "now")
        else:
            store = Store(self.client, resque.keys, DESCRIPTION)
        return testmode.Overrides(store, self.clock, resque.failure_backend_for(store, self.clock))

    def _instances(self) -> list[tuple[Resque, testmode.Overrides]]:
        """One ``Resque`` per namespace in use (the first seen) with its overrides."""
        with self._lock:
            return [(resque, self._overrides[id(resque)][1]) for resque in self._namespaces.values()]

    def intercepted(self) -> list[str]:
        """Where the application's ``Resque`` instances would have sent their work without this
        sandbox: the descriptions of their own stores (the sandbox's own instance excluded), sorted."""
        with self._lock:
            instances = [resque for resque, _ in self._overrides.values() if resque is not self.resque]
        return sorted({resque.configured_store.description for resque in instances})

    # -- reading what was enqueued -----------------------------------------------------------------
    def queues(self) -> list[str]:
        """Every queue a job was pushed to, sorted."""
        return sorted({name for _, used in self._instances() for name in used.store.queue_names()})

    def jobs(self, queue: str | None = None, job_class: JobClass | None = None) -> list[QueuedJob]:
        """Jobs waiting in queues (in ``queue``, of ``job_class``, if given): by queue name, then in
        the order a worker would take them. Arguments are as a worker will see them (decoded JSON)."""
        found: list[QueuedJob] = []
        for resque, used in self._instances():
            wanted = None if job_class is None else _class_name(resque, job_class)
            for name in [queue] if queue is not None else used.store.queue_names():
                for raw in used.store.iter_queue(name):
                    try:
                        payload = decode_payload(raw)
                    except PayloadDecodeError:  # an item pushed without a class: no job to match
                        continue
                    if wanted is None or payload.class_name == wanted:
                        found.append(QueuedJob(name, payload))
        return sorted(found, key=lambda job: job.queue)

    @property
    def failures(self) -> list[FailureRecord]:
        """Every failure record, oldest first."""
        return [record for _, used in self._instances() for record in used.failures.all()]

    def clear(self) -> None:
        """Forget everything: queues, delayed jobs, failures, stats, and :attr:`performed`."""
        self.client.flushall()
        self.performed.clear()

    # -- assertions --------------------------------------------------------------------------------
    def _expect(self, job_class: JobClass, args: tuple[Any, ...] | None, queue: str | None) -> Expectation:
        name = _class_name(self.resque, job_class)
        if args is None:
            return Expectation(name, None, queue)
        # Compare with the arguments as a worker would see them; refuse what could not be enqueued.
        return Expectation(name, decode_payload(encode_payload(name, args)).args, queue)

    def _enqueued(self) -> list[Seen]:
        return [Seen(job.queue, job.class_name, job.args, job.queue) for job in self.jobs()]

    def assert_enqueued(
        self, job_class: JobClass, *args: Any, queue: str | None = None, count: int | None = None
    ) -> None:
        """Assert the job waits in a queue: ``count`` times exactly, or at least once.

        Without ``args`` any arguments match; with them, the arguments must equal these after the
        JSON round trip (so a tuple matches the list a worker receives).
        """
        expected = self._expect(job_class, args or None, queue)
        seen = self._enqueued()
        found = sum(1 for job in seen if expected.matches(job))
        if (found == count) if count is not None else found > 0:
            return
        wanted = "at least once" if count is None else times(count)
        scheduled = self._scheduled_seen()
        later = f"\n{expected.listing('scheduled for later (advance the clock)', scheduled)}" if scheduled else ""
        raise AssertionError(
            f"expected {expected.describe()} enqueued {wanted}, found it {times(found)}\n"
            f"{expected.listing('enqueued', seen)}{later}{self._mode_hint()}"
        )

    def _scheduled_seen(self, at: float | datetime | None = None) -> list[Seen]:
        when = None if at is None else int(at.timestamp() if isinstance(at, datetime) else at)
        return [
            Seen(f"{job.queue} at {_iso(job.timestamp)}", job.class_name, job.args, job.queue or "")
            for job in self.scheduled()
            if when is None or job.timestamp == when
        ]

    def assert_scheduled(
        self,
        job_class: JobClass,
        *args: Any,
        queue: str | None = None,
        at: float | datetime | None = None,
        count: int | None = None,
    ) -> None:
        """Assert the job waits in the delayed queue (due at ``at``'s whole second, if given):
        ``count`` times exactly, or at least once."""
        expected = self._expect(job_class, args or None, queue)
        seen = self._scheduled_seen()
        matching = self._scheduled_seen(at) if at is not None else seen
        found = sum(1 for job in matching if expected.matches(job))
        if (found == count) if count is not None else found > 0:
            return
        wanted = "at least once" if count is None else times(count)
        moment = "" if at is None else f" at {_iso(int(at.timestamp() if isinstance(at, datetime) else at))}"
        raise AssertionError(
            f"expected {expected.describe()} scheduled{moment} {wanted}, found it {times(found)}\n"
            f"{expected.listing('scheduled', seen)}"
        )

    def assert_not_enqueued(self, job_class: JobClass, *args: Any, queue: str | None = None) -> None:
        """Assert no such job waits in a queue (any arguments, unless given)."""
        expected = self._expect(job_class, args or None, queue)
        matching = [job for job in self._enqueued() if expected.matches(job)]
        if matching:
            raise AssertionError(
                f"expected no {expected.describe()} enqueued, found it {times(len(matching))}\n"
                f"{expected.listing('matching', matching)}"
            )

    def assert_performed(
        self, job_class: JobClass, *args: Any, queue: str | None = None, count: int | None = None
    ) -> None:
        """Assert this sandbox ran the job (drained, or inline): ``count`` times, or at least once."""
        expected = self._expect(job_class, args or None, queue)
        seen = [
            Seen(f"{run.queue} ({run.status})", run.class_name or "", run.args, run.queue)
            for run in self.performed
            if run.class_name is not None
        ]
        found = sum(1 for job in seen if expected.matches(job))
        if (found == count) if count is not None else found > 0:
            return
        wanted = "at least once" if count is None else times(count)
        raise AssertionError(
            f"expected {expected.describe()} performed {wanted}, found it {times(found)}\n"
            f"{expected.listing('performed', seen)}\n{expected.listing('still enqueued', self._enqueued())}"
        )

    def _mode_hint(self) -> str:
        if self.mode == "inline":
            return "\n(inline mode performs jobs instead of enqueueing them: use assert_performed)"
        return ""

    # -- running jobs ------------------------------------------------------------------------------
    def _require_active(self, action: str) -> None:
        if testmode.active is not self:
            raise SandboxInactiveError(
                f"{action}() works through the application's Resque instances, which use this sandbox "
                "only while it is the active test mode; call it inside `with sandbox:`"
            )

    def _workers(self, action: str) -> list[InProcessWorker]:
        """An in-process worker per namespace in use."""
        self._require_active(action)
        return [InProcessWorker(resque, log=self.performed.append) for resque, _ in self._instances()]

    def perform_one(self, *queues: str, raise_errors: bool = True) -> Performed | None:
        """Run the next job (from ``queues`` in priority order; default ``*``) with the real worker
        steps; ``None`` when there is none. A failure is recorded as a worker records it, then raised
        as :class:`JobFailedError` unless ``raise_errors`` is false."""
        workers = self._workers("perform_one")
        self.timeline.poll()
        for worker in workers:
            ran = worker.perform_one(*queues, raise_errors=raise_errors)
            if ran is not None:
                return ran
        return None

    def drain(self, *queues: str, max_jobs: int = DEFAULT_MAX_JOBS, raise_errors: bool = True) -> list[Performed]:
        """Run jobs (from ``queues`` in priority order; default ``*``) with the real worker steps until
        none is left, including jobs enqueued by jobs; returns what ran.

        A failing job is recorded as a worker records it; then the drain stops with
        :class:`JobFailedError`, unless ``raise_errors`` is false. After ``max_jobs`` jobs with more
        waiting (a job that enqueues itself), :class:`DrainLimitError`.
        """
        ran: list[Performed] = []
        while True:
            progress = False
            self.timeline.poll()
            for worker in self._workers("drain"):
                try:
                    batch = worker.drain(*queues, max_jobs=max_jobs - len(ran), raise_errors=raise_errors)
                except DrainLimitError as error:
                    raise DrainLimitError(max_jobs, error.waiting) from None
                ran.extend(batch)
                progress = progress or bool(batch)
            if not progress:
                return ran

    # -- time --------------------------------------------------------------------------------------
    def advance(self, seconds: float) -> float:
        """Move the virtual clock forward, running what falls due on the way (see :meth:`_step_to`)."""
        return self.clock.advance(seconds)

    def travel_to(self, when: float | datetime) -> float:
        """Move the virtual clock to ``when`` (see :meth:`VirtualClock.travel_to`)."""
        return self.clock.travel_to(when)

    def _step_to(self, target: float) -> None:
        self._require_active("advance")
        self.timeline.step_to(target)

    # -- the scheduler -----------------------------------------------------------------------------
    def load_schedule(
        self, schedule: Mapping[str, Any] | str | Path, *, env: str | None = None, dynamic: bool = False
    ) -> None:
        """Run recurring schedules (a mapping as in a schedule file, or the file's path) as the
        ``resque-impl scheduler`` process would, on :attr:`resque`'s namespace, as the clock moves.
        ``dynamic`` also runs the schedules the application keeps in Redis (``set_schedule``)."""
        self._schedules.load(self.resque, schedule, env=env, dynamic=dynamic)

    def _schedulers(self) -> list[Scheduler]:
        """A scheduler per namespace in use, as ``resque-impl scheduler`` runs one per namespace."""
        self._require_active("advance")
        return self._schedules.schedulers(self.resque, (resque for resque, _ in self._instances()))

    def scheduled(self, job_class: JobClass | None = None) -> list[DelayedJob]:
        """Delayed jobs (of ``job_class``, if given), earliest first."""
        found: list[DelayedJob] = []
        for resque, used in self._instances():
            wanted = None if job_class is None else _class_name(resque, job_class)
            found.extend(job for job in delayed_jobs(used.store) if wanted is None or job.class_name == wanted)
        return sorted(found, key=lambda job: job.timestamp)


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _class_name(resque: Resque, job_class: JobClass) -> str:
    return job_class if isinstance(job_class, str) else resque.registry.name_of(job_class)


def fake_mode(
    *, start: float | datetime | None = None, namespace: str = DEFAULT_NAMESPACE, registry: Registry | None = None
) -> Sandbox:
    """A fake-mode :class:`Sandbox`; use it as a context manager."""
    return Sandbox("fake", start=start, namespace=namespace, registry=registry)


def inline_mode(
    *,
    record_failures: bool = False,
    delayed: DelayedPolicy = "clock",
    start: float | datetime | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    registry: Registry | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
    strict: bool = False,
) -> Sandbox:
    """An inline-mode :class:`Sandbox`; use it as a context manager."""
    return Sandbox(
        "inline",
        record_failures=record_failures,
        delayed=delayed,
        start=start,
        namespace=namespace,
        registry=registry,
        max_depth=max_depth,
        strict=strict,
    )


def active_sandbox() -> Sandbox | None:
    """The sandbox in force (the innermost), if any."""
    mode = testmode.active
    return mode if isinstance(mode, Sandbox) else None
