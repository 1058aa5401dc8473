"""How a job's child reports its outcome to its parent: framed, so that the parent knows when it is whole."""

from __future__ import annotations

import pickle

import pytest

from resque_impl.events import Event
from resque_impl.worker.outcome import PERFORMED, SKIPPED
from resque_impl.worker.report import frame, read, unframe


@pytest.mark.parametrize("seconds", [0.0, 0.25, 1e-9, 3600.5])
def test_a_common_outcome_travels_in_nine_bytes_with_its_perform_time(seconds: float) -> None:
    framed = frame(PERFORMED.timed(seconds))
    assert len(framed) == 9
    report = unframe(framed)
    assert report is not None
    outcome = read(report)
    assert outcome == PERFORMED
    assert outcome is not None
    assert outcome.perform_time == seconds


def test_a_short_report_is_not_whole_until_its_ninth_byte() -> None:
    framed = frame(SKIPPED.timed(1.5))
    assert [unframe(framed[:n]) for n in range(1, 9)] == [None] * 8
    assert unframe(framed + b"junk") == framed


def test_an_outcome_without_a_perform_time_keeps_none() -> None:
    report = unframe(frame(SKIPPED))
    assert report is not None
    outcome = read(report)
    assert outcome == SKIPPED
    assert outcome is not None
    assert outcome.perform_time is None


def test_an_outcome_carrying_events_travels_pickled_with_them() -> None:
    events = (Event("job.retried", {"count": 1}, {"class": "Feed"}),)
    framed = frame(PERFORMED.timed(0.5).with_events(events))
    assert framed[:1] == b"O"
    report = unframe(framed)
    assert report is not None
    outcome = pickle.loads(report)
    assert (outcome.status, outcome.perform_time, outcome.events) == ("performed", 0.5, events)


def test_a_report_that_carries_no_outcome_reads_as_none() -> None:
    assert read(b"") is None
    assert read(pickle.dumps("not an outcome")) is None
    assert read(b"not a pickle") is None


def test_events_that_cannot_be_pickled_are_dropped_and_the_outcome_still_travels() -> None:
    events = (Event("job.custom", {}, {"handle": lambda: None}),)
    report = unframe(frame(PERFORMED.timed(0.5).with_events(events)))
    assert report is not None
    outcome = read(report)
    assert outcome == PERFORMED
    assert outcome is not None
    assert outcome.perform_time == 0.5
