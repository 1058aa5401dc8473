"""Connection strings are read the way Ruby Resque reads them, and mistakes fail fast and clearly."""

from __future__ import annotations

import socket
import time

import fakeredis
import pytest
import redis

from resque_impl import ConfigurationError, Resque, ResqueConnectionError
from resque_impl.connection import DEFAULT_REDIS_URL, connect
from resque_impl.testing import RedisServer


def _kwargs(client: redis.Redis) -> dict[str, object]:
    return dict(client.connection_pool.connection_kwargs)


def test_a_redis_url_sets_host_port_and_db() -> None:
    connection = connect("redis://example.com:6380/4")
    assert {k: _kwargs(connection.client)[k] for k in ("host", "port", "db")} == {
        "host": "example.com",
        "port": 6380,
        "db": 4,
    }
    assert connection.namespace is None


def test_a_rediss_url_uses_tls() -> None:
    connection = connect("rediss://secure.example.com:6379/0")
    assert connection.client.connection_pool.connection_class is redis.SSLConnection


def test_a_unix_url_uses_the_socket_path() -> None:
    assert _kwargs(connect("unix:///run/redis.sock?db=2").client)["path"] == "/run/redis.sock"


def test_rubys_short_form_names_host_port_db_and_namespace() -> None:
    connection = connect("localhost:6379:2/myapp")
    assert {k: _kwargs(connection.client)[k] for k in ("host", "port", "db")} == {
        "host": "localhost",
        "port": 6379,
        "db": 2,
    }
    assert connection.namespace == "myapp"
    assert Resque("localhost:6379:2/myapp").namespace == "myapp"


def test_an_explicit_namespace_wins_over_the_short_form() -> None:
    assert Resque("localhost:6379/fromstring", namespace="explicit").keys.queues == "explicit:queues"


def test_nothing_means_redis_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://envhost:7000/3")
    assert _kwargs(connect().client)["host"] == "envhost"


def test_nothing_and_no_environment_means_localhost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert connect().description == DEFAULT_REDIS_URL


def test_passwords_are_hidden_in_descriptions() -> None:
    assert connect("redis://user:secret@db.example.com:6379/0").description == "redis://user:***@db.example.com:6379/0"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("localhost", "malformed Redis address"),
        ("localhost:port", "malformed Redis address"),
        ("localhost:99999", "out of range"),
        ("http://localhost:6379", "unsupported Redis URL scheme 'http'"),
        ("redis://localhost:notaport/0", "malformed Redis URL"),
    ],
)
def test_malformed_connection_strings_are_configuration_errors(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect(text)


def test_something_that_is_not_a_client_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not int"):
        connect(42)


def test_a_client_that_decodes_replies_gets_a_bytes_twin() -> None:
    server = fakeredis.FakeServer()
    text_client = fakeredis.FakeRedis(server=server, decode_responses=True)
    r = Resque(text_client)
    r.enqueue_to("q", "J", "ü")
    assert r.peek_raw("q") == ['{"class":"J","args":["ü"]}'.encode()]
    assert text_client.lrange("resque:queue:q", 0, -1) == ['{"class":"J","args":["ü"]}']


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_server_is_a_clear_error_not_a_hang() -> None:
    r = Resque(f"redis://127.0.0.1:{_closed_port()}/0", socket_timeout=1)
    started = time.monotonic()
    with pytest.raises(ResqueConnectionError, match=r"cannot reach redis://127\.0\.0\.1:\d+/0"):
        r.enqueue_to("q", "J", 1)
    assert time.monotonic() - started < 5


def test_a_stalled_server_times_out_within_the_socket_timeout(redis_server: RedisServer) -> None:
    admin = redis_server.client()
    r = Resque(redis_server.url, socket_timeout=0.5)
    admin.client_pause(1500)
    try:
        started = time.monotonic()
        with pytest.raises(ResqueConnectionError, match="Timeout"):
            r.size("q")
        assert time.monotonic() - started < 1.4
    finally:
        admin.client_unpause()
