"""The connection-level plumbing every group of Store commands shares."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.commands.core import Script

from resque_impl.errors import ConfigurationError, DurabilityError, ResqueConnectionError
from resque_impl.keys import Keys

__all__ = [
    "TRANSLATED",
    "UNAVAILABLE",
    "Command",
    "StoreBase",
    "confirm_replicas",
    "refused_by_demoted_primary",
    "resp",
    "resp_bulk",
    "translate_connection_errors",
    "translated",
    "unblocked_by_demotion",
    "warn_sent_again",
]

logger = logging.getLogger("resque_impl.store")

#: Replies of a server that cannot serve the deployment for a moment and applied nothing: a cluster
#: whose slot has no primary yet after a SIGKILL (``CLUSTERDOWN``, ``MASTERDOWN``) or is being moved
#: (``TRYAGAIN``). The library treats them as an unreachable Redis: waited out and sent again.
UNAVAILABLE = (redis.exceptions.ClusterDownError, redis.exceptions.TryAgainError)

#: One Redis command as its words, e.g. ``("RPUSH", "resque:queue:email", b"{...}")``.
Command = Sequence[str | bytes | int | float]
C = TypeVar("C", bound=type)


class StoreBase:
    """Holds the client, the key names and the Lua scripts; sends commands in one round trip.

    With ``wait_replicas`` N > 0, the writes that must survive a failover (enqueues, acknowledgements,
    the scheduler's moves) are followed on the same connection, in the same round trip, by
    ``WAIT N wait_timeout``, and raise :class:`DurabilityError` unless N replicas confirmed them.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        description: str = "",
        *,
        wait_replicas: int = 0,
        wait_timeout: float = 1.0,
        notify: bool = True,
        fetch_function: bool = False,
    ) -> None:
        # Typed as Any: redis-py annotates replies as unions of str, bytes and awaitables, while the
        # library always talks to clients that return bytes (see connection._bytes_client).
        self.client: Any = client
        self.keys = keys
        self.description = description or "Redis"
        if wait_replicas < 0 or not wait_timeout > 0:
            raise ConfigurationError("wait_replicas must be >= 0 and wait_timeout > 0")
        self.wait_replicas = wait_replicas
        self.wait_timeout = wait_timeout
        #: Whether a push publishes its queue on the notify channel to wake idle instant workers. Only a
        #: store no such worker can ever subscribe to may turn it off (the simulator's fakeredis, whose
        #: engine wakes its simulated workers itself): a real deployment's idle workers rely on it.
        self.notify = notify
        #: Whether a worker's fetch (its hottest call) is sent as ``FCALL`` of a function loaded once
        #: (``FUNCTION LOAD``, again when the server lacks it) rather than ``EVALSHA``: cheaper where a
        #: server compiles a script on every call (fakeredis). Needs ``FUNCTION``/``FCALL`` (Redis 7 or
        #: fakeredis) and permission to load functions; there is no fallback, so it is off by default.
        self.fetch_function = fetch_function
        # WAIT's timeout is in whole milliseconds, and 0 would mean "forever".
        self._wait_command = resp("WAIT", str(wait_replicas), str(self._wait_ms))
        self._scripts: dict[str, Script] = {}
        #: Hot-path commands packed once (see :func:`resp`), keyed by what they are for.
        self._packed: dict[tuple[str, str], tuple[bytes, ...]] = {}

    def check_replicas(self) -> int:
        """How many replicas the primary has now; raises :class:`ConfigurationError` if fewer than
        ``wait_replicas``, since no durable write could then succeed."""
        connected = int(self.client.info("replication").get("connected_slaves", 0))
        if connected < self.wait_replicas:
            raise ConfigurationError(
                f"wait_replicas={self.wait_replicas} but the primary at {self.description} has {connected} "
                f"connected replica(s); lower wait_replicas to at most {connected}"
            )
        return connected

    def _confirm(self, acknowledged: Any) -> None:
        """Raise :class:`DurabilityError` unless WAIT's reply counts enough replicas."""
        confirm_replicas(acknowledged, self.wait_replicas, self.wait_timeout, self.description)

    def _durable_round_trip(self, commands: Sequence[Command]) -> list[Any]:
        """:meth:`_round_trip`, followed by WAIT when durable writes are on."""
        if not self.wait_replicas:
            return self._round_trip(commands)
        words = [*commands, ("WAIT", self.wait_replicas, self._wait_ms)]
        return self._on_primary(lambda c: self._exchange(c, c.pack_commands(words), len(words)), durable=True)

    def _send_durable(self, packed: bytes, replies: int) -> list[Any]:
        """:meth:`_send_packed`, followed by WAIT when durable writes are on."""
        if not self.wait_replicas:
            return self._send_packed(packed, replies)
        words = [packed, self._wait_command]
        return self._on_primary(lambda c: self._exchange(c, words, replies + 1), durable=True)

    def _replies(self, replies: list[Any], durable: bool) -> list[Any]:
        """``replies`` without WAIT's last one, once it is checked (``durable``)."""
        if not durable:
            return replies
        self._confirm(replies[-1])
        return replies[:-1]

    def _primary_moved(self, error: Exception, connection: Any, *, repeatable: bool = True) -> bool:
        """Whether ``error`` on ``connection`` shows a Sentinel failover after which the exchange is sent
        again, to the new primary (the pool's connections to the old one are then dropped).

        Either the old primary refused the commands as a replica (nothing applied: always sent again),
        or a durable write was not confirmed and the sentinels now name another primary. That write sits
        on the abandoned primary, which drops it when it rejoins as a replica, but it may also have
        reached the promoted replica unconfirmed: sent again, it may be applied twice. ``repeatable``
        says whether that is acceptable (an enqueue, then perhaps queued twice: at least once, and
        logged). A write that must not be applied twice (a worker's reserve) is not sent again: the
        error is raised and its caller recovers (a worker takes back what its in-flight lists hold).
        """
        pool = self.client.connection_pool
        if refused_by_demoted_primary(error):
            pool.disconnect(inuse_connections=False)
            return True
        ask = getattr(pool, "get_master_address", None)
        if not isinstance(error, DurabilityError) or ask is None:
            return False
        try:
            host, port = ask()  # drops the pool's idle connections if the address changed
        except redis.RedisError:
            return False
        if (connection.host, int(connection.port)) == (host, int(port)):
            return False
        connection.disconnect()
        if repeatable:
            warn_sent_again(self.description, host, port)
        return repeatable

    def _durable_script(self, source: str, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """Run a Lua script that writes; with durable writes on, in one round trip with its WAIT."""
        script = self._script(source)
        if not self.wait_replicas:
            return script(keys=keys, args=args)
        command = ("EVALSHA", script.sha, len(keys), *keys, *args)
        try:
            return self._durable_round_trip([command])[0]
        except redis.exceptions.NoScriptError:
            # Loaded on the same connection as it runs: after a failover the new primary lacks it.
            return self._durable_round_trip([("SCRIPT", "LOAD", source), command])[1]

    @property
    def _wait_ms(self) -> int:
        return max(1, round(self.wait_timeout * 1000))

    def _script(self, source: str) -> Script:
        """A registered Lua script; redis-py reloads it if the server forgot it (NOSCRIPT)."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self.client.register_script(source)
        return script

    def _round_trip(self, commands: Sequence[Command]) -> list[Any]:
        """Send ``commands`` together and read every reply: one network round trip.

        Lighter than a redis-py ``Pipeline`` on the hot path. Every reply is read even when one is an
        error, so the connection stays in step; the first error is then raised.
        """
        return self._on_primary(
            lambda connection: self._exchange(connection, connection.pack_commands(commands), len(commands))
        )

    def _send_packed(self, packed: bytes, replies: int) -> list[Any]:
        """Like :meth:`_round_trip` for commands already in the wire format (see :func:`resp`)."""
        return self._on_primary(lambda connection: self._exchange(connection, [packed], replies))

    def _on_primary(self, exchange: Callable[[Any], list[Any]], *, durable: bool = False) -> list[Any]:
        """``exchange(connection)`` on a pooled connection (``durable``: its last reply is WAIT's,
        checked and removed), sent once more if the primary moved (see :meth:`_primary_moved`)."""
        pool = self.client.connection_pool
        connection: Any = pool.get_connection()
        try:
            return self._replies(exchange(connection), durable)
        except (redis.ConnectionError, DurabilityError) as error:
            if not self._primary_moved(error, connection):
                raise
        finally:
            pool.release(connection)
        connection = pool.get_connection()
        try:
            return self._replies(exchange(connection), durable)
        finally:
            pool.release(connection)

    @staticmethod
    def _exchange(connection: Any, packed: list[bytes], replies: int) -> list[Any]:
        try:
            connection.send_packed_command(packed)
            results: list[Any] = []
            first_error: redis.ResponseError | None = None
            for _ in range(replies):
                try:
                    results.append(connection.read_response())
                except redis.ResponseError as error:
                    results.append(error)
                    first_error = first_error or error
        except BaseException:
            connection.disconnect()
            raise
        if first_error is not None:
            raise first_error
        return results


def confirm_replicas(acknowledged: Any, wanted: int, timeout: float, description: str) -> None:
    """Raise :class:`DurabilityError` unless WAIT's reply ``acknowledged`` counts ``wanted`` replicas."""
    if int(acknowledged) < wanted:
        raise DurabilityError(
            f"only {int(acknowledged)} of {wanted} replicas of {description} confirmed a "
            f"write within {timeout:g} s; it is on the primary, but a failover now could lose it"
        )


def warn_sent_again(description: str, host: str, port: int) -> None:
    """Log that a write the replicas did not confirm goes again to the new primary ``host:port``: it
    may have reached it before the failover, and then be applied twice (an enqueue queued twice)."""
    logger.warning(
        "%s: a write the replicas did not confirm goes again to the new primary %s:%s "
        "(it may have reached it before the failover, and then be applied twice)",
        description,
        host,
        port,
    )


def unblocked_by_demotion(error: BaseException) -> bool:
    """Whether ``error`` is what a primary that became a replica (a ``CLUSTER FAILOVER`` or a Sentinel
    demotion) answers a client blocked in its ``WAIT``: the write before it was applied there, but
    whether the new primary has it is unknown, as for a :class:`DurabilityError`."""
    return isinstance(error, redis.ResponseError) and str(error).startswith("UNBLOCKED")


def refused_by_demoted_primary(error: BaseException) -> bool:
    """Whether the connection found that its server no longer serves the deployment: a Sentinel
    primary now a replica (READONLY) or a cluster slot moved (MOVED). The server refused the commands,
    so nothing was applied and sending them to the new primary is safe."""
    return isinstance(error, redis.ConnectionError) and isinstance(
        error.__context__, (redis.exceptions.ReadOnlyError, redis.exceptions.MovedError)
    )


def resp_bulk(word: str | bytes) -> bytes:
    """One word of a command in Redis's wire format (RESP)."""
    data = word.encode() if isinstance(word, str) else word
    return b"$%d\r\n%b\r\n" % (len(data), data)


def resp(*words: str | bytes, arity: int | None = None) -> bytes:
    """A command in Redis's wire format, for hot-path commands packed once and reused.

    With ``arity`` larger than ``len(words)``, the command is left open for its last words, to be
    completed with :func:`resp_bulk`.
    """
    return b"*%d\r\n" % (arity or len(words)) + b"".join(map(resp_bulk, words))


#: The redis-py errors :func:`translated` looks at.
TRANSLATED = (redis.ConnectionError, redis.TimeoutError, redis.ResponseError, redis.exceptions.InvalidResponse)


def translated(error: Exception, description: str) -> Exception:
    """What a store (sync or asyncio) raises for ``error``, met talking to ``description``: an
    unreachable or unavailable server, or one that does not speak Redis, is a
    :class:`ResqueConnectionError`; a ``WAIT`` ended by a demotion a :class:`DurabilityError`; any other
    error is ``error`` itself."""
    if isinstance(error, (redis.ConnectionError, redis.TimeoutError, *UNAVAILABLE)):
        return ResqueConnectionError(f"cannot reach {description}: {error}")
    if unblocked_by_demotion(error):
        return DurabilityError(f"{description} became a replica before confirming: {error}")
    if isinstance(error, redis.exceptions.InvalidResponse):
        return ResqueConnectionError(f"{description} does not answer like a Redis server: {error}")
    return error


def _translating(method: Callable[..., Any], describe: Callable[[Any], str]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except TRANSLATED as error:
            replacement = translated(error, describe(self))
            if replacement is error:
                raise
            raise replacement from error

    return call


def translate_connection_errors(cls: C) -> C:
    """Make every public method of ``cls`` raise :class:`ResqueConnectionError` instead of redis-py's
    connection, timeout and protocol errors, naming the server."""
    for name in dir(cls):
        if name.startswith("_"):
            continue
        attribute = getattr(cls, name)
        if callable(attribute) and not isinstance(attribute, type):
            setattr(cls, name, _translating(attribute, lambda store: store.description))
    return cls
