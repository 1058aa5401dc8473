"""recommended_workers: Erlang C, the published plan, and the estimate from the recent recording, as
exported on /metrics."""

from __future__ import annotations

import math
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from resque_impl import ManualClock, Resque
from resque_impl.events import JOB_FINISHED, EventBus
from resque_impl.job_metrics import (
    JobMetricsRecorder,
    erlang_c,
    erlang_c_workers,
    publish_recommendation,
    recommended_workers,
)
from resque_impl.job_metrics.capacity import PLAN_MAX_AGE
from resque_impl.metrics import render_metrics
from resque_impl.store.memory import MemoryStore

NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("servers", "load", "expected"),
    [
        (1, 0.5, 0.5),  # M/M/1: P(wait) = rho
        (2, 1.0, 1 / 3),  # M/M/2 at rho 0.5
        (3, 2.0, 4 / 9),
    ],
)
def test_erlang_c_matches_the_closed_forms(servers: int, load: float, expected: float) -> None:
    assert erlang_c(servers, load) == pytest.approx(expected)


def test_erlang_c_is_one_at_or_beyond_saturation() -> None:
    assert erlang_c(4, 4.0) == 1.0


def test_the_fewest_workers_keep_95_percent_of_waits_under_the_target() -> None:
    rate, mean = 20.0, 0.5  # 10 workers' worth of load
    workers = erlang_c_workers(rate, mean, wait_target=2.0)

    def tail(servers: int) -> float:
        return erlang_c(servers, rate * mean) * math.exp(-(servers - rate * mean) * 2.0 / mean)

    assert tail(workers) <= 0.05 < tail(workers - 1)
    assert erlang_c_workers(0.0, 0.5) == 0


def _samples(resque: Resque) -> dict[tuple[str, ...], float]:
    text = render_metrics(resque).decode()
    return {
        (sample.labels["queue"], sample.labels["source"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "resque_recommended_workers"
        for sample in family.samples
    }


def test_a_recent_published_plan_is_what_metrics_exports(store: Any) -> None:
    clock = ManualClock(NOW)
    if isinstance(store, MemoryStore):
        store.clock = clock
    publish_recommendation(store, NOW - 60, {"email": 7, "thumbs": 7}, {"pool": "default"})
    assert _samples(Resque(store=store, clock=clock)) == {("email", "plan"): 7, ("thumbs", "plan"): 7}


def _record_ten_minutes(store: Any) -> ManualClock:
    """10 jobs a second of 0.5 s each on ``email`` for the ten minutes up to NOW: 5 workers' worth."""
    clock = ManualClock(NOW - 600)
    if isinstance(store, MemoryStore):
        store.clock = clock
    publish_recommendation(store, NOW - PLAN_MAX_AGE - 601, {"email": 99}, {})
    bus = EventBus()
    recorder = JobMetricsRecorder(store, clock, flush_interval=30.0).attach(bus)
    store.push("email", b'{"class":"Mail","args":[]}')
    for tick in range(6000):
        clock.set(NOW - 600 + tick / 10)
        bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail", "queue": "email"})
    recorder.flush()
    clock.set(NOW)
    return clock


def test_without_a_recent_plan_the_recording_gives_an_erlang_c_estimate(store: Any) -> None:
    clock = _record_ten_minutes(store)

    (found,) = recommended_workers(store, NOW)
    assert (found.queue, found.source) == ("email", "erlang_c")
    assert found.workers == erlang_c_workers(10.0, 0.5)
    assert _samples(Resque(store=store, clock=clock)) == {("email", "erlang_c"): found.workers}


def test_a_shorter_wait_target_recommends_more_workers(store: Any) -> None:
    clock = _record_ten_minutes(store)

    (tight,) = recommended_workers(store, NOW, wait_target=0.05)
    assert tight.workers == erlang_c_workers(10.0, 0.5, wait_target=0.05) > erlang_c_workers(10.0, 0.5)
    text = render_metrics(Resque(store=store, clock=clock), wait_target=0.05).decode()
    assert f'resque_recommended_workers{{queue="email",source="erlang_c"}} {float(tight.workers)}' in text
    with pytest.raises(ValueError, match="wait_target"):
        recommended_workers(store, NOW, wait_target=0.0)
