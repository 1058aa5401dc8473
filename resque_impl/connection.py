"""Turning what a caller passes as ``redis=`` into a redis-py client, the way Ruby Resque reads it.

Accepted forms:

* a redis-py client (``redis.Redis``, ``fakeredis.FakeRedis``, ...), used as is;
* a URL: ``redis://[:password@]host:port/db``, ``rediss://...`` (TLS) or ``unix:///path/redis.sock?db=0``;
* a Sentinel URL: ``redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]``: the
  client asks the sentinels for the service's primary, and again after each failover (the password is
  the data nodes'; sentinels are asked without one);
* a Redis Cluster URL: ``redis+cluster://[:password@]host:port[,host:port...][/0]``, used with a
  hash-tagged namespace (see :mod:`resque_impl.cluster`);
* Ruby Resque's short form ``host:port[:db][/namespace]``, e.g. ``localhost:6379:2/myapp``;
* nothing: ``$REDIS_URL`` if set, else ``redis://localhost:6379/0``.

Any URL also takes query parameters of this library, removed before redis-py reads the URL:
``namespace=`` (the key prefix, e.g. ``%7Bresque%7D`` for ``{resque}``), ``wait_replicas=N`` and
``wait_timeout=S`` (durable writes: see :class:`resque_impl.store.Store`).

No connection is opened here for a single server; redis-py connects on the first command. A Sentinel
URL is checked at once (a sentinel must answer and know the service), and so is a cluster URL (a node
must answer and every slot be served), so a mistake is an error at start.
Clients created here time out after ``socket_timeout`` seconds, so an unreachable server is an error,
not a hang.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import redis
import redis.sentinel

from resque_impl.cluster import cluster_client, slot_client
from resque_impl.errors import ConfigurationError

__all__ = [
    "DEFAULT_REDIS_URL",
    "DEFAULT_SOCKET_TIMEOUT",
    "DEFAULT_WAIT_TIMEOUT",
    "Address",
    "Connection",
    "SentinelSpec",
    "cluster_nodes",
    "connect",
    "describe_client",
    "read_address",
    "redact",
    "sentinel_spec",
]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"
DEFAULT_SOCKET_TIMEOUT = 5.0
#: Seconds a durable write waits for its replicas before it is an error.
DEFAULT_WAIT_TIMEOUT = 1.0

_URL_SCHEMES = ("redis", "rediss", "unix")
_SENTINEL_SCHEME = "redis+sentinel"
_CLUSTER_SCHEME = "redis+cluster"
_CLUSTER_FORM = "redis+cluster://[:password@]host:port[,host:port...][/0]"
_OUR_PARAMETERS = ("namespace", "wait_replicas", "wait_timeout")
_SENTINEL_FORM = "redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]"
_SHORT_FORM = re.compile(r"^(?P<host>[^:/\s]+|\[[0-9a-fA-F:]+\]):(?P<port>\d+)(?::(?P<db>\d+))?(?:/(?P<ns>.*))?$")
_FORMS_HELP = (
    "use redis://host:port/db, rediss://host:port/db, unix:///path/to/redis.sock, "
    f"{_SENTINEL_FORM}, {_CLUSTER_FORM}, or Ruby Resque's host:port[:db][/namespace]"
)


@dataclass(frozen=True)
class Connection:
    """A client ready for the library, the namespace the connection string named (if any), a
    printable description of the server with any password hidden, and the durable-write settings the
    URL asked for (``wait_replicas`` 0: writes return once the primary has them)."""

    client: redis.Redis
    namespace: str | None
    description: str
    wait_replicas: int = 0
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    #: The ``redis.cluster.RedisCluster`` of a cluster URL (``client`` is then that too).
    cluster: Any = None
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT

    def client_for(self, namespace: str) -> redis.Redis:
        """The client for a deployment in ``namespace``: :attr:`client`, or on a cluster one following
        the namespace's slot (:class:`ConfigurationError` if the namespace has no hash tag)."""
        if self.cluster is None:
            return self.client
        timeouts = {"socket_timeout": self.socket_timeout, "socket_connect_timeout": self.socket_timeout}
        return slot_client(self.cluster, namespace, timeouts)


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    credentials, hosts = parts.netloc.rsplit("@", 1)
    user = credentials.split(":", 1)[0] if ":" in credentials else ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hosts}"))


def _our_parameters(url: str) -> tuple[str, dict[str, str]]:
    """``url`` without this library's query parameters, and those parameters."""
    parts = urlsplit(url)
    if not parts.query:
        return url, {}
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name in _OUR_PARAMETERS:
            ours[name] = value
        else:
            theirs.append((name, value))
    # Rebuilt by hand: urlunsplit would turn unix:///path into unix:/path.
    base = url.split("?", 1)[0]
    return (f"{base}?{urlencode(theirs)}" if theirs else base), ours


def _durability(parameters: dict[str, str], url: str) -> tuple[int, float]:
    try:
        replicas = int(parameters.get("wait_replicas", "0"))
        timeout = float(parameters.get("wait_timeout", DEFAULT_WAIT_TIMEOUT))
    except ValueError:
        raise ConfigurationError(
            f"wait_replicas must be a whole number and wait_timeout a number of seconds in {_redact(url)!r}"
        ) from None
    if replicas < 0 or not timeout > 0:
        raise ConfigurationError(f"wait_replicas must be >= 0 and wait_timeout > 0 in {_redact(url)!r}")
    return replicas, timeout


def _host_port(text: str, url: str, form: str) -> tuple[str, int]:
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"malformed address {text!r} in {_redact(url)!r}; use {form}")
    return host.strip("[]"), int(port)


def _nodes(url: str, form: str) -> tuple[list[tuple[str, int]], str | None, list[str]]:
    """The ``host:port`` list, the password and the path segments of a multi-host URL."""
    parts = urlsplit(url)
    hosts_text = parts.netloc.rsplit("@", 1)[-1]
    password = None
    if "@" in parts.netloc:
        credentials = parts.netloc.rsplit("@", 1)[0]
        password = unquote(credentials.split(":", 1)[1]) if ":" in credentials else unquote(credentials)
    hosts = [_host_port(item, url, form) for item in hosts_text.split(",") if item.strip()]
    return hosts, password, [segment for segment in parts.path.split("/") if segment]


def cluster_nodes(url: str) -> tuple[list[tuple[str, int]], str | None]:
    """The startup nodes and password of a ``redis+cluster://`` URL (without this library's parameters);
    :class:`ConfigurationError` if malformed."""
    hosts, password, path = _nodes(url, _CLUSTER_FORM)
    if not hosts or path not in ([], ["0"]) or urlsplit(url).query:
        raise ConfigurationError(
            f"malformed Redis Cluster URL {_redact(url)!r}; use {_CLUSTER_FORM} (a cluster has only database 0)"
        )
    return hosts, password


def _cluster(url: str, socket_timeout: float) -> tuple[Any, str]:
    hosts, password = cluster_nodes(url)
    timeouts = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout}
    return cluster_client(hosts, password, timeouts, _redact(url)), _redact(url)


def _sentinel(url: str, socket_timeout: float) -> tuple[redis.Redis, str]:
    """A client of the primary of the service that ``url`` names, after checking that a sentinel
    answers and knows that service."""
    spec = sentinel_spec(url)
    timeouts: dict[str, Any] = {"socket_timeout": socket_timeout, "socket_connect_timeout": socket_timeout}
    sentinel = redis.sentinel.Sentinel(spec.hosts, sentinel_kwargs=timeouts, **timeouts)
    _check_service(sentinel, spec.service, url)
    client = sentinel.master_for(spec.service, db=spec.db, password=spec.password, **spec.options, **timeouts)
    return client, spec.description


@dataclass(frozen=True)
class SentinelSpec:
    """What a ``redis+sentinel://`` URL names: the sentinels, the service, and how to reach its primary."""

    hosts: list[tuple[str, int]]
    service: str
    db: int
    password: str | None
    options: dict[str, Any]
    description: str


def sentinel_spec(url: str) -> SentinelSpec:
    """Read a Sentinel URL (without this library's parameters); :class:`ConfigurationError` if malformed."""
    parts = urlsplit(url)
    hosts, password, path = _nodes(url, _SENTINEL_FORM)
    if not hosts or not path or len(path) > 2 or (len(path) == 2 and not path[1].isdigit()):
        raise ConfigurationError(f"malformed Sentinel URL {_redact(url)!r}; use {_SENTINEL_FORM}")
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    unknown = sorted(set(options) - {"client_name"})
    if unknown:
        raise ConfigurationError(
            f"unknown parameter(s) {', '.join(unknown)} in {_redact(url)!r}; a Sentinel URL takes client_name, "
            + ", ".join(_OUR_PARAMETERS)
        )
    db = int(path[1]) if len(path) == 2 else 0
    return SentinelSpec(hosts, unquote(path[0]), db, password, options, _redact(url.split("?", 1)[0]))


def _check_service(sentinel: redis.sentinel.Sentinel, service: str, url: str) -> None:
    """Raise :class:`ConfigurationError` unless some sentinel knows a primary for ``service``."""
    known: set[str] = set()
    errors: list[str] = []
    for node in sentinel.sentinels:
        address = "{host}:{port}".format(**node.connection_pool.connection_kwargs)
        try:
            masters: dict[str, Any] = node.sentinel_masters()  # type: ignore[assignment]
        except redis.RedisError as error:
            errors.append(f"{address}: {error}")
            continue
        if service in masters:
            return
        known.update(masters)
    if not known and errors:
        raise ConfigurationError(f"no sentinel reachable for {_redact(url)!r} ({'; '.join(errors)})")
    raise ConfigurationError(
        f"the sentinels of {_redact(url)!r} know no service {service!r}; they monitor: "
        + (", ".join(sorted(known)) or "nothing")
    )


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
    address = read_address(target)
    if address.scheme == _CLUSTER_SCHEME:
        cluster, description = _cluster(address.url, socket_timeout)
        return Connection(
            cluster,
            address.namespace,
            description,
            address.wait_replicas,
            address.wait_timeout,
            cluster,
            socket_timeout,
        )
    if address.scheme == _SENTINEL_SCHEME:
        client, description = _sentinel(address.url, socket_timeout)
    elif address.scheme:
        client, description = _from_url(address.url, socket_timeout), _redact(address.url)
    else:
        client = redis.Redis(
            host=address.host,
            port=address.port,
            db=address.db,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
        )
        description = address.url
    return Connection(client, address.namespace, description, address.wait_replicas, address.wait_timeout)


@dataclass(frozen=True)
class Address:
    """A connection string as read, before any client exists (see :func:`read_address`)."""

    #: ``redis``, ``rediss``, ``unix``, ``redis+sentinel``, ``redis+cluster``, or ``""`` for Ruby's
    #: ``host:port[:db][/namespace]`` form.
    scheme: str
    #: The URL without this library's parameters (Ruby's form: ``redis://host:port/db``).
    url: str
    namespace: str | None
    wait_replicas: int = 0
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    #: Ruby's form only: where to connect.
    host: str = ""
    port: int = 0
    db: int = 0


def read_address(text: str) -> Address:
    """Read a connection string (any of the forms above); :class:`ConfigurationError` for one that is
    none of them. Shared by :func:`connect` and the asyncio client's connection."""
    text = text.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in (*_URL_SCHEMES, _SENTINEL_SCHEME, _CLUSTER_SCHEME):
        url, parameters = _our_parameters(text)
        replicas, wait_timeout = _durability(parameters, text)
        return Address(scheme, url, parameters.get("namespace") or None, replicas, wait_timeout)
    if scheme:
        raise ConfigurationError(f"unsupported Redis URL scheme {scheme!r} in {_redact(text)!r}; {_FORMS_HELP}")
    match = _SHORT_FORM.match(text)
    if match is None:
        raise ConfigurationError(f"malformed Redis address {text!r}; {_FORMS_HELP}")
    port = int(match["port"])
    if not 0 < port < 65536:
        raise ConfigurationError(f"port {port} in {text!r} is out of range 1-65535")
    db = int(match["db"] or 0)
    url = f"redis://{match['host']}:{port}/{db}"
    return Address("", url, match["ns"] or None, host=match["host"].strip("[]"), port=port, db=db)


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    return _redact(url)
