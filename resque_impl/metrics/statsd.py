"""A statsd client (the ``statsd`` library's, UDP, fire and forget) and a reporter that sends Resque's gauges.

::

    client = StatsdClient("127.0.0.1", 8125, prefix="resque")
    StatsdReporter(resque, client).report()     # call every few seconds (resque-impl metrics --statsd)
    resque.events.subscribe(ALL_EVENTS, StatsdEvents(client))   # per-job counters and timers, as they happen

Gauges sent by :meth:`StatsdReporter.report` (after the prefix): ``queues.<queue>.depth``,
``queues.<queue>.oldest_age`` (ms; 0 when empty, not sent when unknown), ``workers.total``, ``workers.busy``,
``jobs.processed``, ``jobs.failed``, ``failed.records``, ``delayed.jobs``, ``delayed.overdue`` (ms).
The Timing plugin sends ``jobs.<class>.duration`` timers through the same client, and
:class:`~resque_impl.metrics.statsd_events.StatsdEvents` the job-event stream's counters and timers.
Characters statsd reserves (``:``, ``|``, ``@``, spaces) in queue and class names become ``_``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import statsd

from resque_impl.client import Resque
from resque_impl.metrics.snapshot import take_snapshot

__all__ = ["Gauge", "StatsdClient", "StatsdReporter", "statsd_name"]

_RESERVED = re.compile(r"[^A-Za-z0-9_.\-]")
_PACKET = 1400  # stay under a typical MTU


def statsd_name(name: str) -> str:
    """``name`` with the characters statsd reserves replaced by ``_``."""
    return _RESERVED.sub("_", name)


class Gauge(NamedTuple):
    """A gauge to send in a batch with :meth:`StatsdClient.send`."""

    name: str
    value: float


class StatsdClient:
    """Sends statsd metrics over UDP through the ``statsd`` library's client; a send that fails is
    dropped, as statsd intends (the library never raises on a send)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8125, prefix: str = "resque") -> None:
        self.address = (host, port)
        self.prefix = prefix.rstrip(".")
        self._client = statsd.StatsClient(host, port, prefix=self.prefix or None, maxudpsize=_PACKET, ipv6=":" in host)

    def gauge_line(self, name: str, value: float) -> Gauge:
        """A gauge for :meth:`send` (batched with others into as few datagrams as fit)."""
        return Gauge(name, value)

    def send(self, gauges: Iterable[Gauge]) -> None:
        """Send gauges, packed into as few datagrams as fit under the MTU."""
        with self._client.pipeline() as pipe:
            for name, value in gauges:
                pipe.gauge(statsd_name(name), value)

    def gauge(self, name: str, value: float) -> None:
        self._client.gauge(statsd_name(name), value)

    def timing(self, name: str, milliseconds: float) -> None:
        self._client.timing(statsd_name(name), milliseconds)

    def incr(self, name: str, count: int = 1) -> None:
        self._client.incr(statsd_name(name), count)

    def close(self) -> None:
        self._client.close()


class StatsdReporter:
    """Sends a :class:`Resque`'s gauges to statsd on each :meth:`report`."""

    def __init__(self, resque: Resque, client: StatsdClient) -> None:
        self.resque = resque
        self.client = client

    def report(self) -> None:
        snap = take_snapshot(self.resque)
        gauge = self.client.gauge_line
        lines = []
        for name, queue in snap.queues.items():
            queue_name = _RESERVED.sub("_", name)
            lines.append(gauge(f"queues.{queue_name}.depth", queue.depth))
            if queue.oldest_age is not None:
                lines.append(gauge(f"queues.{queue_name}.oldest_age", round(queue.oldest_age * 1000)))
        lines += [
            gauge("workers.total", snap.workers),
            gauge("workers.busy", snap.busy_workers),
            gauge("jobs.processed", snap.processed),
            gauge("jobs.failed", snap.failed),
            gauge("failed.records", snap.failed_records),
            gauge("delayed.jobs", snap.delayed_jobs),
            gauge("delayed.overdue", round(snap.delayed_overdue * 1000)),
        ]
        self.client.send(lines)
