"""``/metrics``: the Prometheus exposition behind the dashboard's login."""

from __future__ import annotations

import math

import pytest
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from resque_impl import ManualClock, Resque
from resque_impl.errors import ConfigurationError
from resque_impl.events import JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, erlang_c_workers
from resque_impl.job_metrics.capacity import WAIT_TARGET
from resque_impl.web import create_app
from tests.resque_impl.web.conftest import AUTH_HEADER, PASSWORD, USER


def test_metrics_are_served_in_prometheus_text(resque: Resque, client: FlaskClient) -> None:
    resque.enqueue_to("email", "EmailJob", 1)
    resque.enqueue_in_with_queue("email", 60, "EmailJob", 2)

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    families = {family.name: family for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert families["resque_queue_depth"].samples[0].value == 1
    assert families["resque_delayed_jobs"].samples[0].value == 1


def test_metrics_need_the_dashboards_credentials(anonymous: FlaskClient) -> None:
    assert anonymous.get("/metrics").status_code == 401


def _record_ten_minutes(resque: Resque, clock: ManualClock) -> None:
    """10 jobs a second of 0.5 s each on ``email`` over the ten minutes up to the clock's time: a load of
    5 workers, recorded as a worker records it."""
    now = clock.time()
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock, flush_interval=30.0).attach(bus)
    for tick in range(6000):
        clock.set(now - 600 + tick / 10)
        bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail", "queue": "email"})
    recorder.flush()
    clock.set(now)


def _recommended(client: FlaskClient) -> dict[tuple[str, str], float]:
    text = client.get("/metrics").get_data(as_text=True)
    return {
        (sample.labels["queue"], sample.labels["source"]): sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "resque_recommended_workers"
        for sample in family.samples
    }


def test_recommended_workers_are_sized_for_the_apps_wait_target(
    resque: Resque, clock: ManualClock, client: FlaskClient
) -> None:
    _record_ten_minutes(resque, clock)
    strict = create_app(resque, auth=f"{USER}:{PASSWORD}", secret_key="test-secret", recommend_wait=0.05)
    strict_client = strict.test_client()
    strict_client.environ_base.update(HTTP_AUTHORIZATION=AUTH_HEADER)

    assert _recommended(client) == {("email", "erlang_c"): erlang_c_workers(10.0, 0.5, WAIT_TARGET)}
    assert _recommended(strict_client) == {("email", "erlang_c"): erlang_c_workers(10.0, 0.5, 0.05)}
    assert erlang_c_workers(10.0, 0.5, 0.05) > erlang_c_workers(10.0, 0.5, WAIT_TARGET)


@pytest.mark.parametrize("wait", [0.0, -1.0, math.inf, math.nan])
def test_a_wait_target_that_is_not_a_positive_time_is_refused(resque: Resque, wait: float) -> None:
    with pytest.raises(ConfigurationError, match="recommend_wait"):
        create_app(resque, recommend_wait=wait)
