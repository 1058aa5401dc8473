"""Throughput history: processed and failed per UTC day and per UTC minute, junk skipped and counted."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import MAX_DAYS, JobMetricsRecorder, read_history
from resque_impl.store.memory import MemoryStore


@pytest.fixture
def recorded(store: Any, clock: ManualClock) -> Any:
    """Three jobs (one failed) on the fixture's day, two (one failed) the next day a minute apart; the
    clock ends on that next day."""
    if isinstance(store, MemoryStore):
        store.clock = clock
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock).attach(bus)
    for name in (JOB_FINISHED, JOB_FINISHED, JOB_FAILED):
        bus.emit(name, {"run_time": 0.1}, {"class": "Mail"})
    recorder.flush()
    clock.advance(86400 - 60)
    bus.emit(JOB_FINISHED, {"run_time": 0.1}, {"class": "Mail"})
    clock.advance(60)
    bus.emit(JOB_FAILED, {"run_time": 0.1}, {"class": "Report"})
    recorder.detach()
    return store


def test_per_day_oldest_first(recorded: Any, clock: ManualClock) -> None:
    history = read_history(recorded, clock.time(), "day", 3)

    assert [(p.processed, p.failed) for p in history.points] == [(0, 0), (3, 1), (2, 1)]
    assert history.points[-1].at == "20261128"  # the fixture clock's next UTC day
    assert history.skipped == 0


def test_per_minute_over_the_last_minutes(recorded: Any, clock: ManualClock) -> None:
    history = read_history(recorded, clock.time(), "minute", 3)

    assert [(p.processed, p.failed) for p in history.points] == [(0, 0), (1, 0), (1, 1)]
    assert history.points[-1].at == "202611282343"
    assert history.as_json()["processed"] == 2


@pytest.mark.parametrize(
    "fields",
    [
        {"v": "2", "processed": "5"},
        {"processed": "5"},
        {"v": "1", "processed": "-5"},
        {"v": "1", "processed": "5", "failed": "lots"},
        {"v": "1", "processed": "\u0665"},  # ARABIC-INDIC DIGIT FIVE: int() takes it, the reader does not
    ],
)
def test_a_day_another_version_wrote_or_junk_is_skipped_and_counted(
    store: Any, clock: ManualClock, fields: dict[str, str]
) -> None:
    store.add_to_hashes({store.keys.job_metrics_day("20261127"): {}}, set_fields=fields)

    history = read_history(store, clock.time(), "day", 2)

    assert history.skipped == 1
    assert [(p.processed, p.failed) for p in history.points] == [(0, 0), (0, 0)]


def test_a_key_that_is_not_a_hash_is_skipped(store: Any, clock: ManualClock) -> None:
    store.push("x", b"job")
    day_key = store.keys.job_metrics_day("20261127")
    if isinstance(store, MemoryStore):
        store.lists[day_key] = [b"junk"]
    else:
        store.client.rpush(day_key, b"junk")

    assert read_history(store, clock.time(), "day", 1).skipped == 1


def test_windows_are_bounded(store: Any, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="between 1 and 90 for days"):
        read_history(store, clock.time(), "day", MAX_DAYS + 1)
    with pytest.raises(ValueError, match="between 1 and 360 for minutes"):
        read_history(store, clock.time(), "minute", 0)
