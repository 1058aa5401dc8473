"""Timing: each run's duration lands in its class's histogram, and optionally in a statsd timer."""

from __future__ import annotations

import pytest

from resque_impl import Job, Resque
from resque_impl.default import current
from resque_impl.plugins import Timing, bucket_label
from tests.resque_impl.plugins.conftest import work_off


class Recorder:
    def __init__(self) -> None:
        self.timers: list[tuple[str, float]] = []

    def timing(self, name: str, milliseconds: float) -> None:
        self.timers.append((name, milliseconds))


class TimedReport(Timing, Job):
    queue = "reports"
    name = "Reports::Monthly"

    @classmethod
    def perform(cls, seconds: float) -> None:
        current().clock.sleep(seconds)  # the manual clock: time passes at once
        if seconds > 100:
            raise TimeoutError("too slow")


def test_each_run_is_counted_in_its_bucket(r: Resque) -> None:
    for seconds in (0.3, 0.4, 2.0, 7200):
        r.enqueue(TimedReport, seconds)
    assert work_off(r, "reports") == ["performed", "performed", "performed", "failed"]

    histogram = r.store.durations()["Reports::Monthly"]
    assert histogram["le:0.5"] == "2"
    assert histogram["le:2.5"] == "1"
    assert histogram["le:+Inf"] == "1"
    assert histogram["count"] == "4"
    assert float(histogram["sum"]) == pytest.approx(7202.7)


def test_timers_go_to_statsd_when_configured(r: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    recorder = Recorder()
    monkeypatch.setattr(TimedReport, "timing_statsd", recorder)
    r.enqueue(TimedReport, 1.5)
    work_off(r, "reports")
    assert recorder.timers == [("jobs.Reports::Monthly.duration", pytest.approx(1500.0))]


@pytest.mark.parametrize(
    ("seconds", "label"), [(0.0, "le:0.005"), (0.005, "le:0.005"), (1.0, "le:1.0"), (1e9, "le:+Inf")]
)
def test_bucket_labels(seconds: float, label: str) -> None:
    assert bucket_label(seconds) == label
