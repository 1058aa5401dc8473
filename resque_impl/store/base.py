"""The connection-level plumbing every group of Store commands shares."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import redis
from redis.commands.core import Script

from resque_impl.errors import ResqueConnectionError
from resque_impl.keys import Keys

__all__ = ["Command", "StoreBase", "translate_connection_errors"]

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
            connection.send_packed_command(connection.pack_commands(commands))
            replies: list[Any] = []
            first_error: redis.ResponseError | None = None
            for _ in commands:
                try:
                    replies.append(connection.read_response())
                except redis.ResponseError as error:
                    replies.append(error)
                    first_error = first_error or error
        except BaseException:
            connection.disconnect()
            raise
        finally:
            pool.release(connection)
        if first_error is not None:
            raise first_error
        return replies


def _translating(method: Callable[..., Any], describe: Callable[[Any], str]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise ResqueConnectionError(f"cannot reach {describe(self)}: {error}") from error
        except redis.exceptions.InvalidResponse as error:
            raise ResqueConnectionError(
                f"{describe(self)} does not answer like a Redis server: {error}"
            ) from error

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
