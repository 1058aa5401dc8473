"""Shared fixtures: every test that touches Redis runs against fakeredis and a real redis-server.

The real server is the resque plugin's ``redis_server`` fixture (pytest_resque_impl.py): started once
per session on a free loopback port and stopped by its pid; each test gets it flushed (it is ours).
Without a ``redis-server`` binary those runs skip, saying how to install one, except under
``CI=true``, where a missing server fails the run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import fakeredis
import pytest
import redis
from hypothesis import settings

from resque_impl import Registry, Resque
from resque_impl.clock import ManualClock
from resque_impl.connection import Connection, connect
from resque_impl.keys import Keys
from resque_impl.memory_store import MemoryStore
from resque_impl.store import Store
from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology
from resque_impl.testing.statemachine import register_profiles

pytest_plugins = ["pytester"]

# Hypothesis profiles: ``ci`` unless another is chosen (``--hypothesis-profile=thorough`` for long runs).
register_profiles()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Golden dumps recorded from the real Ruby Resque 3.0 (how: tests/fixtures/ruby-resque-3.0/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ruby-resque-3.0"
#: Fixed start time for clocks in tests: 2026-11-27 23:43:29 UTC, as in the Ruby fixtures.
FIXTURE_EPOCH = 1795823009.0


def load_fixture(name: str) -> dict[str, Any]:
    """A golden dump made by Ruby Resque 3.0 (see tests/fixtures/ruby-resque-3.0/README.md)."""
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def pytest_configure(config: pytest.Config) -> None:
    # The resque plugin's session-scoped ``redis_server`` fixture skips without a redis-server binary;
    # in CI a missing server must fail the run instead.
    if os.environ.get("CI") == "true":
        config.option.resque_require_redis = True


@pytest.fixture
def private_redis_server(redis_server: RedisServer) -> Iterator[RedisServer]:
    """A redis-server of the test's own, for figures the server counts across all its clients (the
    session's server may still hear from processes an earlier test left winding down). Skipped, or
    failed in CI, exactly as ``redis_server`` is."""
    with RedisServer() as server:
        yield server


def _sentinel_primary(request: pytest.FixtureRequest) -> Connection:
    """A connection to the session's Sentinel deployment (``redis_sentinel``), its primary emptied."""
    topology: SentinelTopology = request.getfixturevalue("redis_sentinel")
    connection = connect(topology.url)
    connection.client.flushall()
    return connection


@pytest.fixture(params=["fake", "real", "sentinel"])
def redis_client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    """An empty database: fakeredis, a real server, then the primary of a Sentinel deployment."""
    if request.param == "fake":
        client: redis.Redis = fakeredis.FakeRedis()
    elif request.param == "sentinel":
        client = _sentinel_primary(request).client
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = server.client(socket_timeout=5)
        client.flushall()
    yield client
    client.close()


@pytest.fixture(params=["fake", "real", "memory", "sentinel"])
def store(request: pytest.FixtureRequest) -> Any:
    """An empty store of each kind: fakeredis, a real server, the in-memory twin, and a Sentinel
    deployment's primary with durable writes (every write waits for a replica)."""
    if request.param == "memory":
        return MemoryStore()
    if request.param == "fake":
        return Store(fakeredis.FakeRedis(), Keys())
    if request.param == "sentinel":
        connection = _sentinel_primary(request)
        return Store(connection.client, Keys(), connection.description, wait_replicas=1)
    server: RedisServer = request.getfixturevalue("redis_server")
    client = server.client(socket_timeout=5)
    client.flushall()
    return Store(client, Keys())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FIXTURE_EPOCH)


@pytest.fixture
def resque(redis_client: redis.Redis, clock: ManualClock) -> Resque:
    """A Resque on an empty database (fakeredis and real), with a manual clock and the default registry."""
    return Resque(redis_client, clock=clock)


@pytest.fixture
def registry() -> Registry:
    """A private registry, for tests that register classes of their own."""
    return Registry()
