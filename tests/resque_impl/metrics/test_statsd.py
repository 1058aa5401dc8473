"""statsd: gauges and timers arrive at a real UDP socket in statsd's line format."""

from __future__ import annotations

import socket

from resque_impl import Resque
from resque_impl.metrics import StatsdClient, StatsdReporter
from tests.resque_impl.metrics.conftest import received


def test_the_reporter_sends_resques_gauges(populated: Resque, listener: socket.socket) -> None:
    client = StatsdClient(*listener.getsockname(), prefix="app.resque")
    StatsdReporter(populated, client).report()

    lines = set(received(listener))

    assert {
        "app.resque.queues.email.depth:2|g",
        "app.resque.queues.email.oldest_age:30000|g",
        "app.resque.queues.ruby.depth:2|g",
        "app.resque.workers.total:2|g",
        "app.resque.workers.busy:1|g",
        "app.resque.jobs.processed:40|g",
        "app.resque.jobs.failed:3|g",
        "app.resque.failed.records:1|g",
        "app.resque.delayed.jobs:3|g",
        "app.resque.delayed.overdue:20000|g",
    } <= lines
    assert not any("ruby.oldest_age" in line for line in lines)


def test_timers_counters_and_reserved_characters(listener: socket.socket) -> None:
    client = StatsdClient(*listener.getsockname())
    client.timing("jobs.Admin::Report.duration", 1500)
    client.incr("jobs.retried", 2)
    client.gauge("queues.a|b.depth", 3)

    assert received(listener) == [
        "resque.jobs.Admin__Report.duration:1500.000000|ms",
        "resque.jobs.retried:2|c",
        "resque.queues.a_b.depth:3|g",
    ]


def test_many_lines_are_packed_into_datagrams_under_the_mtu(listener: socket.socket) -> None:
    client = StatsdClient(*listener.getsockname(), prefix="")
    client.send([client.gauge_line(f"queue{n:04}.depth", n) for n in range(500)])
    datagrams = []
    while sum(len(datagram.splitlines()) for datagram in datagrams) < 500:
        datagrams.append(listener.recv(65536))
    assert all(len(datagram) <= 1400 for datagram in datagrams)
    assert sum(len(datagram.splitlines()) for datagram in datagrams) == 500


def test_an_unreachable_statsd_never_raises() -> None:
    client = StatsdClient("127.0.0.1", 1)
    client.gauge("x", 1)
    client.close()


def test_a_negative_gauge_is_set_not_decremented(listener: socket.socket) -> None:
    StatsdClient(*listener.getsockname()).gauge("drift", -3)
    assert received(listener) == ["resque.drift:0|g", "resque.drift:-3|g"]
