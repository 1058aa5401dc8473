"""What a job is before it reaches Redis: its class name, queue and exact payload bytes.

:class:`Producer` is the part of a client that involves no I/O: identifying a job class (registering
a plain class on first use), inferring its queue, checking and encoding its arguments, building the
bytes of a pushed item and of a resque-scheduler delayed item, and deciding which queued entries a
``destroy`` matches. :class:`~resque_impl.Resque` and :class:`~resque_impl.aio.AsyncResque` both build
on it, so the two write the same bytes for the same call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from resque_impl.clock import SYSTEM_CLOCK
from resque_impl.codec import Payload, decode_payload, dumps, encode_payload, validate_args
from resque_impl.delayed import When, to_epoch
from resque_impl.errors import (
    ConfigurationError,
    NoClassError,
    NoQueueError,
    PayloadDecodeError,
    PayloadTooLargeError,
)
from resque_impl.events import JOB_ENQUEUED, EventBus
from resque_impl.instrumentation import trace_headers
from resque_impl.job import queue_of, require_perform
from resque_impl.keys import DEFAULT_NAMESPACE, Keys
from resque_impl.registry import Registry, default_registry

if TYPE_CHECKING:
    from resque_impl.clock import Clock

__all__ = ["JobClass", "Producer", "job_of"]

#: A job class, or the payload class name of a job only another process (e.g. a Ruby one) defines.
JobClass = type | str

StoreT = TypeVar("StoreT")


class _Connection(Protocol):
    """What a client takes from :func:`~resque_impl.connect` or :func:`~resque_impl.aio.connect_async`."""

    @property
    def namespace(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def wait_replicas(self) -> int: ...
    @property
    def wait_timeout(self) -> float: ...
    def client_for(self, namespace: str) -> Any: ...


class Producer:
    """Job identity and encoding, shared by the synchronous and the asyncio client.

    Subclasses provide :attr:`clock` (a test mode may stand in for it) and call
    :meth:`_configure_producing` from their constructor (after :meth:`_connected_store`, when they
    connect), so the two clients read their shared constructor parameters alike.
    """

    keys: Keys
    namespace: str
    registry: Registry
    max_payload_bytes: int
    enqueued_at: bool
    #: The job-event stream the client, workers and scheduler of this instance announce on.
    events: EventBus

    if TYPE_CHECKING:

        @property
        def clock(self) -> Clock: ...

    @staticmethod
    def _connected_store(
        connection: _Connection,
        namespace: str | None,
        wait_replicas: int | None,
        wait_timeout: float | None,
        make_store: Callable[..., StoreT],
    ) -> StoreT:
        """A store on ``connection`` in ``namespace`` (else the connection's, else ``resque``); the
        durable-write settings given override the connection string's."""
        keys = Keys(namespace or connection.namespace or DEFAULT_NAMESPACE)
        return make_store(
            connection.client_for(keys.namespace),
            keys,
            connection.description,
            wait_replicas=connection.wait_replicas if wait_replicas is None else wait_replicas,
            wait_timeout=connection.wait_timeout if wait_timeout is None else wait_timeout,
        )

    def _configure_producing(
        self,
        keys: Keys,
        registry: Registry | None,
        clock: Clock | None,
        max_payload_bytes: int,
        enqueued_at: bool,
        events: EventBus | None,
    ) -> None:
        """Take the constructor's settings shared by both clients (``None``: the default)."""
        self.keys = keys
        self.namespace = keys.namespace
        self._clock = clock if clock is not None else SYSTEM_CLOCK
        if max_payload_bytes <= 0:
            raise ConfigurationError(f"max_payload_bytes must be positive, got {max_payload_bytes}")
        self.registry = registry if registry is not None else default_registry
        self.max_payload_bytes = max_payload_bytes
        self.enqueued_at = enqueued_at
        self.events = events if events is not None else EventBus()

    # -- job identity ------------------------------------------------------------------------------
    def _identify(self, job_class: JobClass) -> tuple[str, type | None]:
        """The payload class name and, when this process knows it, the Python class."""
        if isinstance(job_class, str):
            if not job_class.strip():
                raise NoClassError("Jobs must be given a class (got an empty class name)")
            return job_class, self.registry.get(job_class)
        if not isinstance(job_class, type):
            raise NoClassError(f"Jobs must be given a class or a class name string, got {type(job_class).__name__}")
        # A class object is known to this process, so its jobs must run here too (inline mode, a worker
        # in this process): register a plain class under its payload name on first use.
        name = self.registry.registered_name(job_class)
        if name is None:
            require_perform(job_class)
            name = self.registry.adopt(job_class)
        return name, job_class

    def _queue_for(self, name: str, cls: type | None, queue: str | None) -> str:
        resolved = queue if queue is not None else (queue_of(cls) if cls is not None else None)
        if not isinstance(resolved, str) or not resolved:
            raise NoQueueError(
                f"Jobs must be placed onto a queue. No queue could be inferred for class {name}; "
                "set a queue attribute on the class or use enqueue_to(queue, ...)"
            )
        return resolved

    def validate(self, job_class: JobClass, queue: str | None = None) -> None:
        """Raise :class:`NoQueueError` / :class:`NoClassError` as Ruby's ``Resque.validate`` does."""
        name, cls = self._identify(job_class)
        self._queue_for(name, cls, queue)

    # -- payload bytes -----------------------------------------------------------------------------
    def _encode(self, name: str, args: Sequence[Any], extras: dict[str, Any] | None = None) -> bytes:
        """A payload as this instance writes it: validated, size-checked, stamped when configured."""
        if self.enqueued_at:
            extras = {**(extras or {}), "enqueued_at": self.clock.time()}
        headers = trace_headers()
        if headers:
            extras = {**(extras or {}), **headers}
        return encode_payload(name, args, extras, max_bytes=self.max_payload_bytes)

    def encode(self, job_class: JobClass, args: Sequence[Any]) -> bytes:
        """The exact payload bytes ``enqueue`` would push now (validated, size-checked)."""
        name, _ = self._identify(job_class)
        return self._encode(name, args)

    def _item(self, name: str, args: Sequence[Any], queue: str | None, extras: dict[str, Any] | None = None) -> bytes:
        """A delayed item's exact bytes: ``{"class":..,"args":..,"queue":..}`` plus any extras."""
        return encode_payload(name, args, {"queue": queue, **(extras or {})}, max_bytes=self.max_payload_bytes)

    def _pushed_bytes(self, item: Any) -> bytes:
        """What ``push(queue, item)`` writes, as Ruby's ``Resque.push`` does.

        A :class:`Payload` or a dict with a ``"class"`` string is written as a payload (``class`` and
        ``args`` first, extra keys kept, stamped when ``enqueued_at`` is on). Any other JSON value is
        written as it is.
        """
        if isinstance(item, Payload):
            return self._encode(item.class_name, item.args, dict(item.extras))
        if isinstance(item, Mapping) and isinstance(item.get("class"), str) and item["class"]:
            extras = {key: value for key, value in item.items() if key not in ("class", "args")}
            return self._encode(item["class"], item.get("args") or [], extras)
        validate_args([item], root="item")
        raw = dumps(item)
        if len(raw) > self.max_payload_bytes:
            raise PayloadTooLargeError(len(raw), self.max_payload_bytes)
        return raw

    def _matcher(self, job_class: JobClass, args: Sequence[Any]) -> Callable[[bytes], bool]:
        """Which queued entries Ruby's ``Job.destroy(queue, klass, *args)`` removes: those of the class
        (only those with exactly ``args``, if given)."""
        name, _ = self._identify(job_class)
        if not args:
            return lambda raw: _class_of(raw) == name
        wanted = encode_payload(name, args, max_bytes=self.max_payload_bytes)
        return lambda raw: _same_job(raw, wanted, name)

    # -- scheduling --------------------------------------------------------------------------------
    def _schedule(self, when: When) -> tuple[int, bool]:
        """The whole second ``when`` falls in, and whether it is already past, in which case the job
        is enqueued at once rather than delayed (as resque-scheduler does)."""
        timestamp = math.floor(to_epoch(when))
        return timestamp, timestamp < math.floor(self.clock.time())

    # -- events ------------------------------------------------------------------------------------
    def _announce_enqueued(self, queue: str, class_name: str, count: int) -> None:
        if count and self.events.listening(JOB_ENQUEUED):
            self.events.emit(JOB_ENQUEUED, {"count": count}, {"class": class_name, "queue": queue})


def job_of(item: Any) -> tuple[str | None, Sequence[Any]]:
    """The class name and args of an item ``push`` writes as a payload; ``None`` for any other value."""
    if isinstance(item, Payload):
        return item.class_name, item.args
    if isinstance(item, Mapping) and isinstance(item.get("class"), str) and item["class"]:
        args = item.get("args") or []
        return item["class"], args if isinstance(args, Sequence) else []
    return None, []


def _class_of(raw: bytes) -> str | None:
    try:
        return decode_payload(raw).class_name
    except PayloadDecodeError:
        return None


def _same_job(raw: bytes, wanted: bytes, name: str) -> bool:
    """Ruby matches ``dequeue(cls, *args)`` by exact bytes; payloads that carry extra keys (written by
    other producers) match on their class and args alone."""
    if raw == wanted:
        return True
    try:
        payload = decode_payload(raw)
    except PayloadDecodeError:
        return False
    return (
        bool(payload.extras) and payload.class_name == name and dumps({"class": name, "args": payload.args}) == wanted
    )
