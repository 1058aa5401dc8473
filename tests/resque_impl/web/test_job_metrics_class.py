"""One class on the job-metrics page (``?class=``): its executions and failures per minute for the chart,
its run-time histogram, the window chooser, and a validated class parameter."""

from __future__ import annotations

from typing import Any

import html5lib
import pytest
from flask.testing import FlaskClient

from resque_impl import ManualClock, Resque
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder


@pytest.fixture
def recorded(resque: Resque, clock: ManualClock) -> Resque:
    """Report: two runs a minute ago (20 ms, 20 ms), then one failed run of 3 s; Mail: one run now."""
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock).attach(bus)
    bus.emit(JOB_FINISHED, {"run_time": 0.02}, {"class": "Report"})
    bus.emit(JOB_FINISHED, {"run_time": 0.02}, {"class": "Report"})
    clock.advance(60)
    bus.emit(JOB_FAILED, {"run_time": 3.0}, {"class": "Report"})
    bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail"})
    recorder.detach()
    return resque


def test_a_class_has_its_own_minutes_and_histogram(client: FlaskClient, recorded: Resque) -> None:
    selected = client.get("/api/job-metrics?minutes=3&class=Report").get_json()["selected"]

    assert selected["class"] == "Report"
    assert [(m["processed"], m["failed"]) for m in selected["per_minute"]] == [(0, 0), (2, 0), (1, 1)]
    assert (selected["metrics"]["executions"], selected["metrics"]["failures"]) == (3, 1)
    filled = [(b["gt"], b["le"], b["count"]) for b in selected["histogram"] if b["count"]]
    assert filled == [(0.01, 0.025, 2), (2.5, 5.0, 1)]


def test_without_a_class_nothing_is_selected(client: FlaskClient, recorded: Resque) -> None:
    assert client.get("/api/job-metrics").get_json()["selected"] is None


def test_a_class_that_did_not_run_has_empty_minutes(client: FlaskClient, recorded: Resque) -> None:
    data = client.get("/api/job-metrics?minutes=2&class=Nobody").get_json()
    page = client.get("/job-metrics?class=Nobody").get_data(as_text=True)

    assert data["selected"]["metrics"] is None
    assert data["selected"]["per_minute"] == [
        {"minute": "202611272343", "processed": 0, "failed": 0},
        {"minute": "202611272344", "processed": 0, "failed": 0},
    ]
    assert "No runs of this class in these minutes" in page


def test_the_page_shows_the_chart_histogram_and_links(client: FlaskClient, recorded: Resque) -> None:
    body = client.get("/job-metrics?class=Report&minutes=15").get_data(as_text=True)
    document: Any = html5lib.parse(body, namespaceHTMLElements=False)
    links = [a.get("href") for a in document.iter("a")]
    charts = [div.get("data-chart-url") for div in document.iter("div") if div.get("data-chart-series") == "selected"]

    assert charts == ["/api/job-metrics?minutes=15&class=Report"]
    assert "10.0 ms \u2013 25.0 ms" in body
    assert "2.50 s \u2013 5.00 s" in body
    assert "/failed?class=Report" in links  # its failures
    assert "/job-metrics?class=Mail&minutes=15" in links  # each class opens its own view
    assert "/job-metrics?minutes=15" in links  # back to every class, same window
    assert "/job-metrics?class=Report&minutes=360" in links  # the window chooser keeps the class


@pytest.mark.parametrize("name", ["", "a\x00b", "line\nbreak", "x" * 1025])
def test_a_junk_class_is_a_400_with_a_message(client: FlaskClient, name: str) -> None:
    for path in ("/api/job-metrics", "/job-metrics"):
        response = client.get(path, query_string={"class": name})
        assert response.status_code == 400
        assert "class must be a job class name" in response.get_data(as_text=True)


def test_odd_but_printable_names_are_fine(client: FlaskClient, recorded: Resque) -> None:
    response = client.get("/job-metrics", query_string={"class": "Admin::Réport <b>&"})
    assert response.status_code == 200
    assert "Admin::Réport &lt;b&gt;&amp;" in response.get_data(as_text=True)
