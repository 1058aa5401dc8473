"""Fixtures for the dashboard: an app over each Redis (fakeredis and real), a client that logs in,
and a way to get the session's CSRF token the way a browser would, from a page."""

from __future__ import annotations

import base64
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from resque_impl import Resque
from resque_impl.web import create_app

USER, PASSWORD = "admin", "s3cret:with:colons"
AUTH_HEADER = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
HOST = "localhost"


@pytest.fixture
def app(resque: Resque) -> Flask:
    return create_app(resque, auth=f"{USER}:{PASSWORD}", secret_key="test-secret")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Logged in, as a browser on http://localhost."""
    test_client = app.test_client()
    test_client.environ_base.update(HTTP_AUTHORIZATION=AUTH_HEADER)
    return test_client


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(client: FlaskClient) -> str:
    """The token a page hands the browser (the layout's ``csrf-token`` meta tag)."""
    page = client.get("/overview").get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found, "the layout carries no CSRF token"
    return found.group(1)


def post(client: FlaskClient, path: str, data: dict[str, str] | None = None, **headers: str) -> object:
    """A same-origin form POST with the session's CSRF token, as a browser sends it."""
    form = {"csrf_token": csrf_token(client), **(data or {})}
    return client.post(
        path,
        data=form,
        headers={"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin", **headers},
    )
