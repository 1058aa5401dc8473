"""Dynamic schedules: stored as resque-scheduler 5.0 stores them, read by a scheduler run dynamic."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from resque_impl import ManualClock, Resque
from resque_impl.errors import ScheduleError
from resque_impl.scheduler import MasterLock, Scheduler, parse_schedule
from tests.resque_impl.test_store import snapshot


@pytest.fixture
def r(store: Any, clock: ManualClock) -> Resque:
    return Resque(store=store, clock=clock)


def test_a_schedule_is_stored_as_resque_scheduler_stores_it(r: Resque) -> None:
    r.set_schedule("cleanup", {"class": "CleanupJob", "every": "1h", "queue": "low", "args": [7], "persist": True})

    assert snapshot(r.store) == {
        "resque:persistent_schedules": {
            "type": "hash",
            "value": {"cleanup": '{"class":"CleanupJob","every":"1h","queue":"low","args":[7]}'},
        },
        "resque:schedules_changed": {"type": "set", "value": ["cleanup"]},
    }
    assert r.fetch_schedule("cleanup") == {"class": "CleanupJob", "every": "1h", "queue": "low", "args": [7]}


def test_remove_flags_the_change_too(r: Resque) -> None:
    r.set_schedule("a", {"cron": "* * * * *", "queue": "q"})
    assert r.store.schedules_changed_take() == ["a"]
    assert r.store.schedules_changed_take() == []

    r.remove_schedule("a")

    assert r.dynamic_schedules() == {}
    assert r.store.schedules_changed_take() == ["a"]


@pytest.mark.parametrize(
    ("name", "config", "message"),
    [
        ("", {"every": "1h"}, "non-empty string"),
        ("x", ["every", "1h"], "mapping with string keys"),
        ("x", {"every": "1h", "persist": False}, "non-persistent"),
        ("x", {"every": "1h", "args": [{1}]}, r"schedule 'x'\[0\]\[\"args\"\]\[0\]: set"),
    ],
)
def test_bad_definitions_are_refused(r: Resque, name: str, config: Any, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        r.set_schedule(name, config)


def dynamic_scheduler(r: Resque, file_entries: dict[str, Any] | None = None) -> Scheduler:
    return Scheduler(r, parse_schedule(file_entries or {}), lock=MasterLock(r.store, identity="a:1"), dynamic=True)


def test_a_dynamic_scheduler_runs_added_schedules_and_drops_removed_ones(r: Resque, clock: ManualClock) -> None:
    process = dynamic_scheduler(r)
    process.poll()
    r.set_schedule("beat", {"class": "BeatJob", "every": "10s", "queue": "beats"})
    process.poll()  # picks the change up and anchors the schedule
    clock.advance(10)
    process.poll()
    assert r.size("beats") == 1

    r.remove_schedule("beat")
    process.poll()
    clock.advance(30)
    process.poll()
    assert r.size("beats") == 1
    assert process.recurring.entries == []


def test_dynamic_schedules_win_over_file_entries_and_bad_ones_are_skipped(
    r: Resque, caplog: pytest.LogCaptureFixture
) -> None:
    r.set_schedule("report", {"class": "Report", "cron": "0 * * * *", "queue": "dynamic"})
    r.set_schedule("broken", {"class": "Broken", "cron": "not a cron", "queue": "q"})
    r.set_schedule("nowhere", {"class": "Unknown::Job", "every": "1h"})
    process = dynamic_scheduler(r, {"report": {"class": "Report", "cron": "0 * * * *", "queue": "file"}})

    with caplog.at_level(logging.ERROR):
        process.poll()

    assert [(entry.name, entry.queue) for entry in process.recurring.entries] == [("report", "dynamic")]
    assert "dynamic schedule 'broken' skipped" in caplog.text
    assert "dynamic schedule 'nowhere' skipped: schedule entry 'nowhere': no queue" in caplog.text


def test_a_scheduler_not_run_dynamic_ignores_them(r: Resque) -> None:
    r.set_schedule("beat", {"class": "BeatJob", "every": "10s", "queue": "beats"})
    process = Scheduler(r, lock=MasterLock(r.store, identity="a:1"))
    process.poll()
    assert process.recurring.entries == []
    assert r.store.schedules_changed_take() == ["beat"]  # left for a dynamic scheduler
