"""The dashboard in a real browser: Debian's Chromium driven by Playwright, headless, against the app
served by waitress on a free port over a real redis-server.

Checks the live overview update, the overview's throughput and history charts drawing and updating
(and the history's range chooser), a job class's chart on the job-metrics page, deploy markers on
the charts after ``resque-impl mark-deploy``, retrying a
failed job, removing a queue through its confirmation dialog, queueing a delayed timestamp now,
running a schedule entry now, live refresh holding off while the pointer rests on an action, and that
no page logs a script error or a Content-Security-Policy violation; saves a screenshot of every page
under ``test-artifacts/web/``. The dashboard is started with a schedule file, as ``--schedule`` does.
Without Chromium these tests skip, saying how to install it, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from resque_impl import Resque
from resque_impl.events import JOB_FAILED, JOB_FINISHED
from resque_impl.job_metrics import JobMetricsRecorder
from resque_impl.testing import RedisServer
from resque_impl.web import create_app
from tests.resque_impl.web.seed import file_schedule, seed_demo, seed_scheduler

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
    app = create_app(resque, auth=f"{USER}:{PASSWORD}", schedule=file_schedule())
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
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


def test_queue_a_delayed_timestamp_now_from_the_delayed_page(page: Any, served: Served) -> None:
    due = int(served.resque.clock.time()) + 3600
    for n in range(2):
        served.resque.store.delayed_push(due, b'{"class":"EmailJob","args":[%d],"queue":"email"}' % n)
    page.goto(f"{served.url}/delayed")

    page.click("tr:has-text('EmailJob') button:has-text('Queue now')")

    page.wait_for_selector(".flash:has-text('Queued 2 job(s) due at')")
    assert served.resque.peek_raw("email", 0, 5) == [
        b'{"class":"EmailJob","args":[0]}',
        b'{"class":"EmailJob","args":[1]}',
    ]
    assert served.resque.delayed_queue_schedule_size() == 0
    assert page.locator("text=No delayed jobs").count() == 1


def test_live_refresh_waits_while_the_pointer_rests_on_an_action(page: Any, served: Served) -> None:
    now = int(served.resque.clock.time())
    served.resque.store.delayed_push(now + 3600, b'{"class":"FirstJob","args":[],"queue":"q"}')
    page.goto(f"{served.url}/delayed?refresh=1")
    page.hover("button:has-text('Queue now')")

    served.resque.store.delayed_push(now + 60, b'{"class":"ArrivedJob","args":[],"queue":"q"}')
    page.wait_for_timeout(2_500)
    while_hovering = page.locator("text=ArrivedJob").count()
    page.mouse.move(5, 5)
    page.wait_for_selector("text=ArrivedJob", timeout=8_000)

    assert while_hovering == 0


def test_run_a_schedule_entry_now_from_the_schedule_page(page: Any, served: Served) -> None:
    page.goto(f"{served.url}/schedule")

    page.click("tr:has-text('nightly_report') button:has-text('Run now')")

    page.wait_for_selector(".flash:has-text('Queued ReportJob (schedule nightly_report) now.')")
    assert served.resque.peek_raw("reports") == [b'{"class":"ReportJob","args":["daily"]}']
    assert served.redis.hgetall(served.resque.keys.last_enqueued_at) == {}


def record_jobs(resque: Resque, finished: int, failed: int) -> None:
    """Jobs as a worker's job-metrics subscriber records them, written at once."""
    recorder = JobMetricsRecorder(resque.store, resque.clock).attach(resque.events)
    for n in range(finished + failed):
        name = JOB_FAILED if n < failed else JOB_FINISHED
        resque.events.emit(name, {"run_time": 0.01 * (n + 1)}, {"class": "ChartJob"})
    recorder.detach()


def test_the_overview_draws_throughput_per_minute_and_updates_it_live(page: Any, served: Served) -> None:
    record_jobs(served.resque, finished=5, failed=2)
    page.goto(f"{served.url}/overview?refresh=1")

    page.wait_for_selector(".throughput[data-processed='7'] svg")
    assert page.locator(".throughput svg g.minute").count() == 60
    drawn = "sel => [...document.querySelectorAll(sel)].filter(bar => Number(bar.getAttribute('height')) > 0).length"
    assert page.evaluate(drawn, ".throughput rect.bar-bad") == 1  # this minute's failures
    assert page.evaluate(drawn, ".throughput rect.bar-ok") == 1
    record_jobs(served.resque, finished=3, failed=0)
    page.wait_for_selector(".throughput[data-processed='10']", timeout=8_000)
    assert "10 jobs processed and 2 failed" in (page.locator(".throughput").get_attribute("aria-label") or "")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-throughput.png"), full_page=True)


def test_the_overview_draws_the_history_per_day_and_per_minute_and_updates_it_live(page: Any, served: Served) -> None:
    record_jobs(served.resque, finished=4, failed=1)
    page.goto(f"{served.url}/overview?refresh=1")

    page.wait_for_selector(".history[data-processed='5'] svg")
    assert page.locator(".history svg g.minute").count() == 30  # one bar a day, the last 30 days
    assert "Ruby Resque workers" in page.locator(".history + .note").inner_text()
    page.click(".chooser a:has-text('6h')")
    page.wait_for_selector(".history[data-points='360'][data-processed='5']")
    record_jobs(served.resque, finished=2, failed=0)
    page.wait_for_selector(".history[data-processed='7']", timeout=8_000)
    assert "7 jobs processed and 1 failed in the last 360 minutes" in (
        page.locator(".history").get_attribute("aria-label") or ""
    )
    page.click(".chooser a:has-text('90d')")
    page.wait_for_selector(".history[data-points='90'][data-processed='7']")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-history.png"), full_page=True)


def test_a_job_class_chart_draws_its_minutes_and_updates_live(page: Any, served: Served) -> None:
    record_jobs(served.resque, finished=5, failed=2)
    page.goto(f"{served.url}/job-metrics?refresh=1")
    page.click("td.cls a:has-text('ChartJob')")

    page.wait_for_selector(".class-chart[data-processed='7'] svg")
    assert page.locator(".class-chart svg g.minute").count() == 60
    assert page.locator("table.histogram tbody tr").count() > 1
    record_jobs(served.resque, finished=3, failed=0)
    page.wait_for_selector(".class-chart[data-processed='10']", timeout=8_000)
    label = page.locator(".class-chart").get_attribute("aria-label") or ""
    assert "10 runs and 2 failed in the last 60 minutes" in label
    page.click(".chooser a:has-text('15 min')")
    page.wait_for_selector(".class-chart[data-points='15'][data-processed='10']")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "job-metrics-class.png"), full_page=True)


def test_a_deploy_marked_from_the_command_line_shows_on_every_chart(
    page: Any, served: Served, redis_server: RedisServer
) -> None:
    record_jobs(served.resque, finished=3, failed=0)
    page.goto(f"{served.url}/overview?refresh=1")
    page.wait_for_selector(".throughput[data-deploys='0'] svg")

    command = [sys.executable, "-m", "resque_impl.cli", "--redis", redis_server.url, "mark-deploy", "v2.1"]
    marked = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert marked.returncode == 0, marked.stderr

    # A vertical line has no width, which Playwright calls hidden: wait for it to be there.
    page.wait_for_selector(".throughput[data-deploys='1'] g.deploy line.deploy-line", state="attached", timeout=8_000)
    assert (page.locator(".throughput g.deploy title").text_content() or "").startswith("deploy v2.1 at ")
    page.wait_for_selector(".history[data-deploys='1'] g.deploy", state="attached", timeout=8_000)
    page.goto(f"{served.url}/job-metrics?class=ChartJob")
    page.wait_for_selector(".class-chart[data-deploys='1'] g.deploy title", state="attached")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "job-metrics-class-deploy.png"), full_page=True)


PAGES = {
    "overview": "/overview",
    "working": "/working",
    "queues": "/queues",
    "queue": "/queues/email",
    "workers": "/workers",
    "worker": "/workers/vm:19891:high,email",
    "failed": "/failed",
    "failed-filtered": "/failed?class=ReportJob",
    "job-metrics": "/job-metrics",
    "job-metrics-class": "/job-metrics?class=ChartJob",
    "stats": "/stats",
    "keys": "/stats/keys",
    "key": "/stats/key?name=resque:queue:reports",
}


def test_screenshots_of_every_page(page: Any, served: Served) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for empty in ("overview", "delayed"):
        page.goto(f"{served.url}/{empty}")
        page.screenshot(path=str(ARTIFACTS / f"empty-{empty}.png"), full_page=True)
    now = served.resque.clock.time()
    seed_demo(served.resque, served.redis, now)
    record_jobs(served.resque, finished=40, failed=3)
    batch = seed_scheduler(served.resque, served.redis, now)
    pages = {**PAGES, "delayed": "/delayed", "delayed-timestamp": f"/delayed/{batch}", "schedule": "/schedule"}

    for name, path in pages.items():
        response = page.goto(served.url + path)
        assert response is not None, path
        assert response.status == 200, path
        if name == "failed":
            page.locator("details.trace summary").first.click()
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    assert {file.stem for file in ARTIFACTS.glob("*.png")} >= {*pages, "empty-overview", "empty-delayed"}
