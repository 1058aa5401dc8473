"""statsd options shared by commands: ``HOST:PORT`` parsing, and a worker's per-job counters and timers.

``resque-impl work --statsd HOST:PORT`` (or ``RESQUE_STATSD``) subscribes a
:class:`~resque_impl.metrics.StatsdEvents` to the worker's job-event stream, so every job the worker
reserves, runs, retries or fails is counted and timed with no code; ``resque-impl metrics --statsd``
sends the gauges read from Redis.
"""

from __future__ import annotations

import click

from resque_impl.cli.job_modules import require_extra
from resque_impl.client import Resque
from resque_impl.events import ALL_EVENTS

__all__ = ["attach_statsd_events", "statsd_address"]


def statsd_address(text: str, option: str = "--statsd") -> tuple[str, int]:
    """``HOST:PORT`` (IPv6 hosts in brackets) as a pair; a usage error names ``option`` otherwise."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:8125", param_hint=option)
    return host.strip("[]"), int(port)


def attach_statsd_events(resque: Resque, address: tuple[str, int], prefix: str) -> None:
    """Send ``resque``'s job events to the statsd server at ``address`` (see :func:`statsd_address`)."""
    metrics = require_extra("resque_impl.metrics", "metrics")
    client = metrics.StatsdClient(*address, prefix=prefix)
    resque.events.subscribe(ALL_EVENTS, metrics.StatsdEvents(client))
