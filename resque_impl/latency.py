"""Queue latency: how long the oldest job of a queue has waited, where that can be known.

::

    r = Resque("redis://localhost:6379/0", enqueued_at=True)   # producers stamp their payloads
    r.queue_latency("email")          # QueueLatency(queue='email', seconds=12.5, state='stamped', ...)
    r.queue_latency("email").seconds  # 12.5; 0.0 for an empty queue; None when it cannot be known
    r.queue_latencies()               # every queue, in one round trip

Resque's wire format has no enqueue time, so latency is read from the ``"enqueued_at"`` extra key
(epoch seconds) that producers add when stamping is on (``Resque(enqueued_at=True)``,
``--enqueued-at``, ``RESQUE_ENQUEUED_AT=1``); Ruby workers ignore the key. Since workers take jobs
from the head of the list (``LPOP``, or ``LMOVE`` for reliable fetch) and producers push to its tail,
the head is the oldest job, and reading it (``LINDEX 0``) is one command per queue, whatever the
queue's length. A head without a usable stamp (pushed by Ruby, or by a producer that does not stamp)
makes the latency unknown (``seconds is None``, ``state == "unknown"``) rather than a guess. A job
pushed back to the head keeps its first stamp, so its wait counts from when it was first queued.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from resque_impl.codec import loads

if TYPE_CHECKING:
    from resque_impl.clock import Clock
    from resque_impl.store import StoreProtocol

__all__ = [
    "ENQUEUED_AT",
    "LatencyState",
    "QueueLatencies",
    "QueueLatency",
    "enqueued_at_of",
    "latency_of",
    "read_latencies",
]

#: The payload key that carries the enqueue time (epoch seconds).
ENQUEUED_AT = "enqueued_at"

#: ``"empty"``: nothing waits (latency 0); ``"stamped"``: the head job says when it was queued;
#: ``"unknown"``: the head job carries no usable stamp (e.g. pushed by Ruby Resque).
LatencyState = Literal["empty", "stamped", "unknown"]


@dataclass(frozen=True, slots=True)
class QueueLatency:
    """The latency of one queue at one moment."""

    queue: str
    #: Seconds the oldest job has waited; ``0.0`` for an empty queue; ``None`` when unknown.
    seconds: float | None
    state: LatencyState
    #: When the oldest job was queued (epoch seconds), for a stamped head.
    enqueued_at: float | None = None

    @property
    def known(self) -> bool:
        return self.seconds is not None

    def as_json(self) -> dict[str, Any]:
        return {"queue": self.queue, "seconds": self.seconds, "state": self.state, "enqueued_at": self.enqueued_at}


def enqueued_at_of(raw: bytes | str | None) -> float | None:
    """The ``enqueued_at`` stamp of a payload's bytes, or ``None`` when it has none usable (not a JSON
    object, no key, not a finite number, a boolean)."""
    if raw is None:
        return None
    try:
        data = loads(raw)
    except (ValueError, RecursionError):
        return None
    stamp = data.get(ENQUEUED_AT) if isinstance(data, dict) else None
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        return None
    return float(stamp)


def latency_of(queue: str, head: bytes | None, now: float) -> QueueLatency:
    """The latency of ``queue`` whose next payload is ``head`` (``None``: the queue is empty). A stamp
    in the future (clocks apart between hosts) counts as no wait."""
    if head is None:
        return QueueLatency(queue, 0.0, "empty")
    stamp = enqueued_at_of(head)
    if stamp is None:
        return QueueLatency(queue, None, "unknown")
    return QueueLatency(queue, max(0.0, now - stamp), "stamped", stamp)


def read_latencies(store: StoreProtocol, queues: Sequence[str], now: float) -> dict[str, QueueLatency]:
    """Each of ``queues``' latency at ``now``, in one round trip (``LINDEX 0`` per queue)."""
    heads = store.queue_heads(list(queues))
    return {queue: latency_of(queue, heads[queue], now) for queue in queues}


class QueueLatencies:
    """:meth:`queue_latency` and :meth:`queue_latencies`, mixed into :class:`~resque_impl.client.Resque`."""

    if TYPE_CHECKING:

        @property
        def store(self) -> StoreProtocol: ...
        @property
        def clock(self) -> Clock: ...
        def queues(self) -> list[str]: ...

    def queue_latency(self, queue: str) -> QueueLatency:
        """How long the oldest job of ``queue`` has waited (see :mod:`resque_impl.latency`)."""
        return read_latencies(self.store, [queue], self.clock.time())[queue]

    def queue_latencies(self, queues: Sequence[str] | None = None) -> dict[str, QueueLatency]:
        """The latency of each of ``queues`` (default: every known queue), in one round trip."""
        names = self.queues() if queues is None else list(queues)
        return read_latencies(self.store, names, self.clock.time())
