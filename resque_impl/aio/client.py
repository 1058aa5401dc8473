"""The asyncio producer: :class:`AsyncResque`, Ruby Resque's producer API to ``await`` on ``redis.asyncio``.

::

    resque = AsyncResque("redis://localhost:6379/0")      # or AsyncResque() for $REDIS_URL / localhost
    await resque.enqueue(EmailJob, 42, "Welcome")          # True; False if a before_enqueue hook vetoed
    await resque.enqueue_to("high", EmailJob, 42, "x")
    await resque.enqueue_many(EmailJob, [(1, "a"), (2, "b")])
    await resque.enqueue_in(30, EmailJob, 42); await resque.enqueue_at(when, EmailJob, 42)
    await resque.dequeue(EmailJob, 42); await resque.size("email"); await resque.peek("email", 0, 10)
    await resque.aclose()                                   # or: async with AsyncResque(...) as resque:

It writes the bytes :class:`~resque_impl.Resque` writes for the same call (both build payloads with
:class:`~resque_impl.producer.Producer` and send the same commands), runs the same hooks in the same
order, announces the same events, and reads connection strings the same way (see
:mod:`resque_impl.aio.connection`). Hooks may be ``async def``: their result is awaited. Plain hooks
run on the event loop, so they should not block.

While a test mode is active (:mod:`resque_impl.testing`), an ``AsyncResque`` uses the mode's store and
clock as a ``Resque`` does; the mode's store is called in a thread (inline mode performs the job there,
an ``async def perform`` on a loop of its own, as a worker would), so the caller's loop stays free.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

from resque_impl import testmode
from resque_impl.aio.connection import connect_async
from resque_impl.client import JobClass, Resque
from resque_impl.clock import Clock
from resque_impl.codec import DEFAULT_MAX_PAYLOAD_BYTES, decode_payload
from resque_impl.connection import DEFAULT_SOCKET_TIMEOUT
from resque_impl.delayed import When, delay_seconds
from resque_impl.events import EventBus
from resque_impl.failure import FailureBackend, FailureSink
from resque_impl.hooks import hook_names, hook_target
from resque_impl.instrumentation import sending, trace_headers
from resque_impl.job import QueuedJob
from resque_impl.producer import Producer, job_of
from resque_impl.registry import Registry
from resque_impl.store import Store
from resque_impl.store.aio import AsyncStore, AsyncStoreProtocol, ThreadedStore

__all__ = ["AsyncResque"]

#: The twin's store is never sent a command (it stands in only while a test mode replaces it), so it
#: has no client.
_NO_CLIENT: Any = None


class AsyncResque(Producer):
    """A ``redis.asyncio`` connection to one Resque namespace, with Ruby Resque's producer API.

    Takes :class:`~resque_impl.Resque`'s parameters, except that ``redis`` is a ``redis.asyncio``
    client or a connection string, and ``store`` an :class:`~resque_impl.store.aio.AsyncStore`. With
    ``wait_replicas``, the primary's replicas are counted before the first write (a
    :class:`~resque_impl.errors.ConfigurationError` if too few).
    """

    def __init__(
        self,
        redis: Any = None,
        *,
        store: AsyncStore | None = None,
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
            connection = connect_async(redis, socket_timeout=socket_timeout)
            store = self._connected_store(connection, namespace, wait_replicas, wait_timeout, AsyncStore)
        self._store = store
        self._replicas_checked = not store.wait_replicas
        self._configure_producing(store.keys, registry, clock, max_payload_bytes, enqueued_at, events)
        # What a test mode overrides: a synchronous Resque like this one (namespace, registry, clock,
        # failure backend, encoding), whose store the mode replaces; see the `store` property.
        self._twin = Resque(
            store=Store(_NO_CLIENT, self.keys, store.description),
            registry=self.registry,
            clock=self._clock,
            failure_backend=failure_backend,
            max_payload_bytes=max_payload_bytes,
            enqueued_at=enqueued_at,
            events=self.events,
        )
        self._threaded: ThreadedStore | None = None

    def __repr__(self) -> str:
        return f"<AsyncResque {self._store.description} namespace={self.namespace!r}>"

    async def __aenter__(self) -> AsyncResque:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close this client's connections."""
        await self._store.aclose()

    # -- what this instance uses (an active test mode's, if any) -----------------------------------
    @property
    def store(self) -> AsyncStoreProtocol:
        """Where jobs are pushed: this instance's :class:`AsyncStore`, or the active test mode's store."""
        mode = testmode.active
        if mode is None:
            return self._store
        used = mode.overrides(self._twin).store
        if self._threaded is None or self._threaded.store is not used:
            self._threaded = ThreadedStore(used)
        return self._threaded

    @property
    def clock(self) -> Clock:
        """Where timestamps come from."""
        mode = testmode.active
        return self._clock if mode is None else mode.overrides(self._twin).clock

    async def _writer(self) -> AsyncStoreProtocol:
        """The store to write to, once the primary is known to have the replicas durable writes need."""
        store = self.store
        if not self._replicas_checked and store is self._store:
            await self._store.check_replicas()
            self._replicas_checked = True
        return store

    # -- producing ---------------------------------------------------------------------------------
    async def enqueue(self, job_class: JobClass, *args: Any) -> bool:
        """Push a job onto its class's queue. ``False`` if a ``before_enqueue`` hook vetoed it."""
        return await self.enqueue_to(None, job_class, *args)

    async def enqueue_to(self, queue: str | None, job_class: JobClass, *args: Any) -> bool:
        """Push a job onto ``queue``; as :meth:`resque_impl.Resque.enqueue_to` (arguments are checked
        before any hook runs; the payload is encoded again after ``before_enqueue`` hooks ran)."""
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        payload = self._encode(name, args)
        store = await self._writer()
        if cls is None:
            await self._push(store, target, name, args, payload)
            self._announce_enqueued(target, name, 1)
            return True
        if hook_names(cls, "before_enqueue"):
            if not await _vetoable(cls, "before_enqueue", args):
                return False
            payload = self._encode(name, args)
        await self._push(store, target, name, args, payload)
        await _run_all(cls, "after_enqueue", args)
        self._announce_enqueued(target, name, 1)
        return True

    async def enqueue_many(
        self, job_class: JobClass, args_list: Iterable[Sequence[Any]], *, queue: str | None = None
    ) -> int:
        """Push one job per argument list, pipelined; returns how many were pushed (vetoes excluded).
        Every payload is checked before anything is pushed, so a bad one pushes none."""
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        jobs = [(args, self._encode(name, args)) for args in args_list]
        if cls is not None and hook_names(cls, "before_enqueue"):
            jobs = [
                (args, self._encode(name, args)) for args, _ in jobs if await _vetoable(cls, "before_enqueue", args)
            ]
        if jobs:
            store = await self._writer()
            with sending(target, name, jobs[0][0], len(jobs)):
                payloads = [self._encode(name, args) for args, _ in jobs] if trace_headers() else None
                await store.push_many({target: payloads or [payload for _, payload in jobs]})
        self._announce_enqueued(target, name, len(jobs))
        if cls is not None:
            for args, _ in jobs:
                await _run_all(cls, "after_enqueue", args)
        return len(jobs)

    async def push(self, queue: str, item: Any) -> None:
        """Push a ready-made item onto ``queue`` without hooks, like Ruby's ``Resque.push``."""
        store = await self._writer()
        name, args = job_of(item)
        if name is None:
            await store.push(queue, self._pushed_bytes(item))
            return
        with sending(queue, name, args):
            await store.push(queue, self._pushed_bytes(item))

    async def _push(
        self, store: AsyncStoreProtocol, queue: str, name: str, args: Sequence[Any], payload: bytes
    ) -> None:
        """Push one job, inside a tracer's push span when one is installed (encoded again in it, then)."""
        with sending(queue, name, args):
            await store.push(queue, self._encode(name, args) if trace_headers() else payload)

    # -- delayed jobs (resque-scheduler) -----------------------------------------------------------
    async def enqueue_at(self, when: When, job_class: JobClass, *args: Any) -> bool:
        """Enqueue a job on its class's queue at ``when`` (an aware datetime or epoch seconds).
        ``False`` if a ``before_schedule`` hook vetoed it; a time already past enqueues it now."""
        name, cls = self._identify(job_class)
        return await self.enqueue_at_with_queue(self._queue_for(name, cls, None), when, job_class, *args)

    async def enqueue_at_with_queue(self, queue: str, when: When, job_class: JobClass, *args: Any) -> bool:
        """Enqueue a job on ``queue`` at ``when``; as :meth:`resque_impl.Resque.enqueue_at_with_queue`."""
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, queue)
        timestamp, past = self._schedule(when)
        item = self._item(name, args, target)  # refuse bad arguments before any hook runs
        if cls is not None:
            if not await _vetoable(cls, "before_schedule", args):
                return False
            if hook_names(cls, "before_schedule"):
                item = self._item(name, args, target)
        store = await self._writer()
        if past or getattr(store, "delayed_now", False):
            await self.enqueue_to(target, job_class, *args)  # a veto here still runs after_schedule
        else:
            await store.delayed_push(timestamp, item)
        if cls is not None:
            await _run_all(cls, "after_schedule", args)
        return True

    async def enqueue_in(self, delay: timedelta | float | int, job_class: JobClass, *args: Any) -> bool:
        """Enqueue a job ``delay`` seconds (or a timedelta) from now; a negative delay enqueues now."""
        return await self.enqueue_at(self.clock.time() + delay_seconds(delay), job_class, *args)

    async def enqueue_in_with_queue(
        self, queue: str, delay: timedelta | float | int, job_class: JobClass, *args: Any
    ) -> bool:
        """Enqueue a job on ``queue`` ``delay`` seconds from now."""
        return await self.enqueue_at_with_queue(queue, self.clock.time() + delay_seconds(delay), job_class, *args)

    # -- removing ----------------------------------------------------------------------------------
    async def destroy(self, queue: str, job_class: JobClass, *args: Any) -> int:
        """Remove jobs of ``job_class`` from ``queue`` (only those with exactly ``args``, if given),
        without hooks, like Ruby's ``Resque::Job.destroy``. Returns how many were removed."""
        return await self.store.remove_matching(queue, self._matcher(job_class, args))

    async def dequeue(self, job_class: JobClass, *args: Any) -> int | None:
        """Remove queued jobs of ``job_class`` from its class's queue (only those with exactly
        ``args``, if given), between its ``before_dequeue`` and ``after_dequeue`` hooks. Returns how
        many were removed, or ``None`` if a ``before_dequeue`` hook vetoed."""
        name, cls = self._identify(job_class)
        target = self._queue_for(name, cls, None)
        if cls is not None and not await _vetoable(cls, "before_dequeue", args):
            return None
        removed = await self.destroy(target, name, *args)
        if cls is not None:
            await _run_all(cls, "after_dequeue", args)
        return removed

    # -- inspecting --------------------------------------------------------------------------------
    async def size(self, queue: str) -> int:
        """How many jobs wait in ``queue``."""
        return await self.store.queue_size(queue)

    async def peek(self, queue: str, start: int = 0, count: int = 1) -> list[QueuedJob]:
        """Up to ``count`` jobs from position ``start`` without removing them (always a list)."""
        return [QueuedJob(queue, decode_payload(raw)) for raw in await self.store.queue_range(queue, start, count)]

    async def peek_raw(self, queue: str, start: int = 0, count: int = 1) -> list[bytes]:
        """Like :meth:`peek`, but the exact bytes."""
        return await self.store.queue_range(queue, start, count)

    async def queues(self) -> list[str]:
        """Every known queue name, sorted."""
        return await self.store.queue_names()


async def _call(cls: type, prefix: str, args: Sequence[Any]) -> list[Any]:
    """Run every hook of ``cls`` starting with ``prefix`` in order, awaiting those that are ``async``."""
    names = hook_names(cls, prefix)
    if not names:
        return []
    target = hook_target(cls)
    results = []
    for name in names:
        result = getattr(target, name)(*args)
        results.append(await result if inspect.isawaitable(result) else result)
    return results


async def _vetoable(cls: type, prefix: str, args: Sequence[Any]) -> bool:
    """Run every ``prefix`` hook; ``False`` if any returned exactly ``False``, as in Ruby."""
    return not any(result is False for result in await _call(cls, prefix, args))


async def _run_all(cls: type, prefix: str, args: Sequence[Any]) -> None:
    await _call(cls, prefix, args)
