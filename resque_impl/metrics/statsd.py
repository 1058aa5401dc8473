"""A small statsd client (UDP, fire and forget) and a reporter that sends Resque's gauges.

::

    client = StatsdClient("127.0.0.1", 8125, prefix="resque")
    StatsdReporter(resque, client).report()     # call every few seconds (resque-impl metrics --statsd)

Gauges sent by :meth:`StatsdReporter.report` (after the prefix): ``queues.<queue>.depth``,
``queues.<queue>.oldest_age`` (ms; stamped payloads only), ``workers.total``, ``workers.busy``,
``jobs.processed``, ``jobs.failed``, ``failed.records``, ``delayed.jobs``, ``delayed.overdue`` (ms).
The Timing plugin sends ``jobs.<class>.duration`` timers through the same client. Characters statsd
reserves (``:``, ``|``, ``@``, spaces) in queue and class names become ``_``.
"""

from __future__ import annotations

import contextlib
import re
import socket
from collections.abc import Iterable

from resque_impl.client import Resque
from resque_impl.metrics.snapshot import take_snapshot

__all__ = ["StatsdClient", "StatsdReporter"]

_RESERVED = re.compile(r"[^A-Za-z0-9_.\-]")
_PACKET = 1400  # stay under a typical MTU


class StatsdClient:
    """Sends statsd metrics over UDP; a send that fails is dropped, as statsd intends."""

    def __init__(self, host: str = "127.0.0.1", port: int = 8125, prefix: str = "resque") -> None:
        self.address = (host, port)
        self.prefix = prefix.rstrip(".")
        self._socket = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)

    def _name(self, name: str) -> str:
        clean = _RESERVED.sub("_", name)
        return f"{self.prefix}.{clean}" if self.prefix else clean

    def send(self, lines: Iterable[str]) -> None:
        """Send metric lines, packed into as few datagrams as fit."""
        packet = ""
        for line in lines:
            if packet and len(packet) + 1 + len(line) > _PACKET:
                self._send(packet)
                packet = ""
            packet = f"{packet}\n{line}" if packet else line
        if packet:
            self._send(packet)

    def _send(self, packet: str) -> None:
        with contextlib.suppress(OSError):  # best effort: a lost metric never stops a worker or scheduler
            self._socket.sendto(packet.encode(), self.address)

    def gauge_line(self, name: str, value: float) -> str:
        return f"{self._name(name)}:{value:g}|g"

    def gauge(self, name: str, value: float) -> None:
        self.send([self.gauge_line(name, value)])

    def timing(self, name: str, milliseconds: float) -> None:
        self.send([f"{self._name(name)}:{milliseconds:.3f}|ms"])

    def incr(self, name: str, count: int = 1) -> None:
        self.send([f"{self._name(name)}:{count}|c"])

    def close(self) -> None:
        self._socket.close()


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
