"""Fault injection: kill a worker at a chosen point of a job, let a surviving worker recover, and see
what became of the job (requeued, failed) so a test can check the job is idempotent under redelivery.

::

    faults = FaultInjector(resque)                  # or the ``resque_faults`` fixture
    resque.enqueue(ChargeOrder, 42)
    killed = faults.kill_during("shop.payments.Gateway.charge")   # dies right after the charge
    recovery = faults.recover()                      # a surviving worker finds it dead
    assert recovery.requeued == [killed.job.as_queued()]          # reliable fetch: back on the queue
    resque_worker.drain()                            # runs again: is the card charged twice?

A killed worker stops at the chosen point and never does anything again, as a process killed by
``SIGKILL`` or a lost machine: no ``on_failure`` hook, no ``finally``, no acknowledgement, no
heartbeat. It is left registered, holding its job in its in-flight list, until :meth:`recover` has a
surviving worker retire it, exactly as pruning does in production (``Worker.retire``): with reliable
fetch the job goes back to the head of its queue (recorded as a ``PoisonJobError`` failure once it has
been recovered ``max_recoveries`` times); without it, as in Ruby Resque, the job becomes a ``DirtyExit``
failure and is not run again.

Points: :meth:`FaultInjector.kill_after_reserve` (the job never started),
:meth:`FaultInjector.kill_after_perform` (the job ran to its end; the acknowledgement was lost) and
:meth:`FaultInjector.kill_during` (inside the job, just after or just before a function it calls). For
the last, the job runs in a thread that is parked for good at that point (a killed process's code
never resumes); the thread stays parked until the test process exits.
"""

from __future__ import annotations

import functools
import inspect
import pkgutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from resque_impl.client import Resque
from resque_impl.codec import decode_payload
from resque_impl.errors import ResqueError
from resque_impl.failure import FailureRecord
from resque_impl.job import QueuedJob
from resque_impl.testing.runner import InProcessWorker
from resque_impl.worker import Outcome, ReservedJob, Worker, WorkerOptions

__all__ = ["FaultInjectionError", "FaultInjector", "Killed", "Recovery"]

Point = Literal["after_reserve", "after_perform", "during"]
#: How long to wait for a job running in its own thread to reach the kill point, in wall-clock seconds.
REACH_TIMEOUT = 60.0


class FaultInjectionError(ResqueError):
    """A fault could not be injected as asked (no job waiting, or the job never reached the point)."""


@dataclass(frozen=True)
class Killed:
    """A worker killed at ``point`` while holding ``job``. ``outcome``: for ``after_perform``, how the
    job had ended (never recorded: its worker died first)."""

    worker_id: str
    point: Point
    job: ReservedJob
    outcome: Outcome | None = None


@dataclass(frozen=True)
class Recovery:
    """What a surviving worker did about dead workers: whom it retired, which of their jobs it put back
    on their queues, and which failure records it wrote instead (``DirtyExit``, ``PoisonJobError``)."""

    retired: list[str]
    requeued: list[QueuedJob]
    failed: list[FailureRecord]


class FaultInjector:
    """Kills workers of ``resque`` at chosen points of their jobs; :meth:`recover` cleans up after them.

    :param reliable: the killed workers use reliable fetch (the default, as ``resque-impl work``);
        ``False`` for Ruby Resque's plain ``LPOP``.
    :param max_recoveries: recoveries after which a job counts as poison.
    """

    def __init__(self, resque: Resque, *, reliable: bool = True, max_recoveries: int = 3) -> None:
        self.resque = resque
        options = WorkerOptions(reliable=reliable, max_recoveries=max_recoveries)
        self.runner = InProcessWorker(resque, options=options)
        #: Every worker killed so far and not yet recovered.
        self.dead: list[Killed] = []

    def _doomed(self, queues: tuple[str, ...]) -> tuple[Worker, ReservedJob]:
        worker = self.runner.worker(queues)
        worker.register()
        worker.heartbeat()
        job = worker.reserve()
        if job is None:
            worker.unregister()
            raise FaultInjectionError(f"no job is waiting in {', '.join(queues) or '*'}; enqueue one first")
        return worker, job

    def _killed(self, worker: Worker, point: Point, job: ReservedJob, outcome: Outcome | None = None) -> Killed:
        killed = Killed(worker.id, point, job, outcome)
        self.dead.append(killed)
        return killed

    def kill_after_reserve(self, *queues: str) -> Killed:
        """A worker reserves the next job of ``queues`` (default ``*``) and dies before running it."""
        worker, job = self._doomed(queues)
        return self._killed(worker, "after_reserve", job)

    def kill_after_perform(self, *queues: str) -> Killed:
        """A worker runs the next job to its end and dies before acknowledging it: the job's effects
        happened, yet the job will be delivered again (the at-least-once case to be idempotent for)."""
        worker, job = self._doomed(queues)
        return self._killed(worker, "after_perform", job, self.runner.perform(worker, job))

    def kill_during(self, target: str, *queues: str, when: Literal["after", "before"] = "after") -> Killed:
        """A worker runs the next job and dies inside it: just ``after`` (default) or ``before`` the
        first call the job makes to ``target``, a dotted path as for ``unittest.mock.patch``
        (``"shop.payments.Gateway.charge"``; patch where the job looks it up)."""
        worker, job = self._doomed(queues)
        parked, reached = threading.Event(), threading.Event()
        ended: list[Outcome] = []

        def run() -> None:
            ended.append(self.runner.perform(worker, job))
            reached.set()

        with _parked_at(target, when, parked, reached):
            threading.Thread(target=run, name=f"killed {worker.id}", daemon=True).start()
            if not reached.wait(REACH_TIMEOUT):
                raise FaultInjectionError(
                    f"{job.describe()} reached neither {target} nor its end in {REACH_TIMEOUT:g} s"
                )
        if not parked.is_set():
            worker.done(job, ended[0])
            worker.unregister()
            raise FaultInjectionError(
                f"{job.describe()} never called {target}, so its worker was not killed (the job ran to its end)"
            )
        return self._killed(worker, "during", job)

    def recover(self) -> Recovery:
        """A surviving worker retires every killed worker, as pruning does when it finds them dead."""
        survivor = self.runner.worker(("*",))
        failures = self.resque.failures
        seen = {record.id for record in failures.all()}
        held: list[QueuedJob] = []
        retired: list[str] = []
        for killed in self.dead:
            held.extend(
                QueuedJob(queue, decode_payload(raw)) for queue, raw in self.resque.store.inflight(killed.worker_id)
            )
            survivor.retire(killed.worker_id)
            retired.append(killed.worker_id)
        self.dead.clear()
        written = [record for record in failures.all() if record.id not in seen]
        return Recovery(retired, _not_failed(held, written), written)


def _not_failed(held: list[QueuedJob], written: list[FailureRecord]) -> list[QueuedJob]:
    """The held jobs that no new failure record accounts for (one record per job)."""
    left = list(written)
    requeued: list[QueuedJob] = []
    for job in held:
        match = next((r for r in left if r.queue == job.queue and r.payload == job.payload.to_dict()), None)
        if match is None:
            requeued.append(job)
        else:
            left.remove(match)
    return requeued


def _park_forever() -> NoReturn:
    """The worker is dead: this thread never goes on."""
    while True:
        threading.Event().wait()


@contextmanager
def _parked_at(
    target: str, when: Literal["after", "before"], parked: threading.Event, reached: threading.Event
) -> Iterator[None]:
    """Patch ``target`` so that the first call parks its thread for good (before or after the call),
    setting ``parked`` and ``reached`` once it is there."""
    owner_path, _, name = target.rpartition(".")
    if not owner_path:
        raise FaultInjectionError(f"{target!r} is not a dotted path such as 'package.module.Class.method'")
    owner = pkgutil.resolve_name(owner_path)
    original = inspect.getattr_static(owner, name)
    function: Callable[..., Any] = original.__func__ if isinstance(original, (staticmethod, classmethod)) else original
    first = threading.Lock()

    @functools.wraps(function)
    def dying(*args: Any, **kwargs: Any) -> Any:
        if not first.acquire(blocking=False):
            return function(*args, **kwargs)
        if when == "after":
            function(*args, **kwargs)
        parked.set()
        reached.set()
        _park_forever()

    replacement: Any = type(original)(dying) if isinstance(original, (staticmethod, classmethod)) else dying
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)
