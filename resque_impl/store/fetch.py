"""The worker's hot path: reserve and acknowledge jobs, reliably, in one round trip each.

:meth:`FetchCommands.fetch` is one Lua script that (1) acknowledges the job just finished, if any
(working-on record deleted, ``stat:processed`` and per-worker counters incremented, plus
``stat:failed`` when it failed), then (2) unless ``pause-all-workers`` is ``"true"``, pops the first
payload found in the queues in priority order and writes the worker's working-on record. So a busy
worker costs one round trip per job.

A worker with wildcard patterns expands them against the ``queues`` set, as Ruby does before every
reserve; instead of reading the set (``SMEMBERS``) in a round trip of its own each time, it sends the set
it last expanded from and the script compares it with the set as it is
(:func:`~resque_impl.store.fetch_scripts.encode_queue_set`). While they agree the queue list is the one
Ruby would use; when they differ nothing is popped and the reply carries the new set to expand again
from. So the list a job is popped by always matches the set at that moment, atomically (Ruby reads the
set and pops in separate round trips), and wildcard workers too cost one round trip per job.

*Reliable fetch* (an extension Ruby Resque ignores): the popped payload is also appended to a
per-worker in-flight list, :meth:`Keys.inflight` ``{resque:queue:<q>}:inflight:<worker id>`` (hash-tagged
into the queue's Redis Cluster slot), and the queue name added to the set :meth:`Keys.inflight_queues`.
Acknowledging removes both, so nothing of it is left after a clean finish. When a worker is found dead,
:meth:`FetchCommands.recover_inflight` pushes its in-flight payloads back to the head of their queues,
counting each in the hash :attr:`Keys.recoveries`; a payload recovered more than ``max_recoveries``
times is left in place and returned as a *poison* job, for the caller to record as a failure and then
:meth:`FetchCommands.discard_inflight`. Without reliable fetch the pop is Ruby's plain ``LPOP``.

The working-on record embeds the payload bytes as they were queued (bytes that do not even look like
a JSON object, ``{...}``, are embedded as a JSON string instead), exactly as
:func:`encode_working_on` builds it for :class:`~resque_impl.store.memory.MemoryStore`.

A payload larger than the worker's limit (``max_payload``, normally the producers' own limit) cannot be
a job this library wrote and would cost several full copies on every step; only its first
:data:`~resque_impl.codec.RAW_PAYLOAD_KEEP` bytes go on (into the in-flight list, the working-on record
and the reply), with its full size, for the worker to record it as a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, NamedTuple

import redis

from resque_impl.errors import DurabilityError
from resque_impl.store.base import Command, StoreBase, resp, resp_bulk
from resque_impl.store.fetch_scripts import (
    ADOPT,
    DISCARD,
    EVALSHA_FETCH,
    FCALL_FETCH,
    FETCH_SHA,
    LOAD_FETCH,
    LOAD_FETCH_FUNCTION,
    RECOVER,
    RELEASE,
    encode_queue_set,
)
from resque_impl.store.subscription import Subscription
from resque_impl.store.working_on import encode_working_on, json_string

# encode_working_on, json_string and Subscription are re-exported: their users import them from here.
__all__ = ["Ack", "FetchCommands", "Fetched", "Subscription", "encode_working_on", "json_string"]


class Ack(NamedTuple):
    """A finished job to acknowledge: where it came from, its exact bytes, whether it failed."""

    queue: str
    payload: bytes
    failed: bool = False


class Fetched(NamedTuple):
    """What :meth:`FetchCommands.fetch` found.

    ``state`` is ``"job"`` (``queue`` and ``payload`` set), ``"empty"`` (every queue was empty),
    ``"paused"`` (``pause-all-workers`` is true, nothing popped), ``"acked"`` (only acknowledged) or
    ``"stale"`` (the ``queues`` set is no longer the one the queue list was expanded from: nothing
    popped, and ``queue_set`` is the set as it is now, sorted, to expand again from).
    ``oversized`` is the full size of a payload over the limit, of which ``payload`` is only the head.
    """

    state: str
    queue: str | None = None
    payload: bytes | None = None
    oversized: int | None = None
    queue_set: tuple[str, ...] | None = None


def _own_connection(pool: Any) -> Any:
    """A connection with ``pool``'s settings (address, Sentinel lookup, timeouts) that the pool does not
    count: a worker thread keeps it for its life, so counting it would let the pool's ``max_connections``
    (redis-py 8's default: 100) cap the job slots of one process below 100, and then starve the pool."""
    return pool.connection_class(**pool.connection_kwargs)


class FetchCommands(StoreBase):
    def fetch(
        self,
        worker_id: str,
        queues: Sequence[str],
        run_at: str,
        *,
        reliable: bool = True,
        ack: Ack | None = None,
        reserve: bool = True,
        max_payload: int = 0,
        queue_set: Sequence[str] | None = None,
    ) -> Fetched:
        """Acknowledge ``ack`` (if given), then (if ``reserve``) pop the first job of ``queues``.

        One round trip, packed by hand (see :meth:`_fetch_frame`): redis-py's command machinery would
        cost more than the round trip itself. The popped job's working-on record says it started at
        ``run_at``. A payload over ``max_payload`` bytes (0: no limit) is cut to its head (see above).

        ``queue_set`` is the ``queues`` set that ``queues`` was expanded from (a worker with wildcards):
        if the set is no longer that, nothing is popped and the reply is ``"stale"`` with the set as it
        is now, so the list a job is popped by always matches the set at that moment.
        """
        frame = self._fetch_frame(
            worker_id,
            tuple(queues) if reserve else (),
            reliable,
            reserve,
            max_payload,
            encode_queue_set(tuple(queue_set)) if reserve and queue_set is not None else b"",
        )
        head, middle, flags, tail = frame
        keys = self.keys
        packed = b"".join(
            (
                head,
                resp_bulk(keys.inflight(ack.queue, worker_id) if ack is not None else keys.worker(worker_id)),
                middle,
                b"$1\r\n1\r\n" if ack is not None else b"$1\r\n0\r\n",
                resp_bulk(ack.queue if ack is not None else b""),
                resp_bulk(ack.payload if ack is not None else b""),
                b"$1\r\n1\r\n" if ack is not None and ack.failed else b"$1\r\n0\r\n",
                flags,
                resp_bulk(run_at),
                tail,
            )
        )
        # Durable: the reserve waits too, so a worker never runs a job popped from a primary that a
        # failover is abandoning: its WAIT fails, and the DurabilityError reaches the worker, which
        # acknowledges again and takes back what its in-flight lists on the new primary hold. Sending
        # a reserve again would pop a second job if the first reached the promoted replica unconfirmed,
        # leaving it in flight with no one running it.
        durable = self.wait_replicas > 0
        repeatable = not reserve
        try:
            reply = self._hot_exchange([packed], durable, repeatable)
        except redis.exceptions.NoScriptError:
            # This server (restarted, or a new primary after a failover) has not seen the script:
            # load it on the same connection, in the same round trip.
            reply = self._hot_exchange([LOAD_FETCH, packed], durable, repeatable)
        except redis.exceptions.ResponseError as error:
            if not (self.fetch_function and str(error).startswith("Function not found")):
                raise
            reply = self._hot_exchange([LOAD_FETCH_FUNCTION, packed], durable, repeatable)
        state = reply[0].decode()
        if state == "job":
            return Fetched("job", reply[1].decode(), bytes(reply[2]), int(reply[3]) or None)
        if state == "stale":
            return Fetched(state, queue_set=tuple(sorted(name.decode() for name in reply[1:])))
        return Fetched(state)

    def _hot_exchange(self, packed: list[bytes], durable: bool, repeatable: bool) -> Any:
        """Send packed commands on this thread's own connection and read the last one's reply
        (``durable``: followed by WAIT, checked, so the acknowledgement and the reserve survive a
        failover; ``repeatable``: see :meth:`_primary_moved`).

        A worker calls :meth:`fetch` once per job; taking a connection from the pool and giving it back
        each time would cost a good part of a round trip. Each thread (and each forked process) gets its
        own connection, made with the pool's settings (see :func:`_own_connection`).
        """
        local: threading.local | None = self.__dict__.get("_fetch_local")
        if local is None:  # not setdefault's eager default: a threading.local per call costs more than a hit
            local = self.__dict__.setdefault("_fetch_local", threading.local())
        connection = getattr(local, "connection", None)
        if connection is None or getattr(connection, "pid", None) != os.getpid():
            connection = local.connection = _own_connection(self.client.connection_pool)
        words = [*packed, self._wait_command] if durable else packed
        # connect() itself, not the implicit one of sending: a Sentinel-managed connection asks the
        # sentinels for the primary only there (sending would reconnect to its last, or default, address).
        connection.connect()
        try:
            return self._replies(self._exchange(connection, words, len(words)), durable)[-1]
        except (redis.ConnectionError, DurabilityError) as error:
            if not self._primary_moved(error, connection, repeatable=repeatable):
                raise
        connection.connect()
        return self._replies(self._exchange(connection, words, len(words)), durable)[-1]

    def _fetch_frame(
        self,
        worker_id: str,
        queues: tuple[str, ...],
        reliable: bool,
        reserve: bool,
        max_payload: int,
        queue_set: bytes,
    ) -> tuple[bytes, ...]:
        """The unchanging parts of a worker's ``EVALSHA`` of the fetch script
        (:data:`~resque_impl.store.fetch_scripts.FETCH`), packed once (the hot path then only packs the
        acknowledged job and the time)."""
        cache_key = (
            "fetch",
            "\0".join((worker_id, str(reliable), str(reserve), str(max_payload), queue_set.hex(), *queues)),
        )
        frame = self._packed.get(cache_key)
        if frame is not None:
            return frame
        keys = self.keys
        fixed_keys = [
            keys.worker(worker_id),
            keys.inflight_queues(worker_id),
            keys.stat("processed"),
            keys.worker_stat("processed", worker_id),
            keys.stat("failed"),
            keys.worker_stat("failed", worker_id),
            keys.recoveries,
            keys.pause_all,
            keys.queues,
        ]
        pair_keys = [key for queue in queues for key in (keys.queue(queue), keys.inflight(queue, worker_id))]
        numkeys = len(fixed_keys) + 1 + len(pair_keys)
        words = 3 + numkeys + 9 + len(queues)
        head = resp("EVALSHA", FETCH_SHA, str(numkeys), *fixed_keys, arity=words)
        frame = (
            head.replace(EVALSHA_FETCH, FCALL_FETCH, 1) if self.fetch_function else head,
            b"".join(map(resp_bulk, pair_keys)),
            resp_bulk("1" if reliable else "0") + resp_bulk("1" if reserve else "0"),
            resp_bulk(str(max_payload)) + resp_bulk(queue_set) + b"".join(map(resp_bulk, queues)),
        )
        if len(self._packed) > 256:  # wildcard workers see changing queue lists; keep the cache small
            self._packed.clear()
        self._packed[cache_key] = frame
        return frame

    def release(self, worker_id: str, queue: str, payload: bytes, *, reliable: bool = True) -> None:
        """Put a reserved but unstarted job back at the head of its queue and clear the working-on record."""
        keys = self.keys
        self._durable_script(
            RELEASE,
            [
                keys.worker(worker_id),
                keys.inflight_queues(worker_id),
                keys.queues,
                keys.queue(queue),
                keys.inflight(queue, worker_id),
            ],
            [queue, payload, "1" if reliable else "0", keys.notify_channel],
        )

    def _inflight_queue_names(self, worker_id: str) -> list[str]:
        return sorted(raw.decode() for raw in self.client.smembers(self.keys.inflight_queues(worker_id)))

    def inflight(self, worker_id: str) -> list[tuple[str, bytes]]:
        """``(queue, payload)`` of every job in ``worker_id``'s in-flight lists, oldest first per queue."""
        names = self._inflight_queue_names(worker_id)
        if not names:
            return []
        commands: list[Command] = [("LRANGE", self.keys.inflight(name, worker_id), 0, -1) for name in names]
        pages = self._round_trip(commands)
        return [(name, bytes(payload)) for name, page in zip(names, pages, strict=True) for payload in page]

    def adopt_inflight(self, worker_id: str, run_at: str) -> tuple[str, bytes] | None:
        """Take back ``worker_id``'s oldest in-flight job (one reserved when a connection broke before
        the reply arrived) as the job it is working on since ``run_at``, giving every other one back to
        the head of its queue; ``(queue, payload)``, or ``None`` if it holds none.

        One atomic script, durable: with ``wait_replicas`` it counts only once the replicas confirm it,
        and after a failover it runs again on the new primary, so a job read from a primary that the
        failover abandons (which the new one still has queued) is never taken back.
        """
        names = self._inflight_queue_names(worker_id)
        if not names:
            return None
        keys = self.keys
        script_keys = [keys.worker(worker_id), keys.inflight_queues(worker_id), keys.queues]
        for name in names:
            script_keys += [keys.queue(name), keys.inflight(name, worker_id)]
        reply = self._durable_script(ADOPT, script_keys, [run_at, keys.notify_channel, *names])
        return (reply[0].decode(), bytes(reply[1])) if reply else None

    def recover_inflight(self, worker_id: str, max_recoveries: int) -> tuple[int, list[tuple[str, bytes]]]:
        """Push a dead worker's in-flight jobs back to the head of their queues, counting each.

        Returns how many were pushed back, and the poison jobs (recovered more than ``max_recoveries``
        times), which stay in the in-flight list until :meth:`discard_inflight`.
        """
        names = self._inflight_queue_names(worker_id)
        if not names:
            return 0, []
        keys = self.keys
        script_keys = [keys.recoveries, keys.inflight_queues(worker_id), keys.queues]
        for name in names:
            script_keys += [keys.queue(name), keys.inflight(name, worker_id)]
        reply = self._durable_script(RECOVER, script_keys, [max_recoveries, keys.notify_channel, *names])
        poison = [(reply[i].decode(), bytes(reply[i + 1])) for i in range(1, len(reply), 2)]
        return int(reply[0]), poison

    def discard_inflight(self, worker_id: str, queue: str, payload: bytes) -> bool:
        """Drop one in-flight job (a poison job once its failure is recorded) and its recovery count."""
        keys = self.keys
        removed = self._script(DISCARD)(
            keys=[keys.inflight(queue, worker_id), keys.inflight_queues(worker_id), keys.recoveries],
            args=[queue, payload],
        )
        return bool(removed)

    def subscribe(self) -> Subscription:
        """A :class:`Subscription` to push notifications, on its own connection."""
        return Subscription(self.client, self.keys.notify_channel, self.description)
