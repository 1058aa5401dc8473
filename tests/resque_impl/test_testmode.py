"""The process-wide test-mode switch: what Resque uses while a mode is active, nesting and threads."""

from __future__ import annotations

import threading

import fakeredis
import pytest

from resque_impl import ManualClock, ModeConflictError, Resque, testmode
from resque_impl.client import Resque as ClientResque
from resque_impl.failure import RedisBackend
from resque_impl.keys import Keys
from resque_impl.store import Store


class RecordingMode:
    """A minimal mode: one store and clock for every instance, and a count of lookups."""

    def __init__(self) -> None:
        self.store = Store(fakeredis.FakeRedis(), Keys())
        self.clock = ManualClock(1_000.0)
        self.lookups = 0

    def overrides(self, resque: ClientResque) -> testmode.Overrides:
        self.lookups += 1
        return testmode.Overrides(self.store, self.clock, RedisBackend(self.store, self.clock))


@pytest.fixture
def mode() -> RecordingMode:
    return RecordingMode()


def test_without_a_mode_an_instance_uses_what_it_was_built_with() -> None:
    own = Store(fakeredis.FakeRedis(), Keys())
    clock = ManualClock(5.0)
    resque = Resque(store=own, clock=clock)
    assert testmode.active is None
    assert resque.store is own
    assert resque.clock is clock


def test_an_active_mode_supplies_store_clock_and_failures_to_existing_instances(mode: RecordingMode) -> None:
    built_before = Resque("redis://127.0.0.1:1/0")  # unreachable: any command sent to it would fail
    testmode.activate(mode)
    try:
        assert built_before.store is mode.store
        assert built_before.clock is mode.clock
        assert built_before.enqueue_to("email", "SomeRubyJob", 1) is True
        assert built_before.failures.count() == 0
    finally:
        testmode.deactivate(mode)
    assert mode.store.queue_size("email") == 1
    assert built_before.store is not mode.store


def test_modes_nest_in_one_thread_and_the_innermost_wins(mode: RecordingMode) -> None:
    inner = RecordingMode()
    testmode.activate(mode)
    testmode.activate(inner)
    try:
        assert testmode.active is inner
        assert testmode.stack() == [mode, inner]
    finally:
        testmode.deactivate(inner)
    assert testmode.active is mode
    testmode.deactivate(mode)
    assert testmode.active is None


def test_leaving_modes_out_of_order_is_refused(mode: RecordingMode) -> None:
    inner = RecordingMode()
    testmode.activate(mode)
    testmode.activate(inner)
    try:
        with pytest.raises(ModeConflictError, match="not the innermost"):
            testmode.deactivate(mode)
    finally:
        testmode.deactivate(inner)
        testmode.deactivate(mode)


def test_another_thread_cannot_activate_a_mode_while_one_is_active(mode: RecordingMode) -> None:
    errors: list[BaseException] = []

    def activate_elsewhere() -> None:
        try:
            testmode.activate(RecordingMode())
        except ModeConflictError as error:
            errors.append(error)

    testmode.activate(mode)
    try:
        thread = threading.Thread(target=activate_elsewhere, name="intruder")
        thread.start()
        thread.join()
    finally:
        testmode.deactivate(mode)
    assert len(errors) == 1
    assert "already active" in str(errors[0])
    assert "MainThread" in str(errors[0])


def test_other_threads_see_the_active_mode(mode: RecordingMode) -> None:
    resque = Resque("redis://127.0.0.1:1/0")
    seen: list[object] = []
    testmode.activate(mode)
    try:
        thread = threading.Thread(target=lambda: seen.append(resque.store))
        thread.start()
        thread.join()
    finally:
        testmode.deactivate(mode)
    assert seen == [mode.store]


def test_once_every_mode_is_left_another_thread_may_activate_one(mode: RecordingMode) -> None:
    testmode.activate(mode)
    testmode.deactivate(mode)
    done: list[bool] = []

    def activate_elsewhere() -> None:
        other = RecordingMode()
        testmode.activate(other)
        testmode.deactivate(other)
        done.append(True)

    thread = threading.Thread(target=activate_elsewhere)
    thread.start()
    thread.join()
    assert done == [True]
