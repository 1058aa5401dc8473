"""The event bus: subscribing, unsubscribing, and subscribers that raise."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from resque_impl.events import JOB_FAILED, JOB_FINISHED, Event, EventBus, EventLog


def test_a_subscriber_receives_the_events_it_named_and_no_others() -> None:
    bus = EventBus()
    seen = EventLog()
    bus.subscribe([JOB_FINISHED], seen)
    bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail"})
    bus.emit(JOB_FAILED, {"run_time": 0.1}, {"class": "Mail"})
    assert seen.events == [Event(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail"})]


def test_listening_says_whether_an_event_has_subscribers() -> None:
    bus = EventBus()
    assert not bus.listening(JOB_FINISHED)
    subscription = bus.subscribe(JOB_FINISHED, lambda name, measurements, metadata: None)
    assert bus.listening(JOB_FINISHED)
    subscription.detach()
    assert not bus.listening(JOB_FINISHED)


def test_subscribing_one_handler_twice_delivers_each_event_once() -> None:
    bus = EventBus()
    seen = EventLog()
    bus.subscribe(JOB_FINISHED, seen)
    bus.subscribe(JOB_FINISHED, seen)
    bus.emit(JOB_FINISHED, {}, {})
    assert len(seen.events) == 1


def test_unsubscribe_without_names_removes_the_handler_everywhere() -> None:
    bus = EventBus()
    seen = EventLog()
    other = EventLog()
    bus.subscribe([JOB_FINISHED, JOB_FAILED], seen)
    bus.subscribe(JOB_FAILED, other)
    bus.unsubscribe(seen)
    bus.emit(JOB_FINISHED, {}, {})
    bus.emit(JOB_FAILED, {}, {})
    assert (seen.events, len(other.events)) == ([], 1)


def test_a_subscriber_that_raises_is_logged_and_detached_from_that_event_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = EventBus()
    calls: list[str] = []

    def broken(name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        calls.append(name)
        if name == JOB_FINISHED:
            raise RuntimeError("subscriber bug")

    after = EventLog()
    bus.subscribe([JOB_FINISHED, JOB_FAILED], broken)
    bus.subscribe(JOB_FINISHED, after)
    with caplog.at_level(logging.ERROR, logger="resque_impl.events"):
        bus.emit(JOB_FINISHED, {}, {})
    bus.emit(JOB_FINISHED, {}, {})
    bus.emit(JOB_FAILED, {}, {})
    assert calls == [JOB_FINISHED, JOB_FAILED]
    assert len(after.events) == 2  # the next subscriber still got both
    assert "subscriber bug" in caplog.text
    assert "detached" in caplog.text


def _handler() -> Callable[[str, Mapping[str, float], Mapping[str, Any]], None]:
    def handler(name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        return None

    return handler


def test_threads_subscribing_at_once_lose_no_subscription() -> None:
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, inside subscribe's update
    try:
        bus = EventBus()
        batches = [[_handler() for _ in range(300)] for _ in range(8)]

        def subscribe_all(handlers: list[Callable[[str, Mapping[str, float], Mapping[str, Any]], None]]) -> None:
            for handler in handlers:
                bus.subscribe((JOB_FINISHED, JOB_FAILED), handler)

        threads = [threading.Thread(target=subscribe_all, args=(batch,)) for batch in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert len(bus._handlers[JOB_FINISHED]) == len(bus._handlers[JOB_FAILED]) == 8 * 300


def test_capture_keeps_the_events_of_subscribed_names_for_delivery_elsewhere() -> None:
    bus = EventBus()
    seen = EventLog()
    bus.subscribe(JOB_FINISHED, seen)
    elsewhere = EventBus()
    elsewhere.subscribe(JOB_FINISHED, seen)

    captured = bus.capture()
    bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail"})
    assert not bus.listening(JOB_FAILED)  # emitters still skip the names nobody subscribed to
    assert seen.events == []

    elsewhere.deliver(captured)
    assert seen.events == [Event(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail"})]
