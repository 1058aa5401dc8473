"""The per-queue minute hashes: what a worker's jobs leave there, and the arrival rates read back from
them (jobs done plus the growth of the sampled depth), on fakeredis, a real redis-server and the
in-memory twin."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import ManualClock
from resque_impl.events import JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, read_queue_activity
from resque_impl.store.memory import MemoryStore

MINUTE = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC, a minute boundary


def _recorder(store: Any, clock: ManualClock) -> tuple[JobMetricsRecorder, EventBus]:
    if isinstance(store, MemoryStore):
        store.clock = clock
    bus = EventBus()
    return JobMetricsRecorder(store, clock, flush_interval=1000.0).attach(bus), bus


def _finish(bus: EventBus, queue: str, name: str) -> None:
    bus.emit(JOB_FINISHED, {"run_time": 0.01}, {"class": name, "queue": queue})


def test_jobs_are_counted_per_queue_and_class_with_the_depth_of_every_queue(store: Any) -> None:
    clock = ManualClock(MINUTE + 5)
    recorder, bus = _recorder(store, clock)
    store.push("mail", b'{"class":"Mail","args":[]}')
    store.push("idle", b'{"class":"X","args":[]}')
    for _ in range(3):
        _finish(bus, "mail", "Mail")
    _finish(bus, "mail", "Digest")
    recorder.flush()

    (fields,) = store.read_hashes([store.keys.queue_metrics_minute("202701150800")])
    assert fields == {
        "v": "1",
        'jobs:["mail","Mail"]': "3",
        'jobs:["mail","Digest"]': "1",
        "slot:0": "4",
        "depth:mail": "1",
        "depth:idle": "1",
    }


def test_arrivals_are_jobs_done_plus_the_growth_of_the_backlog(store: Any) -> None:
    clock = ManualClock(MINUTE + 1)
    recorder, bus = _recorder(store, clock)
    store.push("mail", b'{"class":"Mail","args":[]}')  # one job waits throughout
    for second in range(0, 60, 2):  # 30 jobs a minute done for three minutes
        clock.set(MINUTE + second)
        _finish(bus, "mail", "Mail")
    recorder.flush()
    for second in range(60, 180, 2):
        clock.set(MINUTE + second)
        _finish(bus, "mail", "Mail")
        if second == 118:
            for _ in range(12):  # a backlog of 12 builds up in the second minute
                store.push("mail", b'{"class":"Mail","args":[]}')
            recorder.flush()
    recorder.flush()

    activity = read_queue_activity(store, MINUTE, MINUTE + 179)
    series = activity.arrivals()["mail"]
    assert [jobs for _, jobs, _ in series.points] == [30, 42, 30]
    assert series.seconds == 180
    assert series.mean_rate == 102 / 180
    assert series.peak_rate(1) == 42 / 60
    assert activity.classes_by_queue == {"mail": {"Mail": 90}}


def test_a_partial_minute_at_either_end_counts_only_the_time_its_jobs_ran(store: Any) -> None:
    clock = ManualClock(MINUTE + 40)
    recorder, bus = _recorder(store, clock)
    for second in range(40, 85):  # a job a second from :40 to 1:24
        clock.set(MINUTE + second + 0.5)
        _finish(bus, "mail", "Mail")
    recorder.flush()

    series = read_queue_activity(store, MINUTE, MINUTE + 119).arrivals()["mail"]
    assert series.seconds == 45
    assert series.mean_rate == 1.0


def test_an_edge_slot_is_measured_against_its_neighbour_in_the_next_or_previous_minute(store: Any) -> None:
    clock = ManualClock(MINUTE + 53)
    recorder, bus = _recorder(store, clock)
    for second in range(53, 123):  # a job a second from :53 (the first minute's last slot) to 2:02
        clock.set(MINUTE + second + 0.5)
        _finish(bus, "mail", "Mail")
    recorder.flush()

    series = read_queue_activity(store, MINUTE, MINUTE + 179).arrivals()["mail"]
    assert [seconds for _, _, seconds in series.points] == pytest.approx([7, 60, 3])
    assert series.mean_rate == pytest.approx(1.0)


def test_hashes_in_another_layout_are_skipped_and_counted(store: Any) -> None:
    keys = store.keys
    store.add_to_hashes({keys.queue_metrics_minute("202701150800"): {"jobs:not json": 1}}, set_fields={"v": "1"})
    store.add_to_hashes({keys.queue_metrics_minute("202701150801"): {"n": 1}}, set_fields={"v": "2"})
    store.add_to_hashes({keys.queue_metrics_minute("202701150802"): {'jobs:["q","A"]': 5}}, set_fields={"v": "1"})

    activity = read_queue_activity(store, MINUTE, MINUTE + 179)
    assert activity.skipped == 2
    assert activity.classes_by_queue == {"q": {"A": 5}}
