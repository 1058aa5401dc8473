"""What the pytest plugin does, kept apart from pytest's registration surface.

The plugin module itself (``pytest_resque_impl``, registered through the ``pytest11`` entry point)
imports nothing of ``resque_impl`` until a test needs it, so installing this package does not slow
test suites that never use it; it calls into this module for the work.

Settings come, strongest first, from the ``@pytest.mark.resque(...)`` marker, the command line
(``--resque-mode``, ``--resque-inline``...) and the ini file (``resque_mode = inline``...). The default
mode is ``fake``: application code's jobs are captured in a per-test fakeredis, never sent to a real
Redis by accident.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, cast

from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError
from resque_impl.scheduler import Scheduler
from resque_impl.testing.clock import VirtualClock
from resque_impl.testing.sandbox import DelayedPolicy, ModeName, Sandbox
from resque_impl.testing.timeline import Timeline

__all__ = ["MODES", "PluginSettings", "RealWorld", "open_sandbox", "real_world", "unique_namespace"]

PluginMode = Literal["fake", "inline", "real"]
MODES: tuple[PluginMode, ...] = ("fake", "inline", "real")
_MARKER_KEYS = frozenset({"mode", "record_failures", "delayed", "start", "strict"})


@dataclass(frozen=True)
class PluginSettings:
    """How one test runs: its mode and the sandbox options."""

    mode: PluginMode = "fake"
    record_failures: bool = False
    delayed: DelayedPolicy = "clock"
    start: float | datetime | None = None
    redis_url: str | None = None
    strict: bool = False

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> PluginSettings:
        """From the command line and ini values (``None`` or ``""`` where unset)."""
        mode = options.get("mode") or ("inline" if options.get("inline") else "fake")
        delayed = options.get("delayed") or "clock"
        settings = cls(
            mode=_checked_mode(mode),
            record_failures=bool(options.get("record_failures")),
            delayed=_checked_delayed(delayed),
            redis_url=options.get("redis_url") or None,
            strict=bool(options.get("strict")),
        )
        if options.get("mode") and options.get("inline") and settings.mode != "inline":
            raise ConfigurationError(f"--resque-inline contradicts --resque-mode={settings.mode}; give one of them")
        return settings

    def with_marker(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> PluginSettings:
        """Overridden by ``@pytest.mark.resque("inline")`` / ``@pytest.mark.resque(mode=..., ...)``."""
        unknown = set(kwargs) - _MARKER_KEYS
        if unknown or len(args) > 1:
            raise ConfigurationError(
                f"@pytest.mark.resque takes an optional mode and the keywords {sorted(_MARKER_KEYS)}; "
                f"got {args!r} and {sorted(unknown)!r}"
            )
        changes = dict(kwargs)
        if args:
            changes["mode"] = args[0]
        if "mode" in changes:
            changes["mode"] = _checked_mode(changes["mode"])
        if "delayed" in changes:
            changes["delayed"] = _checked_delayed(changes["delayed"])
        return replace(self, **changes)


def _checked_mode(mode: object) -> PluginMode:
    if mode not in MODES:
        raise ConfigurationError(f"resque test mode must be one of {', '.join(MODES)}; got {mode!r}")
    return mode


def _checked_delayed(delayed: object) -> DelayedPolicy:
    if delayed not in ("clock", "now"):
        raise ConfigurationError(f"resque delayed policy must be 'clock' or 'now'; got {delayed!r}")
    return delayed


@contextmanager
def open_sandbox(settings: PluginSettings, mode: ModeName | None = None) -> Iterator[Sandbox]:
    """An active sandbox for ``settings`` (in ``mode`` if given), left when the block ends."""
    sandbox = Sandbox(
        mode or cast("ModeName", settings.mode),
        record_failures=settings.record_failures,
        delayed=settings.delayed,
        start=settings.start,
        strict=settings.strict,
    )
    with sandbox:
        yield sandbox


def unique_namespace() -> str:
    """A namespace no other test uses, even across pytest-xdist workers and machines."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"resque-test:{worker}:{uuid.uuid4().hex[:12]}"


@dataclass
class RealWorld:
    """Real mode: a ``Resque`` on a real Redis, in a namespace of its own, with a virtual clock that
    moves its delayed jobs as a scheduler would (see :class:`~resque_impl.testing.timeline.Timeline`)."""

    resque: Resque
    clock: VirtualClock

    def __post_init__(self) -> None:
        scheduler = Scheduler(self.resque)
        self.clock.on_move(Timeline(self.clock, lambda: [scheduler]).step_to)

    def cleanup(self) -> None:
        """Delete every key of the namespace (and nothing else: the server may be shared)."""
        client = self.resque.redis
        for pattern in self.resque.keys.patterns:
            batch = list(client.scan_iter(match=pattern, count=1000))
            for start in range(0, len(batch), 500):
                client.delete(*batch[start : start + 500])


@contextmanager
def real_world(url: str, settings: PluginSettings) -> Iterator[RealWorld]:
    """A :class:`RealWorld` on ``url``, cleaned up afterwards."""
    clock = VirtualClock(settings.start)
    world = RealWorld(Resque(url, store=None, namespace=unique_namespace(), clock=clock), clock)
    try:
        yield world
    finally:
        world.cleanup()
        world.resque.redis.close()
