"""Inline mode's store: pushing a job performs it at once, after the production JSON round trip.

:class:`InlineStore` is a real :class:`~resque_impl.store.Store` on the test mode's fakeredis, so
everything but pushing behaves as in production (sizes, failures, stats, delayed jobs). Every way a job
reaches a queue ends here: ``enqueue``/``enqueue_to`` (between the ``before_enqueue`` and
``after_enqueue`` hooks, as in Ruby's ``Resque.inline``), ``enqueue_many``, ``push``, requeuing a
failure, delayed jobs falling due (or, with ``delayed_now``, being scheduled) and recurring ticks.
The job then runs from the exact bytes a worker would read: decoded from the encoded payload, so
``(1, 2)`` arrives as ``[1, 2]``, and an argument JSON cannot carry has already failed at enqueue
with the production error.

A payload naming a class this process does not know (a job only a Ruby worker runs), or a pushed
item that is not a payload at all, is pushed as usual, so the test can still assert it was enqueued;
a :class:`~resque_impl.testing.NotRunInlineWarning` says so once per class name per process, since a
Python worker would fail the job. With ``strict``, :class:`~resque_impl.testing.StrictInlineError`
is raised instead and nothing is pushed.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from resque_impl.clock import SystemClock
from resque_impl.codec import decode_payload, dumps, loads
from resque_impl.errors import PayloadDecodeError, exception_message, exception_name
from resque_impl.events import JOB_FAILED, JOB_FINISHED
from resque_impl.hooks import Execution
from resque_impl.instrumentation import performing
from resque_impl.job import QueuedJob
from resque_impl.plugins.timing import attach_timing
from resque_impl.store import Store
from resque_impl.store.delayed import RELEASE_CHANGED
from resque_impl.testing.errors import InlineDepthError, NotRunInlineWarning, StrictInlineError
from resque_impl.testing.performed import Performed

if TYPE_CHECKING:
    import redis

    from resque_impl.client import Resque
    from resque_impl.keys import Keys

__all__ = ["InlineRunner", "InlineStore"]


class InlineRunner:
    """Performs one job in this thread, with every perform hook, for one ``Resque`` instance.

    :param record_failures: on an exception, write a failure record (as a worker would) instead of
        letting the exception propagate out of ``enqueue``.
    :param log: told about every job run.
    :param max_depth: how deeply jobs may enqueue jobs that run inline before :class:`InlineDepthError`
        (a job that enqueues itself would otherwise recurse until Python's recursion limit).
    :param depth: where the current depth is kept: a context variable, so that it follows a job's
        enqueues through ``asyncio.to_thread`` and the job's own event loop (an ``async def perform``).
    :param strict: raise :class:`StrictInlineError` for a job no class here can run, rather than
        pushing it with a :class:`NotRunInlineWarning`.
    """

    def __init__(
        self,
        resque: Resque,
        *,
        record_failures: bool,
        log: Callable[[Performed], None],
        max_depth: int,
        depth: ContextVar[int],
        strict: bool = False,
    ) -> None:
        self.resque = resque
        self.record_failures = record_failures
        self.log = log
        self.max_depth = max_depth
        self._depth = depth
        self.strict = strict
        attach_timing(resque.events, resque.registry)  # the Timing plugin records from the job events

    def run(self, queue: str, raw: bytes) -> bool:
        """Perform the job in ``raw``; ``False`` (nothing done; warned once per class name) if no class
        here can run it. Raises :class:`StrictInlineError` instead in strict mode."""
        try:
            payload = decode_payload(raw)
        except PayloadDecodeError:
            return self._not_run(raw[:80].decode("utf-8", "replace"))
        job_class = self.resque.registry.get(payload.class_name)
        if job_class is None:
            return self._not_run(payload.class_name)
        missing = _missing_class(job_class, payload.args)
        if missing is not None:
            return self._not_run(missing)
        depth = self._depth.get()
        if depth >= self.max_depth:
            raise InlineDepthError(self.max_depth, payload.class_name)
        token = self._depth.set(depth + 1)
        clock = self.resque.clock
        timer = time.perf_counter if isinstance(clock, SystemClock) else clock.time
        started = timer()
        execution = Execution(job_class, payload.args, job=QueuedJob(queue, payload), timer=timer)
        try:
            with performing(queue, payload):
                performed = execution.perform()
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # SystemExit from a job is a failure too, as in a worker
            seconds = timer() - started
            done = Performed(queue, raw, payload, "failed", exception_name(error), exception_message(error))
            self.log(done)
            if not self.record_failures or isinstance(error, InlineDepthError):
                self._announce(done, seconds, execution.perform_time)
                raise
            self.resque.record_failure(queue, payload, error, worker="inline")
            self._announce(done, seconds, execution.perform_time)
            return True
        finally:
            self._depth.reset(token)
        done = Performed(queue, raw, payload, "performed" if performed else "skipped")
        self.log(done)
        self._announce(done, timer() - started, execution.perform_time)
        return True

    def _announce(self, done: Performed, seconds: float, perform_time: float | None) -> None:
        """``job.finished`` / ``job.failed`` as a worker announces them, from worker ``inline``: the run
        time is the whole run with its hooks (there is no fork nor acknowledgement around it)."""
        failed = done.status == "failed"
        name = JOB_FAILED if failed else JOB_FINISHED
        events = self.resque.events
        if not events.listening(name):
            return
        metadata: dict[str, Any] = {"class": done.class_name, "queue": done.queue, "worker": "inline"}
        metadata["status"] = done.status
        if failed:
            metadata["exception"], metadata["error"] = done.exception, done.error
        measurements = {"run_time": max(0.0, seconds)}
        if perform_time is not None:
            measurements["perform_time"] = perform_time
        events.emit(name, measurements, metadata)

    def _not_run(self, class_name: str) -> bool:
        if self.strict:
            raise StrictInlineError(class_name)
        with _warned_lock:
            first = class_name not in _warned
            _warned.add(class_name)
        if first:
            warnings.warn(NotRunInlineWarning(class_name), stacklevel=_outside_level())
        return False


def _outside_level() -> int:
    """The ``stacklevel`` that points a warning issued by our caller at the first frame outside this
    package: the application or test line that enqueued the job."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Class names inline mode has warned about, so a test run hears of each once.
_warned: set[str] = set()
_warned_lock = threading.Lock()


def _missing_class(job_class: type, args: list[Any]) -> str | None:
    """A class that dispatches by its arguments (ActiveJob's ``JobWrapper``) may lack the class they
    name; the job is then not run, like one of a class only Ruby defines."""
    missing = getattr(job_class, "missing_class", None)
    return None if missing is None else missing(args)


class InlineStore(Store):
    """A fakeredis-backed store whose pushes perform jobs instead of queueing them.

    :param delayed_now: run delayed jobs at once, as Ruby's inline mode does (else they wait in the
        delayed queue for the virtual clock, and run when they are moved to their queue).
    """

    def __init__(
        self, client: redis.Redis, keys: Keys, runner: InlineRunner, description: str, *, delayed_now: bool
    ) -> None:
        super().__init__(client, keys, description)
        self.runner = runner
        self.delayed_now = delayed_now

    def push(self, queue: str, payload: bytes) -> None:
        if not self.runner.run(queue, payload):
            super().push(queue, payload)

    def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        _each([(queue, payload) for queue, payloads in batches.items() for payload in payloads], self.push)

    def delayed_push(self, timestamp: int, item: bytes) -> None:
        """With ``delayed_now``, run the job at once (a ``push_at`` item: no hooks; ``enqueue_at``
        goes through ``enqueue_to`` itself, as resque-scheduler's does under ``Resque.inline``); else
        schedule it."""
        if self.delayed_now:
            data = loads(item)
            queue = data.pop("queue", None)
            if isinstance(queue, str) and self.runner.run(queue, dumps(data)):
                return
        super().delayed_push(timestamp, item)

    def delayed_release(self, timestamp: int, expected: Sequence[bytes], pushes: Sequence[tuple[str, bytes]]) -> int:
        """Take the due jobs off the delayed queue, then run them (rather than queue them)."""
        moved = super().delayed_release(timestamp, expected, ())
        if moved == RELEASE_CHANGED:
            return moved
        _each(pushes, self.push)
        return len(pushes)

    def schedule_fire(self, name: str, tick: float, enqueued_at: str, push: tuple[str, bytes] | None) -> bool:
        """Record a recurring schedule's tick, then run its job (rather than queue it)."""
        fired = super().schedule_fire(name, tick, enqueued_at, None)
        if fired and push is not None:
            self.push(*push)
        return fired

    def failure_update(
        self,
        list_key: str,
        index: int,
        current: bytes,
        replacement: bytes | None,
        push: tuple[str, bytes] | None = None,
    ) -> bool:
        """Update the failure record, then run the requeued job (if any) inline."""
        updated = super().failure_update(list_key, index, current, replacement)
        if updated and push is not None:
            self.push(*push)
        return updated

    def __repr__(self) -> str:
        return f"<InlineStore {self.description} namespace={self.keys.namespace!r}>"


def _each(pushes: Sequence[tuple[str, bytes]], push: Callable[[str, bytes], None]) -> None:
    """Push (run) every job, even when one raises; then raise the first error. A batch taken off the
    delayed queue is not lost because its first job failed."""
    first: BaseException | None = None
    for queue, payload in pushes:
        try:
            push(queue, payload)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            first = first or error
    if first is not None:
        raise first
