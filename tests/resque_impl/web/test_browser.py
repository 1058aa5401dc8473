"""The dashboard in a real browser: Debian's Chromium driven by Playwright, headless, against the app
served by waitress on a free port over a real redis-server.

Checks the live overview update, retrying a failed job, removing a queue through its confirmation
dialog, and that no page logs a script error or a Content-Security-Policy violation; saves a
screenshot of every page under ``test-artifacts/web/``. Without Chromium these tests skip, saying how
to install it, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.web import create_app
from tests.resque_impl.web.seed import seed_demo

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (test extra)")

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "web"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
USER, PASSWORD = "ops", "browser-pw"


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        message = "Chromium is not installed; install it with `apt-get install -y chromium` (Debian/Ubuntu)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Served:
    url: str
    resque: Resque
    redis: Any
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def served(redis_server: RedisServer) -> Iterator[Served]:
    """The dashboard on a free port, serving a freshly flushed real Redis."""
    from waitress.server import create_server

    client = redis_server.client()
    client.flushall()
    resque = Resque(redis_server.url)
    server = create_server(create_app(resque, auth=f"{USER}:{PASSWORD}"), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    yield Served(f"http://127.0.0.1:{server.effective_port}", resque, client)
    server.close()
    thread.join(5)


@pytest.fixture
def page(browser: Any, served: Served) -> Iterator[Any]:
    context = browser.new_context(
        http_credentials={"username": USER, "password": PASSWORD}, viewport={"width": 1360, "height": 900}
    )
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    opened.on("console", lambda message: served.problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: served.problems.append(str(error)))
    yield opened
    context.close()
    assert served.problems == [], "the browser reported errors (script errors or CSP violations)"


def test_overview_updates_live_after_an_enqueue_without_reloading(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/overview?refresh=1")
    page.wait_for_selector("text=No queues yet")
    page.evaluate("window.notReloaded = true")

    served.resque.enqueue_to("arrived-live", "EmailJob", 1)

    page.wait_for_selector("a:has-text('arrived-live')", timeout=8_000)
    assert page.evaluate("window.notReloaded") is True
    assert page.locator(".live-bar").inner_text().startswith("Live")


def test_retry_a_failed_job_from_the_failed_page(page: Any, served: Served) -> None:
    served.resque.failures.save(
        b'{"failed_at":"2026/11/27 23:43:29 UTC","payload":{"class":"EmailJob","args":[42]},'
        b'"exception":"Timeout","error":"smtp timed out","backtrace":["app.py:1"],"worker":"w","queue":"email"}',
        "email",
    )
    page.goto(f"{served.url}/failed")

    page.click("button:has-text('Retry & remove')")

    page.wait_for_selector(".flash:has-text('Requeued and removed EmailJob')")
    assert served.resque.peek_raw("email") == [b'{"class":"EmailJob","args":[42]}']
    assert served.resque.failures.count() == 0
    assert page.locator("text=No failed jobs").count() == 1


def test_remove_a_queue_only_after_confirming(page: Any, served: Served) -> None:
    served.resque.enqueue_many("EmailJob", [(n,) for n in range(3)], queue="doomed")
    page.goto(f"{served.url}/queues/doomed")
    questions: list[str] = []

    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('Remove queue')")
    page.wait_for_timeout(300)
    assert served.resque.queues() == ["doomed"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Remove queue')")
    page.wait_for_selector(".flash:has-text('Removed queue doomed')")

    assert questions == ["Remove queue doomed and its 3 jobs? This cannot be undone."]
    assert served.resque.queues() == []


PAGES = {
    "overview": "/overview",
    "working": "/working",
    "queues": "/queues",
    "queue": "/queues/email",
    "workers": "/workers",
    "worker": "/workers/vm:19891:high,email",
    "failed": "/failed",
    "failed-filtered": "/failed?class=ReportJob",
    "stats": "/stats",
    "keys": "/stats/keys",
    "key": "/stats/key?name=resque:queue:reports",
}


def test_screenshots_of_every_page(page: Any, served: Served) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{served.url}/overview")
    page.screenshot(path=str(ARTIFACTS / "empty-overview.png"), full_page=True)
    seed_demo(served.resque, served.redis, served.resque.clock.time())

    for name, path in PAGES.items():
        response = page.goto(served.url + path)
        assert response is not None, path
        assert response.status == 200, path
        if name == "failed":
            page.locator("details.trace summary").first.click()
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    assert sorted(file.stem for file in ARTIFACTS.glob("*.png")) >= sorted([*PAGES, "empty-overview"])
