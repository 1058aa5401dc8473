"""How a job's child reports its outcome (framing), and how one that reported nothing is described,
on real children."""

from __future__ import annotations

import os
import pickle
import signal

import pytest

from resque_impl.events import Event
from resque_impl.worker.forking import _frame, _short_outcome, _unframe, describe_end
from resque_impl.worker.outcome import PERFORMED, SKIPPED


def _child_ending(how: int | None) -> tuple[int, int]:
    """Fork a child that kills itself with signal ``how`` (or exits 3 for ``None``); its pid and status."""
    pid = os.fork()
    if pid == 0:
        try:
            if how is not None:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [how])
                os.kill(os.getpid(), how)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return pid, status


def test_a_child_killed_by_a_signal_is_described_as_ruby_prints_its_process_status() -> None:
    # Ruby Resque: DirtyExit.new("Child process received unhandled signal #{$?}"), $? a Process::Status.
    pid, status = _child_ending(signal.SIGKILL)
    assert describe_end(pid, status) == f"Child process received unhandled signal pid {pid} SIGKILL (signal 9)"


def test_a_real_time_signal_has_no_name_as_in_ruby() -> None:
    number = signal.SIGRTMIN + 1
    pid, status = _child_ending(number)
    assert describe_end(pid, status) == f"Child process received unhandled signal pid {pid} signal {number}"


def test_a_child_that_exited_is_described_by_its_status() -> None:
    pid, status = _child_ending(None)
    assert describe_end(pid, status) == "Child process exited with status 3 before reporting a result"


@pytest.mark.parametrize("seconds", [0.0, 0.25, 1e-9, 3600.5])
def test_a_common_outcome_travels_in_nine_bytes_with_its_perform_time(seconds: float) -> None:
    framed = _frame(PERFORMED.timed(seconds))
    assert len(framed) == 9
    report = _unframe(framed)
    assert report is not None
    outcome = _short_outcome(report)
    assert outcome == PERFORMED
    assert outcome is not None
    assert outcome.perform_time == seconds


def test_a_short_report_is_not_whole_until_its_ninth_byte() -> None:
    framed = _frame(SKIPPED.timed(1.5))
    assert [_unframe(framed[:n]) for n in range(1, 9)] == [None] * 8
    assert _unframe(framed + b"junk") == framed


def test_an_outcome_without_a_perform_time_keeps_none() -> None:
    report = _unframe(_frame(SKIPPED))
    assert report is not None
    outcome = _short_outcome(report)
    assert outcome == SKIPPED
    assert outcome is not None
    assert outcome.perform_time is None


def test_an_outcome_carrying_events_travels_pickled_with_them() -> None:
    events = (Event("job.retried", {"count": 1}, {"class": "Feed"}),)
    framed = _frame(PERFORMED.timed(0.5).with_events(events))
    assert framed[:1] == b"O"
    report = _unframe(framed)
    assert report is not None
    outcome = pickle.loads(report)
    assert (outcome.status, outcome.perform_time, outcome.events) == ("performed", 0.5, events)


def test_events_that_cannot_be_pickled_are_dropped_and_the_outcome_still_travels() -> None:
    events = (Event("job.custom", {}, {"handle": lambda: None}),)
    report = _unframe(_frame(PERFORMED.timed(0.5).with_events(events)))
    assert report is not None
    outcome = _short_outcome(report)
    assert outcome == PERFORMED
    assert outcome is not None
    assert outcome.perform_time == 0.5
