"""Turning ``redis=`` into a ``redis.asyncio`` client, reading connection strings exactly as
:func:`resque_impl.connection.connect` does (:func:`~resque_impl.connection.read_address`).

Accepted: a ``redis.asyncio`` client (used as is, or a bytes-returning twin of one that decodes), a
``redis://``, ``rediss://`` or ``unix://`` URL, a ``redis+sentinel://`` URL, Ruby Resque's
``host:port[:db][/namespace]``, or nothing (``$REDIS_URL``, else ``redis://localhost:6379/0``), with the
same ``namespace=``, ``wait_replicas=`` and ``wait_timeout=`` parameters, and a ``redis+cluster://``
URL with a hash-tagged namespace (see :mod:`resque_impl.aio.cluster`). Nothing connects here, since a
constructor cannot await: a Sentinel URL's service and a cluster's slot map are looked up at the first
command (an unknown service or an unreachable cluster then raises
:class:`~resque_impl.errors.ResqueConnectionError`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio
import redis.asyncio.sentinel

from resque_impl.aio.cluster import SlotClient, cluster_client
from resque_impl.connection import (
    DEFAULT_REDIS_URL,
    DEFAULT_SOCKET_TIMEOUT,
    DEFAULT_WAIT_TIMEOUT,
    cluster_nodes,
    describe_client,
    read_address,
    redact,
    sentinel_spec,
)
from resque_impl.errors import ConfigurationError

__all__ = ["AsyncConnection", "connect_async"]


@dataclass(frozen=True)
class AsyncConnection:
    """A ``redis.asyncio`` client returning bytes, the namespace the connection string named (if
    any), a printable description with any password hidden, and the durable-write settings."""

    client: Any
    namespace: str | None
    description: str
    wait_replicas: int = 0
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    #: The ``redis.asyncio`` cluster client of a cluster URL.
    cluster: Any = None
    timeouts: dict[str, Any] = field(default_factory=dict)

    def client_for(self, namespace: str) -> Any:
        """The client for a deployment in ``namespace``: :attr:`client`, or on a cluster one following
        the namespace's slot (:class:`ConfigurationError` if the namespace has no hash tag)."""
        return self.client if self.cluster is None else SlotClient(self.cluster, namespace, self.timeouts)


def _bytes_client(client: Any) -> Any:
    """The library compares payloads as bytes, so a client that decodes replies gets a twin that
    does not, sharing its settings."""
    pool = client.connection_pool
    if not pool.connection_kwargs.get("decode_responses"):
        return client
    kwargs = {**pool.connection_kwargs, "decode_responses": False}
    return type(client)(connection_pool=type(pool)(connection_class=pool.connection_class, **kwargs))


def connect_async(target: Any = None, *, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT) -> AsyncConnection:
    """Resolve ``target`` (a ``redis.asyncio`` client, a connection string, or ``None``) into an
    :class:`AsyncConnection`; :class:`ConfigurationError` for anything else."""
    if target is None:
        target = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not isinstance(target, str):
        if not hasattr(target, "connection_pool") or not hasattr(target, "execute_command"):
            raise ConfigurationError(
                f"redis= takes a redis.asyncio client or a connection string, not {type(target).__name__}"
            )
        if not isinstance(target.connection_pool, redis.asyncio.ConnectionPool):
            raise ConfigurationError(
                f"redis= got a synchronous {type(target).__name__}; AsyncResque needs a redis.asyncio client "
                "(or use resque_impl.Resque)"
            )
        return AsyncConnection(_bytes_client(target), None, describe_client(target))
    address = read_address(target)
    timeouts: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout}
    client: Any
    if address.scheme == "redis+cluster":
        hosts, password = cluster_nodes(address.url)
        cluster = cluster_client(hosts, password, timeouts)
        return AsyncConnection(
            cluster,
            address.namespace,
            redact(address.url),
            address.wait_replicas,
            address.wait_timeout,
            cluster=cluster,
            timeouts=timeouts,
        )
    if address.scheme == "redis+sentinel":
        spec = sentinel_spec(address.url)
        sentinel = redis.asyncio.sentinel.Sentinel(spec.hosts, sentinel_kwargs=timeouts, **timeouts)
        client = sentinel.master_for(spec.service, db=spec.db, password=spec.password, **spec.options, **timeouts)
        description = spec.description
    elif address.scheme:
        try:
            client = redis.asyncio.Redis.from_url(address.url, **timeouts)
        except ValueError as error:
            raise ConfigurationError(f"malformed Redis URL {redact(address.url)!r}: {error}") from None
        description = redact(address.url)
    else:
        client = redis.asyncio.Redis(host=address.host, port=address.port, db=address.db, **timeouts)
        description = address.url
    return AsyncConnection(client, address.namespace, description, address.wait_replicas, address.wait_timeout)
