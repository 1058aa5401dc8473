"""The Prometheus exposition, parsed back with prometheus_client's own parser."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from resque_impl import ManualClock, Resque
from resque_impl.metrics import CONTENT_TYPE_LATEST, render_metrics, take_snapshot
from resque_impl.metrics.snapshot import _histogram


def samples(resque: Resque) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = render_metrics(resque).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_every_figure_is_exported(populated: Resque) -> None:
    found = samples(populated)

    assert found[("resque_queue_depth", (("queue", "email"),))] == 2
    assert found[("resque_queue_depth", (("queue", "ruby"),))] == 2
    assert found[("resque_queue_oldest_job_age_seconds", (("queue", "email"),))] == 30
    assert ("resque_queue_oldest_job_age_seconds", (("queue", "ruby"),)) not in found
    assert found[("resque_queue_latency_known", (("queue", "email"),))] == 1
    assert found[("resque_queue_latency_known", (("queue", "ruby"),))] == 0
    assert found[("resque_workers", ())] == 2
    assert found[("resque_workers_busy", ())] == 1
    assert found[("resque_jobs_processed_total", ())] == 40
    assert found[("resque_jobs_failed_total", ())] == 3
    assert found[("resque_failed_jobs", ())] == 1
    assert found[("resque_delayed_jobs", ())] == 3
    assert found[("resque_delayed_timestamps", ())] == 2
    assert found[("resque_delayed_overdue_seconds", ())] == 20  # due at +10, now +30
    assert found[("resque_scheduler_master", ())] == 1


def test_run_times_are_a_histogram_per_class(populated: Resque) -> None:
    found = samples(populated)

    def bucket(le: str) -> float:
        return found[("resque_job_duration_seconds_bucket", (("class", "Admin::Report"), ("le", le)))]

    assert (bucket("0.25"), bucket("0.5"), bucket("5.0"), bucket("+Inf")) == (1, 2, 3, 3)
    assert found[("resque_job_duration_seconds_count", (("class", "Admin::Report"),))] == 3
    assert found[("resque_job_duration_seconds_sum", (("class", "Admin::Report"),))] == pytest.approx(3.6)


def test_an_empty_namespace_exports_zeros(store: Any, clock: ManualClock) -> None:
    found = samples(Resque(store=store, clock=clock))
    assert found[("resque_workers", ())] == 0
    assert found[("resque_delayed_overdue_seconds", ())] == 0
    assert found[("resque_scheduler_master", ())] == 0
    assert not any(name == "resque_queue_depth" for name, _ in found)


def test_the_content_type_is_prometheus_text() -> None:
    assert CONTENT_TYPE_LATEST.startswith("text/plain; version=")


def test_a_payload_with_a_bad_stamp_has_no_age(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock)
    r.push("q", {"class": "J", "args": [], "enqueued_at": "yesterday"})
    store.push("broken", b"not json")
    snapshot = take_snapshot(r)
    assert snapshot.queues["q"].oldest_age is None
    assert snapshot.queues["broken"].oldest_age is None


def test_an_emptied_queue_has_a_latency_of_zero(store: Any, clock: ManualClock) -> None:
    r = Resque(store=store, clock=clock)
    r.enqueue_to("q", "J", 1)
    store.fetch("vm:1:q", ["q"], "2026-11-27T23:43:29Z")
    found = samples(r)
    assert found[("resque_queue_oldest_job_age_seconds", (("queue", "q"),))] == 0
    assert found[("resque_queue_latency_known", (("queue", "q"),))] == 1


def test_histograms_accumulate_buckets_and_end_at_inf() -> None:
    histogram = _histogram({"le:1.0": "2", "le:0.5": "1", "le:+Inf": "1", "count": "4", "sum": "9.5"})
    assert histogram.buckets == [(0.5, 1), (1.0, 3), (float("inf"), 4)]
    assert (histogram.count, histogram.total) == (4, 9.5)
