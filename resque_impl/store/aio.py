"""The producer's Redis commands for a ``redis.asyncio`` client.

:class:`AsyncStore` sends the commands :class:`~resque_impl.store.Store` sends for pushing, scheduling
and inspecting queues: the same command builders (:func:`~resque_impl.store.queues.push_frame`,
:func:`~resque_impl.store.delayed.delayed_push_commands`), so the same keys and bytes. Each call is one
round trip on one pooled connection, like the synchronous store's: with ``wait_replicas`` N > 0 the
writes are followed on that connection by ``WAIT``, and :class:`~resque_impl.errors.DurabilityError`
is raised unless N replicas confirmed them. After a Sentinel failover (the old primary refuses the
writes as a replica, so nothing was applied) or a cluster ``MOVED`` (see :mod:`resque_impl.aio.cluster`)
the round trip is sent once more, to the new primary.
Connection and timeout errors surface as :class:`~resque_impl.errors.ResqueConnectionError`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import redis

from resque_impl.errors import ConfigurationError, DurabilityError
from resque_impl.keys import Keys
from resque_impl.store.base import (
    TRANSLATED,
    Command,
    confirm_replicas,
    refused_by_demoted_primary,
    resp,
    resp_bulk,
    translated,
    warn_sent_again,
)
from resque_impl.store.delayed import delayed_push_commands
from resque_impl.store.protocol import StoreProtocol
from resque_impl.store.queues import SCAN_PAGE, push_frame, push_many_commands

__all__ = ["AsyncStore", "AsyncStoreProtocol", "ThreadedStore"]


class AsyncStore:
    """Pushing, scheduling and reading queues for one ``redis.asyncio`` client and namespace.

    ``client`` must return bytes (``decode_responses=False``); :func:`resque_impl.aio.connect_async`
    arranges that.
    """

    def __init__(
        self,
        client: Any,
        keys: Keys,
        description: str = "",
        *,
        wait_replicas: int = 0,
        wait_timeout: float = 1.0,
    ) -> None:
        if wait_replicas < 0 or not wait_timeout > 0:
            raise ConfigurationError("wait_replicas must be >= 0 and wait_timeout > 0")
        self.client = client
        self.keys = keys
        self.description = description or "Redis"
        self.wait_replicas = wait_replicas
        self.wait_timeout = wait_timeout
        #: The packed commands around a payload pushed to each queue (see :meth:`push`).
        self._frames: dict[str, tuple[bytes, bytes]] = {}

    def __repr__(self) -> str:
        return f"<AsyncStore {self.description} namespace={self.keys.namespace!r}>"

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    async def check_replicas(self) -> int:
        """How many replicas the primary has now; :class:`ConfigurationError` if fewer than
        ``wait_replicas``, since no durable write could then succeed."""
        (info,) = await self._round_trip([("INFO", "replication")])
        text = info.decode() if isinstance(info, bytes) else str(info)
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        connected = int(fields.get("connected_slaves", 0))
        if connected < self.wait_replicas:
            raise ConfigurationError(
                f"wait_replicas={self.wait_replicas} but the primary at {self.description} has {connected} "
                f"connected replica(s); lower wait_replicas to at most {connected}"
            )
        return connected

    # -- writes ------------------------------------------------------------------------------------
    async def push(self, queue: str, payload: bytes) -> None:
        """Append ``payload`` to ``queue``, record the queue name and wake idle workers.

        The hottest producer path: its commands are packed once per queue and reused, as the
        synchronous store's are.
        """
        frame = self._frames.get(queue)
        if frame is None:
            frame = self._frames[queue] = push_frame(self.keys, queue)
        await self._send(frame[0] + resp_bulk(payload) + frame[1], 3, durable=True)

    async def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        """Append many payloads per queue, in as few round trips as the synchronous store."""
        for commands in push_many_commands(self.keys, batches):
            await self._round_trip(commands, durable=True)

    async def delayed_push(self, timestamp: int, item: bytes) -> None:
        """Schedule ``item`` at ``timestamp`` as resque-scheduler's ``delayed_push`` does."""
        await self._round_trip(delayed_push_commands(self.keys, timestamp, item), durable=True)

    async def remove_matching(self, queue: str, matches: Callable[[bytes], bool]) -> int:
        """Remove every entry for which ``matches(raw)`` is true; returns how many were removed."""
        key = self.keys.queue(queue)
        doomed: set[bytes] = set()
        start = 0
        while True:
            (page,) = await self._round_trip([("LRANGE", key, start, start + SCAN_PAGE - 1)])
            doomed.update(raw for raw in page if matches(raw))
            if len(page) < SCAN_PAGE:
                break
            start += SCAN_PAGE
        if not doomed:
            return 0
        return sum(int(n) for n in await self._round_trip([("LREM", key, 0, raw) for raw in doomed]))

    # -- reads -------------------------------------------------------------------------------------
    async def queue_size(self, queue: str) -> int:
        """How many payloads wait in ``queue``."""
        (size,) = await self._round_trip([("LLEN", self.keys.queue(queue))])
        return int(size)

    async def queue_range(self, queue: str, start: int, count: int) -> list[bytes]:
        """Up to ``count`` payloads from position ``start`` (0 = the next to run)."""
        if count <= 0:
            return []
        (page,) = await self._round_trip([("LRANGE", self.keys.queue(queue), start, start + count - 1)])
        return list(page)

    async def queue_names(self) -> list[str]:
        """Every queue name in the ``queues`` set, sorted."""
        (names,) = await self._round_trip([("SMEMBERS", self.keys.queues)])
        return sorted(name.decode() for name in names)

    # -- the round trip ----------------------------------------------------------------------------
    async def _round_trip(self, commands: Sequence[Command], *, durable: bool = False) -> list[Any]:
        """Send ``commands`` together on one connection and read every reply (``durable``: followed
        by WAIT when durable writes are on, its reply checked and removed); sent once more if the
        primary moved."""
        packed = b"".join(resp(*[_word(word) for word in command]) for command in commands)
        return await self._send(packed, len(commands), durable=durable)

    async def _send(self, packed: bytes, replies: int, *, durable: bool = False) -> list[Any]:
        """:meth:`_round_trip` for commands already in the wire format (see :func:`resp`)."""
        waiting = durable and self.wait_replicas > 0
        if waiting:
            packed += resp("WAIT", str(self.wait_replicas), str(max(1, round(self.wait_timeout * 1000))))
            replies += 1
        used: list[tuple[str, int]] = []
        try:
            try:
                return await self._exchange(packed, replies, waiting, used)
            except (redis.ConnectionError, redis.exceptions.MovedError, DurabilityError) as error:
                if not await self._primary_moved(error, used):
                    raise
            return await self._exchange(packed, replies, waiting, used)
        except TRANSLATED as error:
            replacement = translated(error, self.description)
            if replacement is error:
                raise
            raise replacement from error

    async def _exchange(self, packed: bytes, count: int, waiting: bool, used: list[tuple[str, int]]) -> list[Any]:
        """One round trip; ``used`` is told the address of the connection it went over."""
        pool = self.client.connection_pool
        connection = await pool.get_connection()
        used.append((str(getattr(connection, "host", "")), int(getattr(connection, "port", 0) or 0)))
        try:
            await connection.send_packed_command(packed)
            replies: list[Any] = []
            first_error: redis.ResponseError | None = None
            for _ in range(count):
                try:
                    replies.append(await connection.read_response())
                except redis.ResponseError as error:
                    replies.append(error)
                    first_error = first_error or error
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)
        if first_error is not None:
            raise first_error
        if waiting:
            confirm_replicas(replies.pop(), self.wait_replicas, self.wait_timeout, self.description)
        return replies

    async def _primary_moved(self, error: Exception, used: list[tuple[str, int]]) -> bool:
        """Whether ``error`` shows a failover, so that sending again reaches the new primary (see
        :meth:`resque_impl.store.base.StoreBase._primary_moved`: every write here is an enqueue, which may
        then be queued twice, and that is logged)."""
        pool = self.client.connection_pool
        moved = getattr(pool, "moved", None)
        if isinstance(error, redis.exceptions.MovedError) and moved is not None:
            await moved(error.host, error.port)
            return True
        if refused_by_demoted_primary(error) or isinstance(error, redis.exceptions.MovedError):
            await pool.disconnect(inuse_connections=False)
            return True
        if isinstance(error, redis.ConnectionError) and getattr(pool, "follows_slot", False):
            await pool.disconnect()  # a cluster primary is gone: ask the cluster again next time
            return False
        ask = getattr(pool, "get_master_address", None)
        if not isinstance(error, DurabilityError) or ask is None:
            return False
        try:
            host, port = await ask()
        except redis.RedisError:
            return False
        if not used or used[-1] == (str(host), int(port)):
            return False
        warn_sent_again(self.description, host, port)
        return True


class AsyncStoreProtocol(Protocol):
    """What the asyncio client needs of a store: :class:`AsyncStore`, or :class:`ThreadedStore` over a
    test mode's synchronous one."""

    keys: Keys
    description: str

    async def push(self, queue: str, payload: bytes) -> None: ...
    async def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None: ...
    async def delayed_push(self, timestamp: int, item: bytes) -> None: ...
    async def remove_matching(self, queue: str, matches: Callable[[bytes], bool]) -> int: ...
    async def queue_size(self, queue: str) -> int: ...
    async def queue_range(self, queue: str, start: int, count: int) -> list[bytes]: ...
    async def queue_names(self) -> list[str]: ...


class ThreadedStore:
    """A synchronous store behind the asyncio interface, each call run in a thread so the event loop
    stays free: how the asyncio client uses a test mode's store, whose ``push`` may perform the job
    (inline mode)."""

    def __init__(self, store: StoreProtocol) -> None:
        self.store = store
        self.keys = store.keys
        self.description = store.description

    @property
    def delayed_now(self) -> bool:
        """Whether the store runs delayed jobs at once (an inline test mode standing for Ruby's
        ``Resque.inline``)."""
        return bool(getattr(self.store, "delayed_now", False))

    async def push(self, queue: str, payload: bytes) -> None:
        await asyncio.to_thread(self.store.push, queue, payload)

    async def push_many(self, batches: Mapping[str, Sequence[bytes]]) -> None:
        await asyncio.to_thread(self.store.push_many, batches)

    async def delayed_push(self, timestamp: int, item: bytes) -> None:
        await asyncio.to_thread(self.store.delayed_push, timestamp, item)

    async def remove_matching(self, queue: str, matches: Callable[[bytes], bool]) -> int:
        return await asyncio.to_thread(self.store.remove_matching, queue, matches)

    async def queue_size(self, queue: str) -> int:
        return await asyncio.to_thread(self.store.queue_size, queue)

    async def queue_range(self, queue: str, start: int, count: int) -> list[bytes]:
        return await asyncio.to_thread(self.store.queue_range, queue, start, count)

    async def queue_names(self) -> list[str]:
        return await asyncio.to_thread(self.store.queue_names)


def _word(word: str | bytes | int | float) -> str | bytes:
    """One word of a command as :func:`resp` takes it (numbers as redis-py writes them)."""
    return word if isinstance(word, (str, bytes)) else repr(word)
