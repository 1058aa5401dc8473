"""``/api/history``: processed and failed per day or per minute for the overview's history chart, with
the deploy markers of the window, validated parameters and junk records skipped and counted, never a
500."""

from __future__ import annotations

import pytest
import redis
from flask.testing import FlaskClient

from resque_impl import ManualClock, Resque
from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, mark_deploy


@pytest.fixture
def recorded(resque: Resque, clock: ManualClock) -> Resque:
    """Three jobs, one failed, in the clock's current minute."""
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock).attach(bus)
    for name in (JOB_FINISHED, JOB_FINISHED, JOB_FAILED):
        bus.emit(name, {"run_time": 0.1}, {"class": "Mail"})
    recorder.detach()
    return resque


def test_per_day_by_default(client: FlaskClient, recorded: Resque) -> None:
    data = client.get("/api/history").get_json()

    assert (data["unit"], data["count"], len(data["points"])) == ("day", 30, 30)
    assert data["points"][-1] == {"at": "20261127", "processed": 3, "failed": 1}
    assert (data["processed"], data["failed"], data["skipped_keys"]) == (3, 1, 0)
    assert "Ruby" in data["note"]


def test_per_minute_when_asked(client: FlaskClient, recorded: Resque) -> None:
    data = client.get("/api/history?minutes=360").get_json()

    assert (data["unit"], len(data["points"])) == ("minute", 360)
    assert data["points"][-1] == {"at": "202611272343", "processed": 3, "failed": 1}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("days=91", "days must be a whole number from 1 to 90"),
        ("days=0", "days must be a whole number from 1 to 90"),
        ("days=%201", "days must be a whole number from 1 to 90"),
        ("minutes=361", "minutes must be a whole number from 1 to 360"),
        ("minutes=1e3", "minutes must be a whole number from 1 to 360"),
        ("days=3&minutes=5", "give days or minutes, not both"),
    ],
)
def test_bad_windows_are_refused_with_a_message(client: FlaskClient, query: str, message: str) -> None:
    response = client.get(f"/api/history?{query}")

    assert response.status_code == 400
    assert response.get_json() == {"error": message}


def test_junk_records_are_skipped_and_counted(client: FlaskClient, recorded: Resque, redis_client: redis.Redis) -> None:
    keys = recorded.keys
    redis_client.hset(keys.job_metrics_day("20261126"), mapping={"v": "9", "processed": "5"})
    redis_client.hset(keys.job_metrics_day("20261125"), mapping={"v": "1", "processed": "\xff"})
    redis_client.set(keys.job_metrics_day("20261124"), "not a hash")

    data = client.get("/api/history?days=7").get_json()

    assert data["skipped_keys"] == 3
    assert data["processed"] == 3


def test_the_overview_offers_the_ranges_and_refuses_others(client: FlaskClient) -> None:
    page = client.get("/overview?history=90d").get_data(as_text=True)

    assert 'data-chart-url="/api/history?days=90"' in page
    assert 'data-chart-url="/api/history?minutes=60"' in page  # the live chart: totals only, cheap
    assert '<a href="/overview?history=6h">6h</a>' in page
    assert client.get("/api/overview?history=6h").get_json()["history"]["unit"] == "minute"
    refused = client.get("/overview?history=1y")
    assert refused.status_code == 400
    assert "history must be one of 6h, 30d, 90d" in refused.get_data(as_text=True)


def test_the_deploys_in_the_window_come_with_the_point_they_fall_in(
    client: FlaskClient, resque: Resque, clock: ManualClock
) -> None:
    now = clock.time()
    mark_deploy(resque.store, "v1", at=now - 3 * 86400)
    mark_deploy(resque.store, "v2", at=now - 120)
    mark_deploy(resque.store, "too old", at=now - 40 * 86400)

    per_day = client.get("/api/history?days=30").get_json()["deploys"]
    per_minute = client.get("/api/history?minutes=60").get_json()["deploys"]
    class_chart = client.get("/api/job-metrics?minutes=15&class=Mail").get_json()["deploys"]

    assert [(d["label"], d["point"]) for d in per_day] == [("v1", "20261124"), ("v2", "20261127")]
    assert [(d["label"], d["point"]) for d in per_minute] == [("v2", "202611272341")]
    assert class_chart == per_minute


def test_a_deploys_list_not_ours_leaves_the_charts_without_markers(
    client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    redis_client.set(resque.keys.deploys, "not a list")

    assert client.get("/api/history").get_json()["deploys"] == []
