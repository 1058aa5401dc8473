"""The producer side: :class:`Resque`, one configured connection with Ruby Resque's API.

::

    r = Resque("redis://localhost:6379/0")            # or Resque() for $REDIS_URL / localhost
    r.enqueue(EmailJob, 42, "Welcome")                 # True; False if a before_enqueue hook vetoed
    r.enqueue_to("high", EmailJob, 42, "x")
    r.enqueue_to("ruby_queue", "Admin::RubyOnlyJob", 1) # a class only a Ruby worker knows
    r.enqueue_many(EmailJob, [(1, "a"), (2, "b")])     # pipelined; returns how many were pushed
    r.enqueue(Plain, 1)                                # any class with perform (and a queue) is a job
    r.dequeue(EmailJob, 42, "x"); r.size("email"); r.peek("email", 0, 10); r.queues(); r.info()
    r.destroy("any_queue", EmailJob, 42)               # Ruby's Job.destroy: any queue, no hooks
    r.push("q", {"class": "Ruby::Job", "args": [1]})    # any JSON item, no hooks, as Ruby's push
    r.failures.all(0, 10); r.failures.retry_and_remove(record)
    r.enqueue_in(30, EmailJob, 42); r.remove_delayed(EmailJob, 42)   # see resque_impl.delayed

With ``enqueued_at=True`` every payload this instance writes carries ``"enqueued_at": <epoch float>``
after ``class`` and ``args``: an extension Ruby ignores, from which :meth:`Resque.queue_latency`, the
dashboard and the metrics exporters read queue latency (:mod:`resque_impl.latency`). It is off by
default because Ruby's ``Resque.dequeue(klass, *args)`` matches payloads by their exact bytes, which
the extra key changes.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

from resque_impl import testmode
from resque_impl.activejob.producer import ActiveJobs
from resque_impl.clock import Clock
from resque_impl.codec import (
    DEFAULT_MAX_PAYLOAD_BYTES,
    MAX_NESTING,
    RAW_PAYLOAD_KEEP,
    Payload,
    decode_payload,
    nesting,
)
from resque_impl.connection import DEFAULT_SOCKET_TIMEOUT, connect
from resque_impl.delayed import DelayedJobs
from resque_impl.dynamic_schedules import DynamicSchedules
from resque_impl.errors import (
    ConfigurationError,
)
from resque_impl.events import EventBus
from resque_impl.failure import (
    FailureBackend,
    FailureSink,
    MultipleBackend,
    RedisBackend,
    RedisMultiQueueBackend,
    build_record,
)
from resque_impl.hooks import (
    hook_names,
    run_after_dequeue,
    run_after_enqueue,
    run_before_dequeue,
    run_before_enqueue,
    run_enqueue,
)
from resque_impl.instrumentation import sending, trace_headers
from resque_impl.job import QueuedJob
from resque_impl.latency import QueueLatencies
from resque_impl.producer import JobClass, Producer, job_of
from resque_impl.registry import Registry
from resque_impl.store import Store, StoreProtocol

__all__ = ["JobClass", "Resque"]

_BACKENDS: dict[str, type[RedisBackend] | type[RedisMultiQueueBackend]] = {
    "redis": RedisBackend,
    "redis_multi_queue": RedisMultiQueueBackend,
}


class Resque(Producer, DelayedJobs, DynamicSchedules, ActiveJobs, QueueLatencies):
    """A connection to one Resque namespace on one Redis, with Ruby Resque's producer API and
    resque-scheduler's delayed jobs (:class:`~resque_impl.delayed.DelayedJobs`) and dynamic schedules
    (:class:`~resque_impl.dynamic_schedules.DynamicSchedules`), and Rails' ActiveJob ``perform_later``
    (:class:`~resque_impl.activejob.producer.ActiveJobs`), and queue latency
    (:class:`~resque_impl.latency.QueueLatencies`).

    :param redis: a redis-py client, a connection string (see :mod:`resque_impl.connection`), or
        ``None`` for ``$REDIS_URL`` / ``redis://localhost:6379/0``. Nothing connects until first use.
    :param store: use this store instead of connecting (e.g. a
        :class:`~resque_impl.store.memory.MemoryStore`); ``redis`` and ``namespace`` are then ignored.
    :param namespace: key prefix (default ``resque``, or the one in a ``host:port/namespace`` string).
    :param registry: job classes this process knows (default: the global registry).
    :param clock: where timestamps come from (default: the system clock).
    :param failure_backend: ``"redis"`` (default), ``"redis_multi_queue"``, a backend object, or a
        list whose first item is read from and all of which are saved to (Ruby's ``multiple``).
    :param max_payload_bytes: larger payloads are refused at enqueue (default 10 MB).
    :param socket_timeout: seconds before an unreachable or stalled server is an error.
    :param enqueued_at: add ``"enqueued_at"`` (epoch seconds from ``clock``) to every payload written.
    :param events: the job-event stream to announce on (default: a new one, :attr:`events`); see
        :mod:`resque_impl.events`.
    :param wait_replicas: durable writes: enqueues (and a worker's acknowledgements, the scheduler's
        moves) return only once this many replicas confirm them (Redis ``WAIT``), else raise
        :class:`~resque_impl.errors.DurabilityError`. Default: the URL's ``?wait_replicas=``, else 0.
        More than the primary's replicas is refused at once (:class:`ConfigurationError`).
    :param wait_timeout: seconds a durable write waits for its replicas (default: the URL's
        ``?wait_timeout=``, else 1).

    While a test mode is active (:mod:`resque_impl.testing`), :attr:`store`, :attr:`clock` and
    :attr:`failures` are the mode's (see :mod:`resque_impl.testmode`).
    """

    def __init__(
        self,
        redis: Any = None,
        *,
        store: StoreProtocol | None = None,
        namespace: str | None = None,
        registry: Registry | None = None,
        clock: Clock | None = None,
        failure_backend: str | FailureBackend | Sequence[str | FailureSink] = "redis",
        max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        enqueued_at: bool = False,
        events: EventBus | None = None,
        wait_replicas: int | None = None,
        wait_timeout: float | None = None,
    ) -> None:
        if store is None:
            connection = connect(redis, socket_timeout=socket_timeout)
            connected = self._connected_store(connection, namespace, wait_replicas, wait_timeout, Store)
            if connected.wait_replicas:
                connected.check_replicas()
            store = connected
        self._store: StoreProtocol = store
        self._configure_producing(store.keys, registry, clock, max_payload_bytes, enqueued_at, events)
        self._failure_spec = failure_backend
        self._failures: FailureBackend = self.failure_backend_for(store, self._clock)

    def __repr__(self) -> str:
        return f"<Resque {self.store.description} namespace={self.namespace!r}>"

    # -- what this instance uses (an active test mode's, if any) -----------------------------------
    @property
    def store(self) -> StoreProtocol:
        """Where jobs, stats and failures are kept."""
        mode = testmode.active
        return self._store if mode is None else mode.overrides(self).store

    @property
    def configured_store(self) -> StoreProtocol:
        """The store this instance was built with, which it uses whenever no test mode is active."""
        return self._store

    @property
    def clock(self) -> Clock:
        """Where timestamps come from."""
        mode = testmode.active
        return self._clock if mode is None else mode.overrides(self).clock

    @property
    def failures(self) -> FailureBackend:
        """The failure backend."""
        mode = testmode.active
        return self._failures if mode is None else mode.overrides(self).failures

    @property
    def redis(self) -> Any:
        """The redis-py client (``None`` for a store without one)."""
        return getattr(self.store, "client", None)

    def failure_backend_for(self, store: StoreProtocol, clock: Clock) -> FailureBackend:
        """This instance's configured failure backend, built over ``store`` (a backend object given
        to the constructor is used as it is)."""
        return self._failure_backend(self._failure_spec, store, clock)

    def _failure_backend(
        self, spec: str | FailureBackend | Sequence[str | FailureSink], store: StoreProtocol, clock: Clock
    ) -> FailureBackend:
        if isinstance(spec, str):
            try:
                return _BACKENDS[spec](store, clock, self.events)
            except KeyError:
                raise ConfigurationError(
                    f"unknown failure backend {spec!r}; use 'redis', 'redis_multi_queue', a backend "
                    "object, or a list of them"
                ) from None
        if isinstance(spec, Sequence):
            if not spec:
                raise ConfigurationError("failure_backend list is empty")
            primary = self._failure_backend(spec[0], store, clock)  # type: ignore[arg-type]
            others = [self._failure_backend(item, store, clock) if isinstance(item, str) else item for item in spec[1:]]
            return MultipleBackend(primary, *others)
        if not isinstance(spec, FailureBackend):
            raise ConfigurationError(f"failure_backend {spec!r} lacks the FailureBackend methods")
        return spec

    # -- producing ---------------------------------------------------------------------------------
    def enqueue(self, job_class: JobClass, *args: Any) -> bool:
        """Push a job onto its class's queue. ``False`` if a ``before_enqueue`` hook vetoed it."""
        return self.enqueue_to(None, job_class, *args)

    def enqueue_to(self, queue: str | None, job_class: JobClass, *args: Any) -> bool:
        """Push a job onto ``queue``. ``False`` if a ``before_enqueue`` hook vetoed it.

        Arguments are checked first: one that JSON cannot carry unchanged raises
        :class:`NotSerializableError` naming it, and no hook runs and nothing is pushed. The payload
        pushed is encoded after the ``before_enqueue`` hooks, so, as in Ruby, a hook may change
        (mutable) arguments.
        """
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        if cls is None:
            self._push(target, name, args)
            self._announce_enqueued(target, name, 1)
            return True
        # Arguments are checked now, before any hook runs; encoded once no hook can change them.
        payload = self._encode(name, args)
        pushed = run_enqueue(
            cls, args, lambda hooked: self._push(target, name, args, None, None if hooked else payload)
        )
        if pushed:
            self._announce_enqueued(target, name, 1)
        return pushed

    def enqueue_many(self, job_class: JobClass, args_list: Iterable[Sequence[Any]], *, queue: str | None = None) -> int:
        """Push one job per argument list, pipelined; returns how many were pushed (vetoes excluded).

        Every payload is validated before anything is pushed, so a bad one pushes none; as in
        :meth:`enqueue_to`, a payload is encoded again after its ``before_enqueue`` hooks ran.
        """
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        jobs = [(args, self._encode(name, args)) for args in args_list]
        if cls is not None and hook_names(cls, "before_enqueue"):
            jobs = [(args, self._encode(name, args)) for args, _ in jobs if run_before_enqueue(cls, args)]
        if jobs:
            with sending(target, name, jobs[0][0], len(jobs)):
                payloads = [self._encode(name, args) for args, _ in jobs] if trace_headers() else None
                self.store.push_many({target: payloads or [payload for _, payload in jobs]})
        self._announce_enqueued(target, name, len(jobs))
        if cls is not None:
            for args, _ in jobs:
                run_after_enqueue(cls, args)
        return len(jobs)

    def push(self, queue: str, item: Any) -> None:
        """Push a ready-made item onto ``queue`` without hooks, like Ruby's ``Resque.push``.

        A :class:`Payload` or a dict with a ``"class"`` string is written as a payload (``class`` and
        ``args`` first, extra keys kept, stamped when ``enqueued_at`` is on). Any other JSON value (a
        dict without a class, a list, a string...) is written as it is, as Ruby does: a worker
        records it as a failure when it reaches one.
        """
        name, args = job_of(item)
        if name is None:
            self.store.push(queue, self._pushed_bytes(item))
            return
        with sending(queue, name, args):
            self.store.push(queue, self._pushed_bytes(item))

    def _push(
        self,
        queue: str,
        name: str,
        args: Sequence[Any],
        extras: dict[str, Any] | None = None,
        payload: bytes | None = None,
    ) -> None:
        """Push one job (``payload`` if already encoded), inside a tracer's push span when one is installed."""
        with sending(queue, name, args):
            if payload is None or trace_headers():
                payload = self._encode(name, args, extras)
            self.store.push(queue, payload)

    def destroy(self, queue: str, job_class: JobClass, *args: Any) -> int:
        """Remove jobs of ``job_class`` from ``queue`` (only those with exactly ``args``, if given),
        whatever queue the class itself names, without hooks: Ruby's ``Resque::Job.destroy``.
        Returns how many were removed."""
        return self.store.remove_matching(queue, self._matcher(job_class, args))

    def dequeue(self, job_class: JobClass, *args: Any) -> int | None:
        """Remove queued jobs of ``job_class`` from its class's queue (only those with exactly
        ``args``, if given), between its ``before_dequeue`` and ``after_dequeue`` hooks.

        Returns how many were removed, or ``None`` if a ``before_dequeue`` hook vetoed. To remove jobs
        from another queue, use :meth:`destroy`.
        """
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, None)
        if cls is not None and not run_before_dequeue(cls, args):
            return None
        removed = self.destroy(target, name, *args)
        if cls is not None:
            run_after_dequeue(cls, args)
        return removed

    # -- inspecting --------------------------------------------------------------------------------
    def size(self, queue: str) -> int:
        """How many jobs wait in ``queue``."""
        return self.store.queue_size(queue)

    def peek(self, queue: str, start: int = 0, count: int = 1) -> list[QueuedJob]:
        """Up to ``count`` jobs from position ``start`` without removing them (always a list).

        Raises :class:`PayloadDecodeError` for an entry that is not a payload; :meth:`peek_raw`
        returns the bytes instead.
        """
        return [QueuedJob(queue, decode_payload(raw)) for raw in self.store.queue_range(queue, start, count)]

    def peek_raw(self, queue: str, start: int = 0, count: int = 1) -> list[bytes]:
        """Like :meth:`peek`, but the exact bytes."""
        return self.store.queue_range(queue, start, count)

    def queues(self) -> list[str]:
        """Every known queue name, sorted."""
        return self.store.queue_names()

    def remove_queue(self, queue: str) -> None:
        """Delete ``queue`` and every job in it."""
        self.store.remove_queue(queue)

    def workers(self) -> list[str]:
        """Ids of every registered worker."""
        return self.store.worker_ids()

    def working(self) -> dict[str, bytes]:
        """Worker id -> working-on record, for the workers busy right now."""
        records = self.store.working_on(self.store.worker_ids())
        return {worker: record for worker, record in records.items() if record}

    def stat(self, name: str) -> int:
        """A counter, e.g. ``stat("processed")``."""
        return self.store.stat(name)

    def info(self) -> dict[str, Any]:
        """Ruby's ``Resque.info``: pending, processed, queues, workers, working, failed, servers,
        environment."""
        queue_names = self.store.queue_names()
        workers = self.store.worker_ids()
        working = self.store.working_on(workers)
        return {
            "pending": sum(self.store.queue_sizes(queue_names).values()),
            "processed": self.store.stat("processed"),
            "queues": len(queue_names),
            "workers": len(workers),
            "working": sum(1 for record in working.values() if record),
            "failed": self.failures.count(),
            "servers": [self.store.description],
            "environment": os.environ.get("RAILS_ENV") or os.environ.get("RACK_ENV") or "development",
        }

    # -- failures ----------------------------------------------------------------------------------
    def record_failure(self, queue: str, payload: Payload | bytes, error: BaseException, *, worker: str = "") -> None:
        """Write a failure record for a job from ``queue`` to the failure backend.

        ``payload`` may be raw bytes that were not a payload at all; the record then keeps their text
        (cut to 64 KB). Failure hooks are the caller's business (see :class:`hooks.Execution`).
        """
        self.failures.save(self.failure_record(queue, payload, error, worker=worker), queue)

    def failure_record(self, queue: str, payload: Payload | bytes, error: BaseException, *, worker: str = "") -> bytes:
        """The bytes :meth:`record_failure` saves, for callers that save them later or elsewhere (a
        worker's child process builds the record, its parent saves it).

        A payload given as bytes is kept as text, cut to :data:`~resque_impl.codec.RAW_PAYLOAD_KEEP`
        bytes; so is a payload read from Redis that JSON cannot write back (a lone surrogate escape, a
        number too large for a float) or that would make the record nest deeper than Ruby reads.
        """
        now = self.clock.time()
        if isinstance(payload, Payload):
            body = payload.to_dict()
            # The record nests the payload one level deeper; Ruby reads no more than MAX_NESTING levels.
            if nesting(body) < MAX_NESTING:
                with contextlib.suppress(ValueError, UnicodeError):
                    return build_record(body, error, worker=worker, queue=queue, now=now)
            fallback = repr(body).encode("utf-8", "backslashreplace")
            payload = payload.raw if payload.raw is not None else fallback
        text = payload[:RAW_PAYLOAD_KEEP].decode("utf-8", "replace")
        return build_record(text, error, worker=worker, queue=queue, now=now)
