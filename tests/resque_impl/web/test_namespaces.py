"""One dashboard for several namespaces (``resque_impl.web.namespaces``): each namespace's dashboard under
``/ns/<namespace>/``, a switcher in the header, the same strict Content-Security-Policy, and one CSRF
session across them."""

from __future__ import annotations

import re

import pytest
import redis
from flask.testing import FlaskClient
from werkzeug.test import Client

from resque_impl import ConfigurationError, Resque
from resque_impl.web import create_app
from resque_impl.web.namespaces import create_namespaced_app, namespace_path
from resque_impl.web.security import CONTENT_SECURITY_POLICY
from tests.resque_impl.web.conftest import AUTH_HEADER, HOST, PASSWORD, USER


@pytest.fixture
def pair(redis_client: redis.Redis, namespace: str) -> tuple[Resque, Resque]:
    """Two namespaces in the test's database (``{resque}:a`` and ``{resque}:b`` on the cluster: one slot)."""
    return Resque(redis_client, namespace=f"{namespace}:a"), Resque(redis_client, namespace=f"{namespace}:b")


@pytest.fixture
def browser(pair: tuple[Resque, Resque]) -> Client:
    app = create_namespaced_app(list(pair), auth=f"{USER}:{PASSWORD}", secret_key="test-secret")
    # Logged in, as a browser that was asked for the credentials once.
    return Client(lambda environ, start: app({**environ, "HTTP_AUTHORIZATION": AUTH_HEADER}, start))


def test_each_namespace_has_its_own_dashboard_under_its_path(pair: tuple[Resque, Resque], browser: Client) -> None:
    a, b = pair
    a.enqueue_to("mail", "MailJob", 1)
    b.enqueue_to("billing", "ChargeJob", 2)
    b.enqueue_to("billing", "ChargeJob", 3)

    seen = {
        r.namespace: [
            (q["name"], q["size"]) for q in browser.get(f"{namespace_path(r.namespace)}/api/queues").json["queues"]
        ]
        for r in pair
    }

    assert seen == {a.namespace: [("mail", 1)], b.namespace: [("billing", 2)]}


def test_the_root_leads_to_the_first_namespace_and_nothing_else_is_served_outside_them(
    pair: tuple[Resque, Resque], browser: Client
) -> None:
    response = browser.get("/")

    assert response.status_code == 302
    assert response.headers["Location"] == f"{namespace_path(pair[0].namespace)}/overview"
    assert browser.get("/overview").status_code == 404


def test_every_page_links_to_each_namespace_and_marks_its_own(pair: tuple[Resque, Resque], browser: Client) -> None:
    a, b = pair

    page = browser.get(f"{namespace_path(b.namespace)}/queues").get_data(as_text=True)

    switcher = re.search(r'<nav class="namespaces".*?</nav>', page, re.S)
    assert switcher, page
    links = re.findall(r'<a href="([^"]+)"( class="active" aria-current="page")?>([^<]+)</a>', switcher.group(0))
    assert [(href, bool(active), name) for href, active, name in links] == [
        (f"{namespace_path(a.namespace)}/", False, a.namespace),
        (f"{namespace_path(b.namespace)}/", True, b.namespace),
    ]
    # Its own pages still link inside it.
    brand = re.search(r'class="brand" href="([^"]+)"', page)
    assert brand
    assert f'<span class="ns">{b.namespace}</span>' in browser.get(brand.group(1)).get_data(as_text=True)


def test_the_content_security_policy_stays_strict(pair: tuple[Resque, Resque], browser: Client) -> None:
    response = browser.get(f"{namespace_path(pair[0].namespace)}/overview")

    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_one_csrf_session_serves_every_namespace_and_a_forged_post_is_refused(
    pair: tuple[Resque, Resque], browser: Client
) -> None:
    a, b = pair
    b.enqueue_to("old", "Job", 1)
    page = browser.get(f"{namespace_path(a.namespace)}/overview").get_data(as_text=True)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
    assert found
    headers = {"Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"}
    action = f"{namespace_path(b.namespace)}/actions/remove-queue"

    forged = browser.post(action, data={"queue": "old", "csrf_token": "guessed"}, headers=headers)
    assert forged.status_code == 403
    assert b.queues() == ["old"]

    done = browser.post(action, data={"queue": "old", "csrf_token": found.group(1)}, headers=headers)
    assert done.status_code == 303
    assert b.queues() == []


def test_a_single_namespace_dashboard_has_no_switcher(pair: tuple[Resque, Resque]) -> None:
    client: FlaskClient = create_app(pair[0]).test_client()

    assert 'class="namespaces"' not in client.get("/overview").get_data(as_text=True)


def test_a_namespace_given_twice_is_refused(pair: tuple[Resque, Resque]) -> None:
    with pytest.raises(ConfigurationError, match="given twice"):
        create_namespaced_app([pair[0], pair[0]])
