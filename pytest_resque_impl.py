"""The resque-impl pytest plugin (registered as ``resque`` through the ``pytest11`` entry point).

Every test runs in a test mode (see ``resque_impl.testing``): by default **fake** (every ``Resque`` in
the process captures its jobs in a per-test fakeredis), or **inline** (jobs run at enqueue), or
**real** (nothing is intercepted; the ``resque`` fixture is a real Redis in a namespace of its own).

Choose it, strongest first: request ``resque_fake`` or ``resque_inline``; mark the test
``@pytest.mark.resque(mode="inline", record_failures=True, delayed="now", start=datetime(...),
strict=True)``;
pass ``--resque-inline`` / ``--resque-mode=inline|fake|real``; or set ``resque_mode = inline`` in the
ini file. Fixtures: ``resque``, ``resque_fake``, ``resque_inline``, ``resque_worker``,
``resque_clock``, ``resque_faults``, ``redis_server``, ``redis_sentinel``.

This module imports nothing of ``resque_impl`` until a test needs it (each fixture imports what it
uses), so installing the package does not slow test suites that do not use it; a test gets a mode
only when ``resque_impl`` is already imported (by the code under test) or the test asks for it.
"""

# ruff: noqa: PLC0415 - imports wait until a test needs them (see the module docstring)
from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from resque_impl.client import Resque
    from resque_impl.testing import RedisServer, Sandbox, VirtualClock
    from resque_impl.testing.cluster import ClusterTopology
    from resque_impl.testing.faults import FaultInjector
    from resque_impl.testing.plugin import PluginSettings, RealWorld
    from resque_impl.testing.runner import InProcessWorker
    from resque_impl.testing.sentinel import SentinelTopology

_OPTIONS: list[tuple[str, dict[str, Any], str, str]] = [
    # (command-line flag, argparse options, ini type, help)
    ("--resque-mode", {"choices": ["fake", "inline", "real"]}, "string",
     "test mode: fake (capture jobs; the default), inline (run jobs at enqueue), real (a real Redis)"),
    ("--resque-inline", {"action": "store_true", "default": None}, "bool",
     "shorthand for --resque-mode=inline"),
    ("--resque-delayed", {"choices": ["clock", "now"]}, "string",
     "inline mode: run delayed jobs when the virtual clock reaches them (clock; the default) or at once (now)"),
    ("--resque-record-failures", {"action": "store_true", "default": None}, "bool",
     "inline mode: record failing jobs as failures instead of raising their exceptions"),
    ("--resque-strict", {"action": "store_true", "default": None}, "bool",
     "inline mode: a job no Python class can run (named by a string nobody registered) is an error, "
     "not pushed with a warning"),
    ("--resque-redis-url", {}, "string",
     "real mode: the Redis to use (each test gets its own namespace); default: start a private redis-server"),
    ("--resque-require-redis", {"action": "store_true", "default": None}, "bool",
     "fail, rather than skip, tests needing redis-server when it is not installed"),
]  # fmt: skip

_FIXTURES = ("resque", "resque_fake", "resque_inline", "resque_worker", "resque_clock", "resque_faults")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("resque", "resque-impl test modes")
    for flag, options, ini_type, text in _OPTIONS:
        name = flag[2:].replace("-", "_")
        group.addoption(flag, dest=name, help=f"{text} [ini: {name}]", **options)
        parser.addini(name, text, type=ini_type)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "resque(mode=None, *, record_failures=False, delayed='clock', start=None, strict=False): run the "
        "test in this resque-impl test mode (fake, inline or real)",
    )


def _option(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return config.getini(name) if value is None else value


def _settings(request: pytest.FixtureRequest) -> PluginSettings:
    from resque_impl.testing.plugin import PluginSettings

    config = request.config
    keys = ("mode", "inline", "delayed", "record_failures", "redis_url", "strict")
    settings = PluginSettings.read({key: _option(config, f"resque_{key}") for key in keys})
    marker = request.node.get_closest_marker("resque")
    return settings if marker is None else settings.with_marker(marker.args, marker.kwargs)


@pytest.fixture(autouse=True)
def _resque_test_mode(request: pytest.FixtureRequest) -> Iterator[Sandbox | None]:
    """The test's sandbox (``None`` in real mode, or when nothing in the test uses resque_impl)."""
    names = request.fixturenames
    asked = any(name in names for name in _FIXTURES) or request.node.get_closest_marker("resque") is not None
    if not asked and "resque_impl" not in sys.modules:
        yield None
        return
    from resque_impl.testing.plugin import open_sandbox

    settings = _settings(request)
    if "resque_fake" in names and "resque_inline" in names:
        pytest.fail("a test can use resque_fake or resque_inline, not both: they are two test modes")
    mode = "fake" if "resque_fake" in names else "inline" if "resque_inline" in names else settings.mode
    if mode == "real":
        yield None
        return
    with open_sandbox(settings, mode) as sandbox:
        yield sandbox
    if not asked and not _mode_chosen(request.config):
        seen = request.config.stash.setdefault(_DEFAULT_INTERCEPTS, {})
        for where in sandbox.intercepted():
            seen[where] = seen.get(where, 0) + 1


#: Per store description: how many tests left to the default fake mode captured the jobs of an
#: application ``Resque`` configured for it.
_DEFAULT_INTERCEPTS = pytest.StashKey[dict[str, int]]()


def _mode_chosen(config: pytest.Config) -> bool:
    return bool(_option(config, "resque_mode") or _option(config, "resque_inline"))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Say when the default fake mode quietly kept jobs from the Redis the application names: a suite
    written against a real Redis would otherwise see its jobs vanish into per-test fakeredis."""
    seen = config.stash.get(_DEFAULT_INTERCEPTS, {})
    if not seen:
        return
    where = ", ".join(f"{description} ({count} tests)" for description, count in sorted(seen.items()))
    terminalreporter.write_sep("-", "resque-impl")
    terminalreporter.write_line(
        f"tests left to the default fake mode captured jobs meant for {where} in per-test fakeredis; "
        "nothing reached that Redis. Set resque_mode = real (ini) or --resque-mode=real if the suite "
        "should use it, or resque_mode = fake to keep fake mode and silence this note"
    )


@pytest.fixture
def resque_fake(_resque_test_mode: Sandbox | None) -> Sandbox:
    """Fake mode for this test: every ``Resque`` captures its jobs. Returns the sandbox (assertions,
    ``drain``, ``perform_one``, ``advance``...)."""
    assert _resque_test_mode is not None
    return _resque_test_mode


@pytest.fixture
def resque_inline(_resque_test_mode: Sandbox | None) -> Sandbox:
    """Inline mode for this test: every ``enqueue`` performs its job at once. Returns the sandbox."""
    assert _resque_test_mode is not None
    return _resque_test_mode


@pytest.fixture
def _resque_real_world(request: pytest.FixtureRequest) -> Iterator[RealWorld]:
    from resque_impl.testing.plugin import real_world

    settings = _settings(request)
    url = settings.redis_url or request.getfixturevalue("redis_server").url
    with real_world(url, settings) as world:
        yield world


@pytest.fixture
def resque(request: pytest.FixtureRequest, _resque_test_mode: Sandbox | None) -> Resque:
    """A fresh ``Resque`` in the test's mode: the sandbox's own (fake, inline), or one on a real Redis
    in a namespace of its own (real)."""
    if _resque_test_mode is not None:
        return _resque_test_mode.resque
    world: RealWorld = request.getfixturevalue("_resque_real_world")
    return world.resque


@pytest.fixture
def resque_clock(request: pytest.FixtureRequest, _resque_test_mode: Sandbox | None) -> VirtualClock:
    """The virtual clock every ``Resque`` reads in this test: ``advance(seconds)``, ``travel_to(when)``."""
    if _resque_test_mode is not None:
        return _resque_test_mode.clock
    world: RealWorld = request.getfixturevalue("_resque_real_world")
    return world.clock


@pytest.fixture
def resque_worker(resque: Resque, _resque_test_mode: Sandbox | None) -> InProcessWorker:
    """A worker running the ``resque`` fixture's jobs in this process with the real worker steps:
    ``resque_worker.drain("high", "*")``, ``resque_worker.perform_one()``."""
    from resque_impl.testing.runner import InProcessWorker

    log = None if _resque_test_mode is None else _resque_test_mode.performed.append
    return InProcessWorker(resque, log=log)


@pytest.fixture
def resque_faults(resque: Resque) -> FaultInjector:
    """Kill workers of the ``resque`` fixture's instance at chosen points of a job, then ``recover()``
    as pruning would: ``resque_faults.kill_during("app.gateway.Gateway.charge")``."""
    from resque_impl.testing.faults import FaultInjector

    return FaultInjector(resque)


def _require_redis_server(request: pytest.FixtureRequest) -> None:
    """Skip the test, saying how to install one, when there is no ``redis-server``; fail it instead
    with ``--resque-require-redis``."""
    from resque_impl.testing import RedisServer
    from resque_impl.testing.redis_server import INSTALL_HINT

    if not RedisServer.available():
        message = f"redis-server is not installed; {INSTALL_HINT}"
        if _option(request.config, "resque_require_redis"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def redis_server(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A private redis-server on a free loopback port for the whole session (skipped, saying how to
    install one, when there is no ``redis-server``; failed instead with ``--resque-require-redis``)."""
    from resque_impl.testing import RedisServer

    _require_redis_server(request)
    with RedisServer() as server:
        yield server


@pytest.fixture(scope="session")
def redis_sentinel(request: pytest.FixtureRequest) -> Iterator[SentinelTopology]:
    """A private Sentinel deployment for the whole session: a primary, 2 replicas and 3 sentinels on
    free loopback ports (``redis_sentinel.url`` is its ``redis+sentinel://`` URL); skipped or failed
    as :func:`redis_server` is without a ``redis-server``."""
    from resque_impl.testing.sentinel import SentinelTopology

    _require_redis_server(request)
    with SentinelTopology() as topology:
        yield topology


@pytest.fixture(scope="session")
def redis_cluster(request: pytest.FixtureRequest) -> Iterator[ClusterTopology]:
    """A private Redis Cluster for the whole session: 3 primaries with a replica each on free loopback
    ports (``redis_cluster.url`` is its ``redis+cluster://`` URL); skipped or failed as
    :func:`redis_server` is without a ``redis-server``."""
    from resque_impl.testing.cluster import ClusterTopology

    _require_redis_server(request)
    with ClusterTopology() as cluster:
        yield cluster
