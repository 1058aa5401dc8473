"""The connection-level plumbing every group of Store commands shares."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.commands.core import Script

from resque_impl.errors import ResqueConnectionError
from resque_impl.keys import Keys

__all__ = ["Command", "StoreBase", "resp", "resp_bulk", "translate_connection_errors"]

#: One Redis command as its words, e.g. ``("RPUSH", "resque:queue:email", b"{...}")``.
Command = Sequence[str | bytes | int | float]
C = TypeVar("C", bound=type)


class StoreBase:
    """Holds the client, the key names and the Lua scripts; sends commands in one round trip."""

    def __init__(self, client: redis.Redis, keys: Keys, description: str = "") -> None:
        # Typed as Any: redis-py annotates replies as unions of str, bytes and awaitables, while the
        # library always talks to clients that return bytes (see connection._bytes_client).
        self.client: Any = client
        self.keys = keys
        self.description = description or "Redis"
        self._scripts: dict[str, Script] = {}
        #: Hot-path commands packed once (see :func:`resp`), keyed by what they are for.
        self._packed: dict[tuple[str, str], tuple[bytes, ...]] = {}

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
        pool = self.client.connection_pool
        connection: Any = pool.get_connection()
        try:
            return self._exchange(connection, connection.pack_commands(commands), len(commands))
        finally:
            pool.release(connection)

    def _send_packed(self, packed: bytes, replies: int) -> list[Any]:
        """Like :meth:`_round_trip` for commands already in the wire format (see :func:`resp`)."""
        pool = self.client.connection_pool
        connection: Any = pool.get_connection()
        try:
            return self._exchange(connection, [packed], replies)
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


def _translating(method: Callable[..., Any], describe: Callable[[Any], str]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise ResqueConnectionError(f"cannot reach {describe(self)}: {error}") from error
        except redis.exceptions.InvalidResponse as error:
            raise ResqueConnectionError(f"{describe(self)} does not answer like a Redis server: {error}") from error

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
