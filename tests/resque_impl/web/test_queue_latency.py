"""The queues page and its JSON twin show each queue's latency: the age of its oldest job, when the job
says when it was queued, and "unknown" when it does not (pushed by Ruby Resque)."""

from __future__ import annotations

import re

import redis
from flask.testing import FlaskClient

from resque_impl import ManualClock, Resque


def _row(page: str, queue: str) -> str:
    found = re.search(rf'<tr>\s*<td><a href="/queues/{queue}">{queue}</a></td>(.*?)</tr>', page, re.S)
    assert found, f"no row for {queue}"
    return found.group(1)


def test_queues_show_the_age_of_each_oldest_job(
    client: FlaskClient, redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    stamped = Resque(redis_client, namespace=namespace, clock=clock, enqueued_at=True)
    stamped.enqueue_to("email", "EmailJob", 1)
    clock.advance(90)
    stamped.enqueue_to("email", "EmailJob", 2)
    redis_client.rpush(f"{namespace}:queue:ruby", b'{"class":"RubyJob","args":[1]}')  # as Ruby pushes it
    redis_client.sadd(f"{namespace}:queues", "ruby", "idle")
    clock.advance(35)

    data = client.get("/api/queues").get_json()
    page = client.get("/queues").get_data(as_text=True)

    latency = {queue["name"]: (queue["latency"], queue["latency_state"]) for queue in data["queues"]}
    assert latency == {"email": (125.0, "stamped"), "idle": (0.0, "empty"), "ruby": (None, "unknown")}
    assert data["latency_unknown"] == 1
    assert "2m 05s" in _row(page, "email")
    assert ">unknown</span>" in _row(page, "ruby")
    assert "<code>--enqueued-at</code>" in page  # the page says why, since one queue is unknown


def test_no_note_when_every_latency_is_known(
    client: FlaskClient, redis_client: redis.Redis, clock: ManualClock, namespace: str
) -> None:
    Resque(redis_client, namespace=namespace, clock=clock, enqueued_at=True).enqueue_to("email", "EmailJob", 1)

    page = client.get("/queues").get_data(as_text=True)

    assert "0s" in _row(page, "email")
    assert "--enqueued-at" not in page
