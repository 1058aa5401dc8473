"""Security, checked over the whole route table: every route needs credentials (but /health), every
state change is a POST with a CSRF token from this site, and every response carries the headers that
stop injected scripts, sniffing and framing."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resque_impl import Resque
from resque_impl.web import create_app
from resque_impl.web.security import CONTENT_SECURITY_POLICY, Credentials
from tests.resque_impl.web.conftest import AUTH_HEADER, HOST, csrf_token, post
from tests.resque_impl.web.routes import routes

PUBLIC = {"meta.health"}


def test_the_route_table_has_pages_api_twins_and_actions(app: Flask) -> None:
    endpoints = {route.endpoint for route in routes(app)}
    pages = {"overview.overview", "queues.queues", "queues.queue", "workers.workers", "workers.worker",
             "workers.working", "failed.failed", "stats.stats", "stats.keys", "stats.key", "scheduler.delayed",
             "scheduler.delayed_timestamp", "scheduler.schedule", "job_metrics.job_metrics"}  # fmt: skip
    actions = {"queues.remove_queue", "failed.retry", "failed.retry_and_remove", "failed.remove",
               "failed.retry_all", "failed.clear", "scheduler.queue_now", "scheduler.cancel", "scheduler.clear",
               "scheduler.run_now"}  # fmt: skip

    assert pages <= endpoints
    assert {page + "_api" for page in pages} <= endpoints
    assert actions <= endpoints
    assert {"meta.health", "meta.stats_txt"} <= endpoints


def test_every_route_but_health_requires_credentials(app: Flask, anonymous: FlaskClient) -> None:
    for route in routes(app):
        response = anonymous.post(route.url) if route.mutation else anonymous.get(route.url)
        if route.endpoint in PUBLIC:
            assert response.status_code == 200, route
        else:
            assert response.status_code == 401, route
            assert response.headers["WWW-Authenticate"].startswith("Basic realm="), route


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + __import__("base64").b64encode(b"admin:wrong").decode(),
        "Basic " + __import__("base64").b64encode(b"other:s3cret:with:colons").decode(),
        "Basic !!!not-base64",
        "Bearer abc",
        "",
    ],
)
def test_wrong_credentials_are_refused(anonymous: FlaskClient, header: str) -> None:
    assert anonymous.get("/overview", headers={"Authorization": header}).status_code == 401


def test_right_credentials_are_accepted(anonymous: FlaskClient) -> None:
    assert anonymous.get("/overview", headers={"Authorization": AUTH_HEADER}).status_code == 200


def test_unknown_paths_also_need_credentials(anonymous: FlaskClient) -> None:
    assert anonymous.get("/no/such/page").status_code == 401


def test_get_and_head_on_every_mutation_are_405(app: Flask, client: FlaskClient) -> None:
    mutations = [route for route in routes(app) if route.mutation]
    assert mutations
    for route in mutations:
        assert route.methods == {"POST"}, route
        assert client.get(route.url).status_code == 405, route
        assert client.head(route.url).status_code == 405, route


def test_post_on_every_page_is_405(app: Flask, client: FlaskClient) -> None:
    token = csrf_token(client)
    for route in routes(app):
        if not route.mutation:
            response = client.post(route.url, data={"csrf_token": token}, headers={"Origin": f"http://{HOST}"})
            assert response.status_code == 405, route


def test_mutations_without_a_token_are_403(app: Flask, client: FlaskClient) -> None:
    for route in routes(app):
        if route.mutation:
            response = client.post(route.url, headers={"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"})
            assert response.status_code == 403, route


def test_mutations_with_a_wrong_token_are_403(app: Flask, client: FlaskClient) -> None:
    csrf_token(client)
    for route in routes(app):
        if route.mutation:
            response = client.post(route.url, data={"csrf_token": "guessed"}, headers={"Origin": f"http://{HOST}"})
            assert response.status_code == 403, route


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Origin": f"http://{HOST}.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Sec-Fetch-Site": "none"},
        {"Sec-Fetch-Site": "cross-site", "Origin": f"http://{HOST}"},
    ],
)
def test_cross_site_mutations_are_403_even_with_a_valid_token(
    app: Flask, client: FlaskClient, headers: dict[str, str]
) -> None:
    token = csrf_token(client)
    for route in routes(app):
        if route.mutation:
            assert client.post(route.url, data={"csrf_token": token}, headers=headers).status_code == 403, route


def test_a_same_origin_post_with_the_token_goes_through(client: FlaskClient, resque: Resque) -> None:
    resque.enqueue_to("doomed", "SomeJob", 1)

    response = post(client, "/actions/remove-queue", {"queue": "doomed"})

    assert response.status_code == 303
    assert "doomed" not in resque.queues()


def test_a_token_from_another_session_is_refused(app: Flask, client: FlaskClient) -> None:
    other = app.test_client()
    other.environ_base.update(HTTP_AUTHORIZATION=AUTH_HEADER)
    stolen = csrf_token(other)
    csrf_token(client)

    response = client.post("/actions/clear-failed", data={"csrf_token": stolen}, headers={"Origin": f"http://{HOST}"})

    assert response.status_code == 403


def test_every_response_carries_the_security_headers(app: Flask, client: FlaskClient) -> None:
    for route in routes(app):
        response = client.post(route.url) if route.mutation else client.get(route.url)
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, route
        assert headers["X-Content-Type-Options"] == "nosniff", route
        assert headers["X-Frame-Options"] == "DENY", route


def test_the_policy_allows_no_inline_code_and_no_framing() -> None:
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_the_session_cookie_is_http_only_and_same_site_strict(client: FlaskClient) -> None:
    cookie = client.get("/overview").headers["Set-Cookie"]

    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie


def test_a_redirect_after_an_action_stays_on_this_site(client: FlaskClient) -> None:
    for target in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"]:
        response = post(client, "/actions/clear-failed", {"next": target})
        assert response.status_code == 303
        assert response.headers["Location"] == "/failed", target


def test_the_environment_variable_turns_auth_on(monkeypatch: pytest.MonkeyPatch, resque: Resque) -> None:
    monkeypatch.setenv("RESQUE_WEB_HTTP_BASIC_AUTH", "ops:pw")
    app = create_app(resque)

    assert app.test_client().get("/overview").status_code == 401
    assert app.test_client().get("/overview", auth=("ops", "pw")).status_code == 200


def test_without_credentials_pages_are_open(resque: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESQUE_WEB_HTTP_BASIC_AUTH", raising=False)

    assert create_app(resque).test_client().get("/overview").status_code == 200


@pytest.mark.parametrize("text", ["nopassword", ":pw", "user:", ""])
def test_malformed_credentials_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="user:password"):
        Credentials.parse(text)
