"""Redis Cluster for the asyncio client: a hash-tagged namespace's one slot, on whichever primary serves it.

As for the synchronous client (:mod:`resque_impl.cluster`), every command of a deployment names keys
of one hash tag, so they all go to the primary serving that tag's slot. :class:`SlotClient` asks a
``redis.asyncio`` cluster client where that is, keeps a client of that primary, goes where a ``MOVED``
points (a failover or a resharding moved the slot: nothing was applied, and the store sends the round
trip once more; the node that answers ``MOVED`` knows the new owner before every other node's slot map
does), and asks the cluster again after a lost connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.cluster import ClusterNode, RedisCluster

from resque_impl.cluster import hash_tag
from resque_impl.errors import ConfigurationError

__all__ = ["SlotClient", "cluster_client"]


def cluster_client(hosts: list[tuple[str, int]], password: str | None, timeouts: dict[str, Any]) -> RedisCluster:
    """A ``redis.asyncio`` cluster client of these startup nodes; it connects at first use."""
    return RedisCluster(startup_nodes=[ClusterNode(host, port) for host, port in hosts], password=password, **timeouts)


class SlotClient:
    """Looks like a ``redis.asyncio.Redis`` to :class:`~resque_impl.store.aio.AsyncStore` (a
    ``connection_pool`` and ``aclose``), with connections to the primary serving ``namespace``'s slot.

    Raises :class:`ConfigurationError` at once for a namespace without a hash tag.
    """

    #: Tells the store to call :meth:`disconnect` when a connection is lost.
    follows_slot = True

    def __init__(self, cluster: RedisCluster, namespace: str, timeouts: dict[str, Any]) -> None:
        self._cluster = cluster
        self._tag = "{" + hash_tag(namespace) + "}"
        self._timeouts = timeouts
        self._primary: redis.asyncio.Redis | None = None
        self._stale = False
        self._lock = asyncio.Lock()

    @property
    def connection_pool(self) -> SlotClient:
        return self

    async def _client(self) -> redis.asyncio.Redis:
        async with self._lock:
            if self._primary is None:
                try:
                    if self._stale:  # the slot map is known but wrong: ask the nodes again
                        await self._cluster.nodes_manager.initialize()
                    await self._cluster.initialize()
                except (redis.RedisError, redis.exceptions.RedisClusterException) as error:
                    raise redis.ConnectionError(f"no cluster node answers: {error}") from error
                node = self._cluster.get_node_from_key(self._tag)
                if node is None:
                    raise ConfigurationError(f"no primary of the cluster serves the slot of {self._tag}")
                password = self._cluster.get_connection_kwargs().get("password")
                self._primary = redis.asyncio.Redis(
                    host=node.host, port=int(node.port), password=password, **self._timeouts
                )
            return self._primary

    async def get_connection(self) -> Any:
        client = await self._client()
        return await client.connection_pool.get_connection()  # type: ignore[no-untyped-call]

    async def release(self, connection: Any) -> None:
        if self._primary is not None:
            await self._primary.connection_pool.release(connection)

    async def disconnect(self, inuse_connections: bool = True) -> None:
        """Forget the primary (its slot moved or it is gone): the next connection asks the cluster."""
        async with self._lock:
            primary, self._primary = self._primary, None
            self._stale = True
        if primary is not None:
            await primary.aclose()

    async def moved(self, host: str, port: int) -> None:
        """The slot is served at ``host:port`` now (what a ``MOVED`` reply says): connect there next."""
        password = self._cluster.get_connection_kwargs().get("password")
        async with self._lock:
            primary = self._primary
            self._primary = redis.asyncio.Redis(host=host, port=port, password=password, **self._timeouts)
            self._stale = True
        if primary is not None:
            await primary.aclose()

    async def aclose(self) -> None:
        await self.disconnect()
        await self._cluster.aclose()
