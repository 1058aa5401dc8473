"""Reading job metrics back: totals, rates, percentiles from the histogram, and junk skipped."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import (
    BUCKETS,
    MAX_MINUTES,
    JobMetricsRecorder,
    histogram_json,
    quantile,
    read_job_metrics,
)
from resque_impl.store.memory import MemoryStore


@pytest.fixture
def recorded(store: Any, clock: ManualClock) -> Any:
    """A store holding jobs of two classes over two minutes (the clock ends in the second)."""
    if isinstance(store, MemoryStore):
        store.clock = clock
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock).attach(bus)
    for run_time in (0.02, 0.02, 0.02, 0.2):
        bus.emit(JOB_FINISHED, {"run_time": run_time}, {"class": "Mail"})
    clock.advance(60)
    bus.emit(JOB_FAILED, {"run_time": 3.0}, {"class": "Report"})
    bus.emit(JOB_FINISHED, {"run_time": 0.02}, {"class": "Mail"})
    recorder.detach()
    return store


def empty_buckets() -> list[int]:
    return [0] * (len(BUCKETS) + 1)


def test_quantiles_interpolate_within_the_bucket_holding_the_rank() -> None:
    counts = empty_buckets()
    counts[BUCKETS.index(0.1)] = 10  # ten runs in (0.05, 0.1]
    assert quantile(0.5, tuple(counts)) == pytest.approx(0.075)
    assert quantile(1.0, tuple(counts)) == pytest.approx(0.1)


def test_a_quantile_in_the_overflow_bucket_is_the_largest_bound_and_none_when_empty() -> None:
    counts = empty_buckets()
    counts[-1] = 1
    assert quantile(0.99, tuple(counts)) == BUCKETS[-1]
    assert quantile(0.5, tuple(empty_buckets())) is None


def test_the_report_sums_each_class_over_the_minutes_busiest_first(recorded: Any, clock: ManualClock) -> None:
    report = read_job_metrics(recorded, clock.time(), 60)
    mail, rep = report.classes
    assert (mail.name, mail.executions, mail.failures, rep.name, rep.failures) == ("Mail", 5, 0, "Report", 1)
    assert mail.mean == pytest.approx(0.056)
    assert rep.failure_rate == 1.0
    assert 0.01 < mail.percentile(50) <= 0.025  # type: ignore[operator]
    assert 0.1 < mail.percentile(99) <= 0.25  # type: ignore[operator]
    assert report.skipped == 0


def test_the_report_counts_every_class_per_minute_for_the_throughput_chart(recorded: Any, clock: ManualClock) -> None:
    report = read_job_metrics(recorded, clock.time(), 3)
    assert [(m.minute, m.processed, m.failed) for m in report.per_minute] == [
        ("202611272342", 0, 0),
        ("202611272343", 4, 0),
        ("202611272344", 2, 1),
    ]


def test_one_minute_covers_only_the_current_one(recorded: Any, clock: ManualClock) -> None:
    (mail, rep) = read_job_metrics(recorded, clock.time(), 1).classes
    assert (mail.executions, rep.executions) == (1, 1)


@pytest.mark.parametrize(
    "junk",
    [
        {"v": "2", "processed": "1"},  # another version
        {"processed": "1"},  # no version
        {"v": "1", "executions:A": "lots"},
        {"v": "1", "le=0.3:A": "1"},  # a bucket bound this version does not have
        {"v": "1", "surprise": "1"},
        {"v": "1", "seconds:A": "nan"},
        {"v": "1", "failures:A": "-1"},
        None,
    ],
)
def test_a_minute_hash_with_junk_is_skipped_and_counted(
    recorded: Any, clock: ManualClock, junk: dict[str, Any] | None
) -> None:
    key = recorded.keys.job_metrics_minute("202611272344")
    if junk is None:  # not even a hash
        if isinstance(recorded, MemoryStore):
            recorded.hashes.pop(key)
            recorded.strings[key] = b"junk"
        else:
            recorded.client.delete(key)
            recorded.client.set(key, "junk")
    elif isinstance(recorded, MemoryStore):
        recorded.hashes[key] = {k.encode(): v.encode() for k, v in junk.items()}
    else:
        recorded.client.delete(key)
        recorded.client.hset(key, mapping=junk)
    report = read_job_metrics(recorded, clock.time(), 60)
    assert report.skipped == 1
    assert [(c.name, c.executions) for c in report.classes] == [("Mail", 4)]


def test_minutes_outside_the_kept_range_are_refused(recorded: Any, clock: ManualClock) -> None:
    for minutes in (0, MAX_MINUTES + 1):
        with pytest.raises(ValueError, match="minutes must be between 1 and 360"):
            read_job_metrics(recorded, clock.time(), minutes)


def test_one_class_per_minute_when_asked(recorded: Any, clock: ManualClock) -> None:
    report = read_job_metrics(recorded, clock.time(), 3, class_name="Report")
    assert [(m.processed, m.failed) for m in report.class_per_minute] == [(0, 0), (0, 0), (1, 1)]
    assert read_job_metrics(recorded, clock.time(), 3).class_per_minute == ()


def test_a_histogram_as_json_names_each_buckets_bounds() -> None:
    counts = empty_buckets()
    counts[0], counts[-1] = 2, 1
    found = histogram_json(tuple(counts))
    assert found[0] == {"gt": 0.0, "le": BUCKETS[0], "count": 2}
    assert found[-1] == {"gt": BUCKETS[-1], "le": None, "count": 1}
    assert len(found) == len(BUCKETS) + 1


@pytest.fixture
def half_hour(store: Any, clock: ManualClock) -> Any:
    """35 minutes of jobs: in minute n, n+1 runs of Mail (every third failed) and one of Report."""
    if isinstance(store, MemoryStore):
        store.clock = clock
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock).attach(bus)
    for n in range(35):
        for k in range(n + 1):
            bus.emit(JOB_FAILED if k % 3 == 0 else JOB_FINISHED, {"run_time": 0.001 * (k + 1)}, {"class": "Mail"})
        bus.emit(JOB_FINISHED, {"run_time": 1.5}, {"class": "Report"})
        recorder.flush()
        clock.advance(60)
    recorder.detach()
    return store


def _blocks(store: Any) -> list[str]:
    if isinstance(store, MemoryStore):
        return [key for key in store.hashes if ":10m:" in key]
    return [key.decode() for key in store.client.scan_iter(match=store.keys.key("metrics:job:10m:*"))]


def _delete(store: Any, keys: list[str]) -> None:
    for key in keys:
        if isinstance(store, MemoryStore):
            store.hashes.pop(key, None)
        else:
            store.client.delete(key)


def test_ten_minute_hashes_give_what_the_minutes_give(half_hour: Any, clock: ManualClock) -> None:
    now = clock.time() - 60  # the last recorded minute
    with_blocks = [read_job_metrics(half_hour, now, minutes, "Mail") for minutes in (1, 9, 10, 11, 25, 35, 60)]
    assert _blocks(half_hour)
    _delete(half_hour, _blocks(half_hour))  # as an older recorder left them: minutes only
    from_minutes = [read_job_metrics(half_hour, now, minutes, "Mail") for minutes in (1, 9, 10, 11, 25, 35, 60)]

    def exact(report: Any) -> Any:  # run-time sums are floats added in another order
        classes = [(c.name, c.executions, c.failures, c.buckets, round(c.seconds, 9)) for c in report.classes]
        return classes, report.per_minute, report.class_per_minute, report.skipped

    assert [exact(report) for report in with_blocks] == [exact(report) for report in from_minutes]
    mail = with_blocks[-1].classes[0]
    assert (mail.name, mail.executions, mail.failures) == (
        "Mail",
        sum(range(1, 36)),
        sum((n + 3) // 3 for n in range(35)),
    )
    assert [m.processed for m in with_blocks[3].per_minute] == [n + 2 for n in range(24, 35)]
    assert [m.processed for m in with_blocks[3].class_per_minute] == [n + 1 for n in range(24, 35)]


def test_a_damaged_ten_minute_hash_is_counted_and_its_minutes_read_instead(half_hour: Any, clock: ManualClock) -> None:
    now = clock.time() - 60
    expected = read_job_metrics(half_hour, now, 35)
    for key in _blocks(half_hour):
        half_hour.add_to_hashes({key: {}}, set_fields={"v": "99"})

    report = read_job_metrics(half_hour, now, 35)

    assert [(c.name, c.executions, c.buckets) for c in report.classes] == [
        (c.name, c.executions, c.buckets) for c in expected.classes
    ]
    assert report.skipped == 2  # the spans wholly inside 23:43-00:17: 23:50-59 and 00:00-09
