"""Fixtures of the live interop tests: the session's redis-server emptied for each test, and the real
Ruby Resque pointed at it (skipped without Ruby, failed in CI; see tests/ruby.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from resque_impl.testing import RedisServer
from tests.ruby import RubyResque


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the session's redis-server, which is emptied first."""
    client = redis_server.client(socket_timeout=5)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def ruby(redis_server: RedisServer, client: redis.Redis) -> RubyResque:
    """Ruby Resque on the emptied server (``client`` empties it first)."""
    return RubyResque.find(redis_server.url)
