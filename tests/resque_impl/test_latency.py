"""Queue latency: the age of each queue's oldest job, read from its producer's ``enqueued_at`` stamp."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock, QueueLatency, Resque
from resque_impl.latency import enqueued_at_of, latency_of
from tests.conftest import FIXTURE_EPOCH


def test_a_stamped_queue_reports_how_long_its_oldest_job_has_waited(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock, enqueued_at=True)
    r.enqueue_to("email", "EmailJob", 1)
    clock.advance(30)
    r.enqueue_to("email", "EmailJob", 2)
    clock.advance(12.5)

    latency = r.queue_latency("email")

    assert latency == QueueLatency("email", 42.5, "stamped", FIXTURE_EPOCH)
    assert latency.known


def test_taking_the_oldest_job_moves_the_latency_to_the_next_one(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock, enqueued_at=True)
    r.enqueue_to("email", "EmailJob", 1)
    clock.advance(30)
    r.enqueue_to("email", "EmailJob", 2)
    clock.advance(10)
    store.fetch("vm:1:email", ["email"], "2026-11-27T23:44:09Z", reliable=True)  # a worker reserves it

    assert r.queue_latency("email").seconds == 10


def test_an_empty_queue_has_no_latency(store: Any, clock: ManualClock) -> None:
    assert Resque(store=store, clock=clock).queue_latency("nothing") == QueueLatency("nothing", 0.0, "empty")


def test_a_job_pushed_without_a_stamp_makes_the_latency_unknown(store: Any, clock: ManualClock) -> None:
    stamped, plain = Resque(store=store, clock=clock, enqueued_at=True), Resque(store=store, clock=clock)
    plain.enqueue_to("mixed", "RubyJob", 1)  # as Ruby Resque writes it: no enqueued_at
    stamped.enqueue_to("mixed", "EmailJob", 2)

    latency = stamped.queue_latency("mixed")

    assert (latency.seconds, latency.state, latency.known) == (None, "unknown", False)


def test_every_queue_in_one_call(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock, enqueued_at=True)
    r.enqueue_to("a", "J", 1)
    store.push("b", b'{"class":"J","args":[]}')  # as Ruby Resque writes it
    clock.advance(5)

    latencies = r.queue_latencies()

    assert {name: latency.state for name, latency in latencies.items()} == {"a": "stamped", "b": "unknown"}
    assert r.queue_latencies(["a", "none"])["none"].state == "empty"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b'["a list"]',
        b'{"class":"J","args":[],"enqueued_at":"yesterday"}',
        b'{"class":"J","args":[],"enqueued_at":true}',
        b'{"class":"J","args":[],"enqueued_at":null}',
        b'{"class":"J","args":[],"enqueued_at":1e999}',
        b'{"class":"J","args":[],"enqueued_at":NaN}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_a_head_without_a_usable_stamp_is_unknown_never_an_error(raw: bytes) -> None:
    assert enqueued_at_of(raw) is None
    assert latency_of("q", raw, FIXTURE_EPOCH).state == "unknown"


def test_a_stamp_from_a_clock_ahead_of_ours_counts_as_no_wait() -> None:
    raw = b'{"class":"J","args":[],"enqueued_at":%d}' % (FIXTURE_EPOCH + 3)
    assert latency_of("q", raw, FIXTURE_EPOCH).seconds == 0.0


def test_the_json_form() -> None:
    assert QueueLatency("q", 1.5, "stamped", 100.0).as_json() == {
        "queue": "q",
        "seconds": 1.5,
        "state": "stamped",
        "enqueued_at": 100.0,
    }
