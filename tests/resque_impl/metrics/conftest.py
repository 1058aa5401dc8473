"""A namespace with something in every corner the exporters report on."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from resque_impl import ManualClock, Resque
from resque_impl.codec import Payload
from tests.conftest import FIXTURE_EPOCH

WORKERS = ("vm:1:email", "vm:2:*")


def register_workers(store: Any, busy: str) -> None:
    """Two registered workers, one of them working on a job."""
    for worker in WORKERS:
        store.register_worker(worker, "2026-11-27 23:43:29 +0000")
    store.set_working_on(busy, b'{"queue":"email","run_at":"2026-11-27T23:43:29Z","payload":{"class":"J","args":[1]}}')


@pytest.fixture
def populated(store: Any, clock: ManualClock) -> Resque:
    stamped = Resque(store=store, clock=clock, enqueued_at=True)
    plain = Resque(store=store, clock=clock)
    plain.enqueue_at_with_queue("later", FIXTURE_EPOCH + 10, "EmailJob", 9)  # overdue once 30 s pass
    plain.enqueue_at_with_queue("later", FIXTURE_EPOCH + 3600, "EmailJob", 10)
    plain.enqueue_at_with_queue("later", FIXTURE_EPOCH + 3600, "EmailJob", 11)
    stamped.enqueue_to("email", "EmailJob", 1)  # enqueued at FIXTURE_EPOCH
    clock.advance(30)
    stamped.enqueue_to("email", "EmailJob", 2)
    plain.enqueue_to("ruby", "RubyJob", 1)  # no enqueued_at: no age reported
    plain.enqueue_to("ruby", "RubyJob", 2)
    store.incr_stat("processed", 40)
    store.incr_stat("failed", 3)
    plain.record_failure("email", Payload("EmailJob", [5]), ValueError("bad"), worker="vm:1:email")
    register_workers(store, busy="vm:1:email")
    store.lock_acquire(store.keys.scheduler_master_lock, "vm:77", 180)
    for seconds, bucket in ((0.2, "le:0.25"), (0.4, "le:0.5"), (3.0, "le:5.0")):
        store.record_duration("Admin::Report", seconds, bucket)
    return plain


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2)
    yield sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every line that arrives until the socket has been quiet for a moment (loopback is instant)."""
    lines: list[str] = []
    sock.settimeout(0.1)
    try:
        while True:
            lines.extend(sock.recv(65536).decode().splitlines())
    except TimeoutError:
        return lines
