"""No stored data can inject markup: an XSS corpus is planted in queue names, class names, arguments,
exception messages, backtraces, worker ids, key names, delayed jobs and schedule entries, then every
page is parsed with an HTML5 parser (html5lib, which parses as browsers do) to prove that no injected
element, attribute or URL made it into the document, and that the planted text is shown, escaped."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element

import html5lib
import redis
from flask import Flask, url_for
from flask.testing import FlaskClient

from resque_impl import Resque
from resque_impl.codec import dumps
from resque_impl.events import JOB_FAILED
from resque_impl.job_metrics import JobMetricsRecorder
from tests.resque_impl.web.routes import routes
from tests.resque_impl.web.seed import failure_record, register_worker

CORPUS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "javascript:alert(3)",
    "</textarea><script>alert(4)</script>",
    "'><svg onload=alert(5)>",
    "<a href=javascript:alert(6)>x</a>",
    "{{7*7}}<!--",
]

#: Every element our templates produce; anything else in a page was injected.
TEMPLATE_TAGS = {
    "html", "head", "meta", "title", "link", "script", "body", "header", "a", "span", "nav", "main",
    "div", "footer", "section", "h1", "h2", "table", "thead", "tbody", "tr", "th", "td", "meter", "p",
    "code", "details", "summary", "pre", "form", "input", "button", "label", "ol", "li", "dl", "dt",
    "dd", "aside",
}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data-live-url"}


def plant(resque: Resque, client: redis.Redis, now: float) -> dict[str, list[Any]]:
    """Write the corpus everywhere a page shows stored data; returns what to visit."""
    keys = resque.keys
    workers = []
    for n, evil in enumerate(CORPUS):
        resque.enqueue_to(evil, evil, evil, {evil: [evil]})
        client.rpush(keys.queue(evil), evil)  # an entry that is not even a payload
        worker_id = f"{evil}:{n}:{evil},{evil}"
        workers.append(worker_id)
        register_worker(
            client,
            keys,
            worker_id,
            started=now - 60,
            heartbeat=now - 1,
            working={"queue": evil, "run_at": evil, "payload": {"class": evil, "args": [evil]}},
        )
        client.hset(keys.heartbeats, f"{evil}:h", evil)
        resque.failures.save(
            failure_record(
                failed_at=now,
                class_name=evil,
                args=[evil, {evil: evil}],
                exception=evil,
                error=f"{evil}\n{evil}",
                backtrace=[evil, evil],
                worker=evil,
                queue=evil,
            ),
            evil,
        )
        client.set(keys.key(evil), evil)
        client.set(keys.worker(f"{evil}:w"), evil)  # unreadable working-on record
    metrics = JobMetricsRecorder(resque.store, resque.clock).attach(resque.events)
    for evil in CORPUS:
        resque.events.emit(JOB_FAILED, {"run_time": 0.1}, {"class": evil})
    metrics.detach()
    resque.failures.save(b'{"payload":"' + CORPUS[0].encode() + b'","error":"raw"}', "q")
    client.sadd(keys.workers, "broken:1:q")
    client.set(keys.worker("broken:1:q"), CORPUS[1])
    return {
        "queue": CORPUS,
        "worker_id": [*workers, "broken:1:q"],
        "key": [keys.key(evil) for evil in CORPUS],
        "timestamp": plant_scheduler(resque, client, now),
    }


def plant_scheduler(resque: Resque, client: redis.Redis, now: float) -> list[int]:
    """The corpus in delayed jobs (due and not, payloads and not) and in schedule entries (readable and
    not); returns the timestamps used."""
    keys = resque.keys
    timestamps = []
    for n, evil in enumerate(CORPUS):
        for timestamp in (int(now) - 10 - n, int(now) + 60 + n):
            item = {"class": evil, "args": [evil, {evil: evil}], "queue": evil, evil: evil}
            resque.store.delayed_push(timestamp, dumps(item))
            resque.store.delayed_push(timestamp, evil.encode())  # not even a payload
            timestamps.append(timestamp)
        resque.set_schedule(evil, {"class": evil, "queue": evil, "args": [evil], "description": evil, "every": "1h"})
        client.hset(keys.schedules, f"{evil}:cron", dumps({"class": evil, "cron": evil}))
        client.hset(keys.schedules, f"{evil}:raw", evil)
        client.hset(keys.last_enqueued_at, evil, evil)
    client.hset(keys.last_enqueued_at, CORPUS[1] + "x", CORPUS[1])
    client.set(keys.scheduler_master_lock, CORPUS[1])
    return timestamps


def urls_to_visit(app: Flask, planted: dict[str, list[Any]]) -> list[str]:
    urls = []
    with app.test_request_context():
        for route in routes(app):
            if route.mutation or route.endpoint in ("static", "meta.health", "overview.root"):
                continue
            if route.endpoint.startswith("queues.queue"):
                urls += [url_for(route.endpoint, queue=queue) for queue in planted["queue"]]
            elif route.endpoint.startswith("workers.worker") and route.endpoint != "workers.workers":
                urls += [url_for(route.endpoint, worker_id=worker) for worker in planted["worker_id"]]
            elif route.endpoint.startswith("stats.key") and not route.endpoint.startswith("stats.keys"):
                urls += [url_for(route.endpoint, name=name) for name in planted["key"]]
            elif route.endpoint.startswith("failed.failed"):
                urls.append(url_for(route.endpoint))
                urls += [url_for(route.endpoint, queue=evil) for evil in CORPUS]
                urls += [url_for(route.endpoint, **{"class": evil}) for evil in CORPUS]
            elif route.endpoint.startswith("scheduler.delayed_timestamp"):
                urls += [url_for(route.endpoint, timestamp=timestamp) for timestamp in planted["timestamp"]]
            elif route.endpoint.startswith("stats.keys"):
                urls += [url_for(route.endpoint), url_for(route.endpoint, match=CORPUS[0])]
            else:
                urls.append(route.url)
    return urls


def injected(document: Element) -> list[str]:
    """Everything in ``document`` that our templates never produce."""
    problems = []
    for element in document.iter():
        tag = element.tag.rpartition("}")[2] if isinstance(element.tag, str) else str(element.tag)
        if tag not in TEMPLATE_TAGS:
            problems.append(f"element <{tag}>")
        if tag == "script" and (element.text or "").strip():
            problems.append("inline script")
        if tag == "script" and not element.get("src", "").startswith("/static/"):
            problems.append(f"script from {element.get('src')!r}")
        for name, value in element.attrib.items():
            if name.lower().startswith("on"):
                problems.append(f"event handler attribute {name}={value!r}")
            if name.lower() == "style":
                problems.append(f"style attribute {value!r}")
            if name.lower() in URL_ATTRIBUTES:
                parts = urlsplit(value.strip())
                if parts.scheme or parts.netloc or not value.startswith("/"):
                    problems.append(f"{name}={value!r} leaves this site")
    return problems


def text_of(document: Element) -> str:
    return "".join(document.itertext())


def test_no_page_lets_stored_data_inject_markup(
    app: Flask, client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    planted = plant(resque, redis_client, resque.clock.time())
    seen = ""
    visited = 0
    for url in urls_to_visit(app, planted):
        for variant in (url, url + ("&" if "?" in url else "?") + "partial=1"):
            response = client.get(variant)
            assert response.status_code == 200, variant
            if response.mimetype != "text/html":
                continue
            body = response.get_data(as_text=True)
            document: Any = html5lib.parse(body, namespaceHTMLElements=False)
            assert injected(document) == [], variant
            seen += text_of(document)
            visited += 1
    assert visited > 40
    for evil in CORPUS:
        assert evil in seen, f"{evil!r} was never shown (as text) on any page"


def test_the_scheduler_pages_show_the_planted_data_as_text(
    app: Flask, client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    timestamps = plant(resque, redis_client, resque.clock.time())["timestamp"]
    expected = {"/delayed": CORPUS, "/schedule": CORPUS}
    expected |= {f"/delayed/{timestamp}": [CORPUS[n // 2]] for n, timestamp in enumerate(timestamps)}

    for url, planted in expected.items():
        document: Any = html5lib.parse(client.get(url).get_data(as_text=True), namespaceHTMLElements=False)
        assert injected(document) == [], url
        shown = text_of(document)
        for evil in planted:
            assert evil in shown, f"{evil!r} is not shown on {url}"


def test_the_json_api_returns_planted_data_as_json_strings(
    app: Flask, client: FlaskClient, resque: Resque, redis_client: redis.Redis
) -> None:
    plant(resque, redis_client, resque.clock.time())

    response = client.get("/api/failed")

    assert response.mimetype == "application/json"
    assert {record["class"] for record in response.get_json()["records"]} >= set(CORPUS)


def test_the_checker_catches_what_an_unescaped_value_would_inject() -> None:
    for evil in CORPUS[:6]:
        page = f'<html><body><table><tr><td>{evil}</td></tr></table><a href="{evil}">x</a></body></html>'
        document: Any = html5lib.parse(page, namespaceHTMLElements=False)
        assert injected(document), evil
