"""The job-metrics page and its JSON twin, on fakeredis and a real redis-server: per-class numbers,
sorting, links to the class's failures, validated parameters, and junk records skipped."""

from __future__ import annotations

from typing import Any

import html5lib
import pytest
import redis
from flask.testing import FlaskClient

from resque_impl import ManualClock, Resque
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder
from resque_impl.web.job_metrics_view import MAX_CLASSES


@pytest.fixture
def recorded(resque: Resque, clock: ManualClock) -> Resque:
    """Mail: 3 runs of 20 ms and one of 200 ms; Report: 2 runs, 1 failed; A&B<x>: 1 failed."""
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock).attach(bus)
    for run_time in (0.02, 0.02, 0.02, 0.2):
        bus.emit(JOB_FINISHED, {"run_time": run_time}, {"class": "Mail"})
    bus.emit(JOB_FINISHED, {"run_time": 2.0}, {"class": "Report"})
    bus.emit(JOB_FAILED, {"run_time": 3.0}, {"class": "Report"})
    bus.emit(JOB_FAILED, {"run_time": 0.5}, {"class": "A&B<x>"})
    recorder.detach()
    return resque


def test_the_api_lists_each_class_with_counts_rates_and_percentiles(client: FlaskClient, recorded: Resque) -> None:
    data = client.get("/api/job-metrics").get_json()
    assert data["minutes"] == 60
    assert (data["processed"], data["failed"], data["skipped_keys"]) == (7, 2, 0)
    mail, report, odd = data["classes"]
    assert (mail["class"], mail["executions"], mail["failures"], mail["failure_rate"]) == ("Mail", 4, 0, 0.0)
    assert mail["mean"] == pytest.approx(0.065)
    assert 0.01 < mail["p50"] <= 0.025
    assert 0.1 < mail["p99"] <= 0.25
    assert (report["class"], report["failures"], report["failure_rate"]) == ("Report", 1, 0.5)
    assert odd["class"] == "A&B<x>"
    assert set(mail) >= {"executions", "failures", "failure_rate", "p50", "p95", "p99", "mean"}
    assert "Ruby" in data["note"]


def test_classes_sort_by_the_column_asked_for(client: FlaskClient, recorded: Resque) -> None:
    def order(sort: str) -> list[str]:
        return [row["class"] for row in client.get(f"/api/job-metrics?sort={sort}").get_json()["classes"]]

    assert order("failures") == ["A&B<x>", "Report", "Mail"]
    assert order("p99") == ["Report", "A&B<x>", "Mail"]
    assert order("class") == ["A&B<x>", "Mail", "Report"]


def test_minutes_limit_the_window(client: FlaskClient, recorded: Resque, clock: ManualClock) -> None:
    clock.advance(120)
    assert client.get("/api/job-metrics?minutes=2").get_json()["classes"] == []
    assert len(client.get("/api/job-metrics?minutes=3").get_json()["classes"]) == 3


@pytest.mark.parametrize("minutes", ["0", "361", "-5", "abc", "1e3", "\u0663", " 5", "99999999999999999999", ""])
def test_junk_minutes_are_a_400_with_a_message(client: FlaskClient, minutes: str) -> None:
    for path in ("/api/job-metrics", "/job-metrics"):
        response = client.get(path, query_string={"minutes": minutes})
        assert response.status_code == 400
        assert "minutes must be a whole number from 1 to 360" in response.get_data(as_text=True)


def test_an_unknown_sort_column_is_a_400_with_a_message(client: FlaskClient) -> None:
    response = client.get("/api/job-metrics?sort=__class__")
    assert response.status_code == 400
    assert "sort must be one of class, executions" in response.get_json()["error"]


def test_the_page_links_each_class_to_its_failures_and_escapes_names(client: FlaskClient, recorded: Resque) -> None:
    body = client.get("/job-metrics").get_data(as_text=True)
    document: Any = html5lib.parse(body, namespaceHTMLElements=False)
    links = [a.get("href") for a in document.iter("a")]
    assert "/failed?class=A%26B%3Cx%3E" in links
    assert "/failed?class=Report" in links
    assert "A&amp;B&lt;x&gt;" in body
    assert "Ruby Resque workers" in body
    assert "/job-metrics?sort=failures" in links


def test_a_junk_metrics_record_is_skipped_and_counted_not_a_500(
    client: FlaskClient, recorded: Resque, redis_client: redis.Redis
) -> None:
    redis_client.hset(recorded.keys.job_metrics_minute("202611272342"), mapping={"v": "9", "processed": "x"})
    redis_client.set(recorded.keys.job_metrics_minute("202611272341"), "not a hash")
    response = client.get("/job-metrics")
    assert response.status_code == 200
    assert "Skipped 2 minute records" in response.get_data(as_text=True)
    assert client.get("/api/job-metrics").get_json()["skipped_keys"] == 2


def test_the_page_lists_at_most_max_classes_rows(client: FlaskClient, resque: Resque, clock: ManualClock) -> None:
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock).attach(bus)
    for n in range(MAX_CLASSES + 5):
        bus.emit(JOB_FINISHED, {"run_time": 0.01}, {"class": f"Job{n:04d}"})
    recorder.detach()
    data = client.get("/api/job-metrics?sort=class").get_json()
    assert (len(data["classes"]), data["classes_total"]) == (MAX_CLASSES, MAX_CLASSES + 5)
    assert data["classes"][0]["class"] == "Job0000"
    assert f"Showing the first {MAX_CLASSES} of {MAX_CLASSES + 5:,} classes" in client.get("/job-metrics").get_data(
        as_text=True
    )


def test_with_nothing_recorded_the_page_says_so(client: FlaskClient) -> None:
    body = client.get("/job-metrics").get_data(as_text=True)
    assert "No job metrics in these minutes" in body
