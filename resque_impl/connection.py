"""Turning what a caller passes as ``redis=`` into a redis-py client, the way Ruby Resque reads it.

Accepted forms:

* a redis-py client (``redis.Redis``, ``fakeredis.FakeRedis``, ...), used as is;
* a URL: ``redis://[:password@]host:port/db``, ``rediss://...`` (TLS) or ``unix:///path/redis.sock?db=0``;
* Ruby Resque's short form ``host:port[:db][/namespace]``, e.g. ``localhost:6379:2/myapp``;
* nothing: ``$REDIS_URL`` if set, else ``redis://localhost:6379/0``.

No connection is opened here; redis-py connects on the first command. Clients created here time out
after ``socket_timeout`` seconds, so an unreachable server is an error, not a hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis

from resque_impl.errors import ConfigurationError

__all__ = ["DEFAULT_REDIS_URL", "DEFAULT_SOCKET_TIMEOUT", "Connection", "connect", "describe_client"]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_SOCKET_TIMEOUT = 5.0

_URL_SCHEMES = ("redis", "rediss", "unix")
_SHORT_FORM = re.compile(r"^(?P<host>[^:/\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)(?::(?P<db>\d+))?(?:/(?P<ns>.*))?$")
_FORMS_HELP = (
    "use redis://host:port/db, rediss://host:port/db, unix:///path/to/redis.sock, "
    "or Ruby Resque's host:port[:db][/namespace]"
)


@dataclass(frozen=True)
class Connection:
    """A client ready for the library, the namespace the connection string named (if any), and a
    printable description of the server with any password hidden."""

    client: redis.Redis
    namespace: str | None
    description: str


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe_client(client: Any) -> str:
    """``redis://host:port/db`` (or similar) for a client, for messages and ``info()["servers"]``."""
    kwargs = getattr(getattr(client, "connection_pool", None), "connection_kwargs", {})
    if "path" in kwargs:
        return f"unix://{kwargs['path']}?db={kwargs.get('db', 0)}"
    if "server" in kwargs:  # fakeredis
        return f"fakeredis://{kwargs.get('host', 'localhost')}/{kwargs.get('db', 0)}"
    host = kwargs.get("host", "localhost")
    return f"redis://{host}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def _bytes_client(client: Any) -> Any:
    """The library compares payloads as bytes, so a client that decodes replies gets a twin that
    does not, sharing its settings."""
    pool = client.connection_pool
    if not pool.connection_kwargs.get("decode_responses"):
        return client
    kwargs = {**pool.connection_kwargs, "decode_responses": False}
    twin_pool = type(pool)(connection_class=pool.connection_class, **kwargs)
    return type(client)(connection_pool=twin_pool)


def _from_url(url: str, socket_timeout: float) -> redis.Redis:
    try:
        return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
    except ValueError as exc:
        raise ConfigurationError(f"malformed Redis URL {_redact(url)!r}: {exc}; {_FORMS_HELP}") from None


def connect(target: Any = None, *, socket_timeout: float = DEFAULT_SOCKET_TIMEOUT) -> Connection:
    """Resolve ``target`` (a client, a connection string, or ``None``) into a :class:`Connection`.

    Raises :class:`ConfigurationError` for a string that is none of the accepted forms.
    """
    if target is None:
        target = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not isinstance(target, str):
        if not hasattr(target, "execute_command") or not hasattr(target, "connection_pool"):
            raise ConfigurationError(
                f"redis= takes a redis-py client or a connection string, not {type(target).__name__}; " + _FORMS_HELP
            )
        return Connection(_bytes_client(target), None, describe_client(target))
    text = target.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in _URL_SCHEMES:
        return Connection(_from_url(text, socket_timeout), None, _redact(text))
    if scheme:
        raise ConfigurationError(f"unsupported Redis URL scheme {scheme!r} in {_redact(text)!r}; {_FORMS_HELP}")
    match = _SHORT_FORM.match(text)
    if match is None:
        raise ConfigurationError(f"malformed Redis address {text!r}; {_FORMS_HELP}")
    host = match["host"].strip("[]")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ConfigurationError(f"port {port} in {text!r} is out of range 1-65535")
    db = int(match["db"] or 0)
    client = redis.Redis(
        host=host, port=port, db=db, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
    )
    namespace = match["ns"] or None
    return Connection(client, namespace, f"redis://{match['host']}:{port}/{db}")
