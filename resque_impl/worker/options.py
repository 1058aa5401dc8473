"""A worker's settings, with Ruby Resque's defaults, and how to read them from Ruby's environment variables.

=================================  ================================  ======================================
setting                            environment variable              meaning
=================================  ================================  ======================================
``fork_per_job`` (True)            ``FORK_PER_JOB`` (``false``)      run each job in a forked child
``prefork`` (True)                 ``RESQUE_PREFORK`` (``false``)    a fork server forks the children,
                                                                     each ahead of its job (not with
                                                                     ``before_fork`` hooks)
``reliable`` (True)                ``RESQUE_RELIABLE`` (``false``)   reliable fetch; off = Ruby's LPOP
``interval`` (5.0)                 ``INTERVAL``                      seconds between polls when idle
``burst`` (False)                  ``INTERVAL=0``                    drain the queues, then return
``heartbeat_interval`` (60)        ``RESQUE_HEARTBEAT_INTERVAL``     seconds between heartbeats
``stale_after`` (5 x heartbeat)    ``RESQUE_PRUNE_INTERVAL``         heartbeat age at which a worker is dead
``max_recoveries`` (3)             ``RESQUE_MAX_RECOVERIES``         recoveries before a job is poison
``job_timeout`` (None)             ``RESQUE_JOB_TIMEOUT``            seconds a job may run (or class attr)
``term_child`` (False)             ``TERM_CHILD``                    TERM the child, then KILL after timeout
``term_timeout`` (4.0)             ``RESQUE_TERM_TIMEOUT``           seconds between that TERM and KILL
``pre_shutdown_timeout`` (0.0)     ``RESQUE_PRE_SHUTDOWN_TIMEOUT``   seconds a job may finish before TERM
``graceful_term`` (False)          ``GRACEFUL_TERM``                 TERM finishes the job first, like QUIT
``max_jobs`` (None)                ``RESQUE_MAX_JOBS``               exit (code 0) after this many jobs
``max_memory_mb`` (None)           ``RESQUE_MAX_MEMORY``             stop a job whose process's RSS goes
                                                                     past this; exit (code 0) when the
                                                                     worker's own RSS is past it
``notify`` (True)                  ``RESQUE_NOTIFY`` (``false``)     wake on producers' pub/sub notices
``job_metrics`` (True)             ``RESQUE_JOB_METRICS``            record per-class job metrics in
                                   (``false``)                       Redis (:mod:`resque_impl.job_metrics`)
``reconnect_max_delay`` (2.0)                                        longest pause between tries to reach
                                                                     Redis (so a worker is back at work
                                                                     within about 2 s of Redis)
=================================  ================================  ======================================

Boolean variables are true when set to anything but ``""``, ``0``, ``false`` or ``no`` (Ruby treats any
value as true, even ``false``; we read it as meant).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from resque_impl.errors import ConfigurationError

__all__ = ["WorkerOptions", "env_flag"]

_FALSE = frozenset({"", "0", "false", "no", "off"})


def env_flag(value: str | None) -> bool | None:
    """``None`` when unset, else whether the text means true."""
    if value is None:
        return None
    return value.strip().lower() not in _FALSE


def _number(environ: Mapping[str, str], name: str) -> float | None:
    text = environ.get(name)
    if text is None or not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise ConfigurationError(f"{name}={text!r} is not a number") from None


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker behaves; see the module docstring for each field and its environment variable."""

    fork_per_job: bool = True
    prefork: bool = True
    reliable: bool = True
    interval: float = 5.0
    burst: bool = False
    heartbeat_interval: float = 60.0
    stale_after: float | None = None
    max_recoveries: int = 3
    job_timeout: float | None = None
    term_child: bool = False
    term_timeout: float = 4.0
    pre_shutdown_timeout: float = 0.0
    graceful_term: bool = False
    max_jobs: int | None = None
    max_memory_mb: float | None = None
    notify: bool = True
    job_metrics: bool = True
    reconnect_max_delay: float = 2.0

    def __post_init__(self) -> None:
        for name in ("interval", "heartbeat_interval", "term_timeout", "pre_shutdown_timeout"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.heartbeat_interval == 0:
            raise ConfigurationError("heartbeat_interval must be positive")
        for name in ("stale_after", "job_timeout", "max_memory_mb"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ConfigurationError(f"{name} must be positive, got {value}")
        if self.max_jobs is not None and self.max_jobs <= 0:
            raise ConfigurationError(f"max_jobs must be positive, got {self.max_jobs}")
        if self.max_recoveries < 0:
            raise ConfigurationError(f"max_recoveries must not be negative, got {self.max_recoveries}")

    @property
    def prune_after(self) -> float:
        """Heartbeat age past which a worker counts as dead (Ruby: five heartbeat intervals)."""
        return self.stale_after if self.stale_after is not None else 5 * self.heartbeat_interval

    def replace(self, **changes: Any) -> WorkerOptions:
        """A copy with ``changes`` applied (``None`` values are ignored, so CLI options can be passed as is)."""
        return dataclasses.replace(self, **{key: value for key, value in changes.items() if value is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str], base: WorkerOptions | None = None) -> WorkerOptions:
        """``base`` (default: the defaults) with the settings found in ``environ`` applied."""
        flags = {
            "fork_per_job": env_flag(environ.get("FORK_PER_JOB")),
            "prefork": env_flag(environ.get("RESQUE_PREFORK")),
            "reliable": env_flag(environ.get("RESQUE_RELIABLE")),
            "term_child": env_flag(environ.get("TERM_CHILD")),
            "graceful_term": env_flag(environ.get("GRACEFUL_TERM")),
            "notify": env_flag(environ.get("RESQUE_NOTIFY")),
            "job_metrics": env_flag(environ.get("RESQUE_JOB_METRICS")),
        }
        numbers = {
            "interval": _number(environ, "INTERVAL"),
            "heartbeat_interval": _number(environ, "RESQUE_HEARTBEAT_INTERVAL"),
            "stale_after": _number(environ, "RESQUE_PRUNE_INTERVAL"),
            "job_timeout": _number(environ, "RESQUE_JOB_TIMEOUT"),
            "term_timeout": _number(environ, "RESQUE_TERM_TIMEOUT"),
            "pre_shutdown_timeout": _number(environ, "RESQUE_PRE_SHUTDOWN_TIMEOUT"),
            "max_memory_mb": _number(environ, "RESQUE_MAX_MEMORY"),
        }
        counts = {
            "max_recoveries": _number(environ, "RESQUE_MAX_RECOVERIES"),
            "max_jobs": _number(environ, "RESQUE_MAX_JOBS"),
        }
        changes: dict[str, Any] = {**flags, **numbers}
        changes.update({key: int(value) for key, value in counts.items() if value is not None})
        if numbers["interval"] == 0:
            changes["burst"] = True
        return (base or cls()).replace(**changes)
