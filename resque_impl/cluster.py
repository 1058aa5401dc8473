"""Redis Cluster: a deployment lives in the one hash slot of its namespace's hash tag.

Every Lua script and multi-key command of the library takes several keys of one namespace, so on a
cluster the namespace must carry a hash tag (``{resque}``: keys read ``{resque}:queue:email``), which
puts all of them in one slot. The library then talks to that slot's primary through an ordinary
client whose connections find the primary from the cluster's slot map, and again after a failover or
a resharding moved the slot (``MOVED``). Load spreads over a cluster's shards by running several
namespaces, each with its own tag (``{resque-a}``, ``{resque-b}``), whose slots sit on different
primaries. Used through :func:`resque_impl.connection.connect`.
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import MovedError, RedisClusterException
from redis.retry import Retry

from resque_impl.errors import ConfigurationError
from resque_impl.keys import Keys

__all__ = ["cluster_client", "hash_tag", "slot_client"]


def cluster_client(hosts: list[tuple[str, int]], password: str | None, timeouts: dict[str, Any], url: str) -> Any:
    """A cluster client, after checking that a node answers and every slot is served."""
    try:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in hosts],  # type: ignore[no-untyped-call]
            password=password,
            **timeouts,
        )
    except (RedisClusterException, redis.RedisError) as error:
        raise ConfigurationError(f"cannot use the Redis Cluster at {url!r}: {error}") from None


def hash_tag(namespace: str) -> str:
    """The hash tag of ``namespace``; :class:`ConfigurationError` if it has none, since its keys would
    then cross slots."""
    tag = Keys(namespace).hash_tag
    if tag is None:
        raise ConfigurationError(
            f"namespace {namespace!r} would spread its keys over the cluster's slots, and the library's "
            f"scripts need them in one; use a hash-tagged namespace such as '{{{namespace}}}' "
            f"(keys then read {{{namespace}}}:queue:<name>; Ruby Resque with that namespace shares them)"
        )
    return tag


def slot_client(cluster: Any, namespace: str, timeouts: dict[str, Any]) -> redis.Redis:
    """A client of the primary serving ``namespace``'s slot, following the slot when it moves.

    Raises :class:`ConfigurationError` for a namespace without a hash tag, whose keys would cross slots.
    """
    tag = hash_tag(namespace)
    kwargs = cluster.get_connection_kwargs() if hasattr(cluster, "get_connection_kwargs") else {}
    password = kwargs.get("password")
    # One route per client, shared by its connections: where the last MOVED said the slot went.
    route: dict[str, tuple[str, int] | None] = {"address": None}
    # redis-py's own commands (reads, mostly) send again after a MOVED, which applied nothing.
    retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), 3)
    pool = redis.ConnectionPool(
        connection_class=_SlotConnection,
        cluster=cluster,
        tag=tag,
        route=route,
        password=password,
        retry=retry,
        **timeouts,
    )
    return redis.Redis(connection_pool=pool)


class _SlotConnection(redis.Connection):
    """A connection to whichever primary serves one hash tag's slot."""

    def __init__(self, *, cluster: Any, tag: str, route: dict[str, tuple[str, int] | None], **kwargs: Any) -> None:
        self._cluster = cluster
        self._tag = "{" + tag + "}"
        self._route = route
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
        # Every (re)connection, including redis-py's implicit ones, goes where the last MOVED pointed,
        # else where the slot map says.
        if not self._sock:
            address = self._route["address"]
            if address is None:
                node = self._cluster.get_node_from_key(self._tag)
                address = (node.host, int(node.port))
            self.host, self.port = address
        try:
            super().connect_check_health(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):
            # The node is gone (killed, or being replaced): ask the cluster again next time.
            self._route["address"] = None
            with contextlib.suppress(RedisClusterException, redis.RedisError):
                self._cluster.nodes_manager.initialize()
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)
        except MovedError as moved:
            # The slot moved (a failover or a resharding): nothing was applied. Follow the redirect and
            # fail as a lost connection, which the store sends again (see refused_by_demoted_primary).
            self._route["address"] = (moved.host, int(moved.port))
            self.disconnect()  # type: ignore[no-untyped-call]
            raise redis.ConnectionError(f"the slot of {self._tag} moved to {moved.host}:{moved.port}") from None
