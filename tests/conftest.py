"""Shared fixtures: every test that touches Redis runs against fakeredis and a real redis-server (and
the ``redis_client``/``store`` ones against a Sentinel deployment and a Redis Cluster too).

The real server is the resque plugin's ``redis_server`` fixture (pytest_resque_impl.py): started once
per session on a free loopback port and stopped by its pid; each test gets it flushed (it is ours).
Without a ``redis-server`` binary those runs skip, saying how to install one, except under
``CI=true``, where a missing server fails the run.
"""

from __future__ import annotations

import json
import os
import re
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
from resque_impl.keys import DEFAULT_NAMESPACE, Keys
from resque_impl.store import Store
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import RedisServer, dump_keys, load_keys
from resque_impl.testing.cluster import ClusterTopology
from resque_impl.testing.sentinel import SentinelTopology
from resque_impl.testing.statemachine import register_profiles

pytest_plugins = ["pytester"]

# Hypothesis profiles: ``ci`` unless another is chosen (``--hypothesis-profile=thorough`` for long runs).
register_profiles()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Golden dumps recorded from the real Ruby Resque 3.0 (how: tests/fixtures/ruby-resque-3.0/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ruby-resque-3.0"
#: The namespace of the contract tests' runs on the cluster: one hash tag, so one slot.
CLUSTER_NAMESPACE = "{resque}"
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


def _cluster_slot(request: pytest.FixtureRequest) -> tuple[Connection, redis.Redis]:
    """A connection to the session's cluster (``redis_cluster``), every primary emptied, and a client
    of the primary serving :data:`CLUSTER_NAMESPACE`'s slot."""
    topology: ClusterTopology = request.getfixturevalue("redis_cluster")
    connection = connect(topology.url)
    connection.client.flushall()
    return connection, connection.client_for(CLUSTER_NAMESPACE)


def on_cluster(request: pytest.FixtureRequest) -> bool:
    """Whether this test runs with the ``cluster`` param of ``redis_client`` or ``store``."""
    callspec = getattr(request.node, "callspec", None)
    params = callspec.params if callspec is not None else {}
    return "cluster" in (params.get("redis_client"), params.get("store"))


@pytest.fixture
def namespace(request: pytest.FixtureRequest) -> str:
    """The namespace of the test's ``redis_client``/``store`` run: ``resque``, or on the cluster
    ``{resque}`` (a cluster refuses a namespace whose keys would cross slots)."""
    return CLUSTER_NAMESPACE if on_cluster(request) else DEFAULT_NAMESPACE


@pytest.fixture
def keys(namespace: str) -> Keys:
    """Key names in the test's :func:`namespace`, for assertions on what a run wrote."""
    return Keys(namespace)


def beside(namespace: str, name: str) -> str:
    """Key ``name`` outside ``namespace`` but, under a hash-tagged namespace, in its slot (a cluster
    client of the namespace reaches no other): ``other:x``, or ``{resque}other:x`` beside ``{resque}``."""
    tag = Keys(namespace).hash_tag
    return name if tag is None else "{" + tag + "}" + name


def snapshot(store: Any) -> dict[str, Any]:
    """Every key a store holds (a Redis one's, found with SCAN, or the in-memory twin's), named as in
    the default namespace ``resque``: one expectation then serves every store, the cluster's too."""
    dumped = store.dump() if isinstance(store, MemoryStore) else dump_keys(store.client)
    return renamespaced(dumped, store.keys.namespace, DEFAULT_NAMESPACE)


def dumped(client: Any, namespace: str) -> dict[str, Any]:
    """:func:`dump_keys` of ``client``, its keys in ``namespace`` named as in ``resque`` (as Ruby's
    golden dumps name them)."""
    return renamespaced(dump_keys(client), namespace, DEFAULT_NAMESPACE)


def loaded(client: Any, keys: dict[str, Any], namespace: str) -> None:
    """:func:`load_keys` of a dump in ``resque`` (a Ruby golden dump's ``keys``) into ``namespace``."""
    load_keys(client, renamespaced(keys, DEFAULT_NAMESPACE, namespace))


def renamespaced(keys: dict[str, Any], source: str, target: str) -> dict[str, Any]:
    """``keys`` (named as :func:`dump_keys` names them) with every key of namespace ``source`` named as
    :class:`Keys` names it in ``target``; other keys unchanged. The in-flight lists change form with a
    hash tag (``{resque:queue:<q>}:inflight:<id>``, ``{ns}:inflight:<id>:queue:<q>``)."""
    if source == target:
        return keys
    old, new = Keys(source), Keys(target)
    untagged_inflight = re.compile(r"\{" + re.escape(old.queue_prefix) + r"(?P<queue>[^}]*)\}:inflight:(?P<worker>.*)")
    out: dict[str, Any] = {}
    for key, entry in keys.items():
        found = untagged_inflight.fullmatch(key) if old.hash_tag is None else None
        if found is None and old.hash_tag is not None and key.startswith(old.key("inflight:")) and ":queue:" in key:
            worker, queue = key[len(old.key("inflight:")) :].rsplit(":queue:", 1)
            out[new.inflight(queue, worker)] = entry
        elif found is not None:
            out[new.inflight(found["queue"], found["worker"])] = entry
        elif key.startswith(source + ":"):
            out[new.key(key[len(source) + 1 :])] = entry
        else:
            out[key] = entry
    return dict(sorted(out.items()))


@pytest.fixture(params=["fake", "real", "sentinel", "cluster"])
def redis_client(request: pytest.FixtureRequest) -> Iterator[redis.Redis]:
    """An empty database: fakeredis, a real server, the primary of a Sentinel deployment, then the
    primary of :data:`CLUSTER_NAMESPACE`'s slot in a Redis Cluster (use the ``namespace`` fixture)."""
    cluster: Connection | None = None
    if request.param == "fake":
        client: redis.Redis = fakeredis.FakeRedis()
    elif request.param == "sentinel":
        client = _sentinel_primary(request).client
    elif request.param == "cluster":
        cluster, client = _cluster_slot(request)
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = server.client(socket_timeout=5)
        client.flushall()
    yield client
    client.close()
    if cluster is not None:
        cluster.client.close()


@pytest.fixture(params=["fake", "real", "memory", "sentinel", "cluster"])
def store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An empty store of each kind: fakeredis, a real server, the in-memory twin, a Sentinel
    deployment's primary with durable writes (every write waits for a replica), and a Redis Cluster
    in the ``{resque}`` namespace, durable too (use the ``namespace`` or ``keys`` fixture)."""
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "fake":
        yield Store(fakeredis.FakeRedis(), Keys())
    elif request.param == "sentinel":
        connection = _sentinel_primary(request)
        yield Store(connection.client, Keys(), connection.description, wait_replicas=1)
    elif request.param == "cluster":
        connection, client = _cluster_slot(request)
        yield Store(client, Keys(CLUSTER_NAMESPACE), connection.description, wait_replicas=1)
        client.close()
        connection.client.close()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = server.client(socket_timeout=5)
        client.flushall()
        yield Store(client, Keys())


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FIXTURE_EPOCH)


@pytest.fixture
def resque(redis_client: redis.Redis, clock: ManualClock, namespace: str) -> Resque:
    """A Resque on an empty database (each ``redis_client``), in the test's ``namespace``, with a
    manual clock and the default registry."""
    return Resque(redis_client, clock=clock, namespace=namespace)


@pytest.fixture
def registry() -> Registry:
    """A private registry, for tests that register classes of their own."""
    return Registry()
