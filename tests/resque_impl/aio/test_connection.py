"""connect_async reads connection strings as connect does, and gives redis.asyncio clients."""

from __future__ import annotations

import fakeredis
import pytest
import redis.asyncio

from resque_impl.aio import AsyncResque, connect_async
from resque_impl.errors import ConfigurationError


def test_a_url_names_the_server_the_namespace_and_durable_writes() -> None:
    connection = connect_async("redis://:secret@db.example:6380/2?namespace=%7Bapp%7D&wait_replicas=1&wait_timeout=2")
    assert isinstance(connection.client, redis.asyncio.Redis)
    kwargs = connection.client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("db.example", 6380, 2, "secret")
    assert (connection.namespace, connection.wait_replicas, connection.wait_timeout) == ("{app}", 1, 2.0)
    assert "secret" not in connection.description


def test_ruby_resques_short_form_names_host_port_db_and_namespace() -> None:
    resque = AsyncResque("localhost:6390:3/myapp")
    kwargs = resque._store.client.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("localhost", 6390, 3)
    assert resque.namespace == "myapp"
    assert resque.keys.queue("q") == "myapp:queue:q"


def test_a_sentinel_url_gives_a_client_of_the_services_primary() -> None:
    connection = connect_async("redis+sentinel://:pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/1")
    pool = connection.client.connection_pool
    assert pool.service_name == "mymaster"
    assert pool.connection_kwargs["db"] == 1
    assert connection.description == "redis+sentinel://:***@127.0.0.1:26379,127.0.0.1:26380/mymaster/1"


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("redis+cluster://127.0.0.1:7000", "spread its keys over the cluster"),  # no hash tag
        ("redis+cluster://127.0.0.1:7000/1?namespace=%7Bapp%7D", "a cluster has only database 0"),
        ("redis+sentinel://127.0.0.1:26379", "malformed Sentinel URL"),
        ("http://localhost", "unsupported Redis URL scheme"),
        ("not an address", "malformed Redis address"),
        ("redis://localhost/0?wait_replicas=-1", "wait_replicas"),
    ],
)
def test_what_cannot_be_used_is_refused_at_once(target: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        AsyncResque(target)


def test_a_synchronous_client_is_refused_with_the_way_out() -> None:
    with pytest.raises(ConfigurationError, match=r"redis\.asyncio client \(or use resque_impl\.Resque\)"):
        AsyncResque(fakeredis.FakeRedis())
