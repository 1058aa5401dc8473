"""``/metrics``: the Prometheus exposition behind the dashboard's login."""

from __future__ import annotations

from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from resque_impl import Resque


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
