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
from resque_impl.testing.sentinel import SentinelTopology


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


def test_any_url_takes_the_namespace_and_durability_as_query_parameters() -> None:
    connection = connect("redis://db.example.com:6379/2?namespace=%7Bresque%7D&wait_replicas=2&wait_timeout=0.5")
    assert (connection.namespace, connection.wait_replicas, connection.wait_timeout) == ("{resque}", 2, 0.5)
    assert _kwargs(connection.client)["db"] == 2
    assert Resque("redis://db.example.com:6379/0?namespace=app").keys.queue("email") == "app:queue:email"


def test_redis_pys_own_query_parameters_still_reach_it() -> None:
    connection = connect("redis://db.example.com:6379/0?client_name=w1&namespace=app")
    assert _kwargs(connection.client)["client_name"] == "w1"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("wait_replicas=two", "wait_replicas must be a whole number"),
        ("wait_replicas=-1", "wait_replicas must be >= 0"),
        ("wait_timeout=0", "wait_timeout > 0"),
    ],
)
def test_bad_durability_parameters_are_configuration_errors(query: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        connect(f"redis://localhost:6379/0?{query}")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis+sentinel://127.0.0.1:26379", "malformed Sentinel URL"),
        ("redis+sentinel:///primary", "malformed Sentinel URL"),
        ("redis+sentinel://127.0.0.1:26379/primary/zero", "malformed Sentinel URL"),
        ("redis+sentinel://127.0.0.1:26379/primary/0/extra", "malformed Sentinel URL"),
        ("redis+sentinel://127.0.0.1:port/primary", "malformed address '127.0.0.1:port'"),
        ("redis+sentinel://127.0.0.1:26379,nohost/primary", "malformed address 'nohost'"),
        ("redis+sentinel://127.0.0.1:26379/primary?retries=3", "unknown parameter"),
    ],
)
def test_malformed_sentinel_urls_say_what_form_is_expected(url: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as error:
        connect(url)
    assert "redis+sentinel://" in str(error.value)


def test_no_reachable_sentinel_is_an_error_at_once_naming_each_address() -> None:
    ports = [_closed_port(), _closed_port()]
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match="no sentinel reachable") as error:
        Resque(f"redis+sentinel://127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}/primary", socket_timeout=1)
    assert time.monotonic() - started < 5
    assert all(f"127.0.0.1:{port}" in str(error.value) for port in ports)


def test_a_sentinel_url_finds_the_primary_of_its_service(redis_sentinel: SentinelTopology) -> None:
    r = Resque(redis_sentinel.url + "?namespace=app")
    r.enqueue_to("q", "J", 1)
    primary = redis_sentinel.server_on(redis_sentinel.primary_port()).client()
    assert primary.lrange("app:queue:q", 0, -1) == [b'{"class":"J","args":[1]}']
    assert repr(r) == f"<Resque {redis_sentinel.url} namespace='app'>"
    primary.flushall()


def test_an_unknown_service_names_the_services_the_sentinels_monitor(redis_sentinel: SentinelTopology) -> None:
    url = redis_sentinel.url.replace(redis_sentinel.service, "nope")
    with pytest.raises(ConfigurationError, match=f"know no service 'nope'; they monitor: {redis_sentinel.service}"):
        Resque(url)


def test_passwords_in_sentinel_urls_are_hidden(redis_sentinel: SentinelTopology) -> None:
    url = redis_sentinel.url.replace("redis+sentinel://", "redis+sentinel://:secret@")
    assert "secret" not in connect(url).description


def test_more_wait_replicas_than_the_primary_has_is_refused(redis_sentinel: SentinelTopology) -> None:
    with pytest.raises(ConfigurationError, match=r"wait_replicas=3 but the primary .* has 2 connected replica"):
        Resque(redis_sentinel.url, wait_replicas=3)
    with pytest.raises(ConfigurationError, match="wait_replicas=3"):
        Resque(redis_sentinel.url + "?wait_replicas=3")
    assert Resque(redis_sentinel.url, wait_replicas=2).store.wait_replicas == 2
