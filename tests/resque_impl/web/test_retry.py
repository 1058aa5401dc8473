"""A connection Redis dropped in the middle of a request: reads run again on a fresh one, changes do not.

(The reliability suite drops every connection every 200 ms for a minute while polling every page; see
tests/chaos/test_dropped_connections.py. Here the drop is placed exactly.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resque_impl import Resque
from resque_impl.errors import ResqueConnectionError
from resque_impl.web.retry import READ_RETRIES
from tests.resque_impl.web.conftest import post


def dropping(times: int, then: Callable[..., Any]) -> tuple[Callable[..., Any], list[int]]:
    """A stand-in that fails ``times`` times as a dropped connection does, then calls ``then``."""
    calls: list[int] = []

    def call(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= times:
            raise ResqueConnectionError("cannot reach redis://127.0.0.1:6379/0: Connection closed by server.")
        return then(*args, **kwargs)

    return call, calls


def test_a_page_whose_connection_drops_answers_from_a_fresh_one(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = app.extensions["resque_web"].view
    flaky, calls = dropping(READ_RETRIES, view.overview)
    monkeypatch.setattr(view, "overview", flaky)

    assert client.get("/api/overview").status_code == 200
    assert len(calls) == READ_RETRIES + 1


def test_a_page_whose_connections_keep_dropping_says_redis_is_unreachable(
    app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = app.extensions["resque_web"].view
    flaky, calls = dropping(READ_RETRIES + 1, view.overview)
    monkeypatch.setattr(view, "overview", flaky)

    assert client.get("/api/overview").status_code == 503
    assert len(calls) == READ_RETRIES + 1


def test_health_survives_a_dropped_connection(
    app: Flask, anonymous: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = app.extensions["resque_web"].view.store
    flaky, _ = dropping(1, store.ping)
    monkeypatch.setattr(store, "ping", flaky)

    assert anonymous.get("/health").status_code == 200


def test_a_change_is_never_repeated(
    app: Flask, client: FlaskClient, resque: Resque, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky, calls = dropping(1, resque.failures.clear)
    monkeypatch.setattr(resque.failures, "clear", flaky)

    response: Any = post(client, "/actions/clear-failed")

    assert response.status_code == 503
    assert len(calls) == 1
