"""``resque-impl web``: refuses to expose an unprotected dashboard, and serves it with waitress (a real
process on a free port, over a real redis-server), under a path prefix, with a schedule file and with
a wait target for ``/metrics``' recommended workers when asked."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from resque_impl import ManualClock, Resque
from resque_impl.cli import main
from resque_impl.events import JOB_FINISHED, EventBus
from resque_impl.job_metrics import JobMetricsRecorder, erlang_c_workers
from resque_impl.testing import RedisServer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, auth: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if auth:
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _serve(redis_url: str, *args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = _free_port()
    command = [sys.executable, "-c", "from resque_impl.cli import main; main()", "web", "--redis", redis_url,
               "--port", str(port), *args]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()[0]
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        yield base, process
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    redis_server.client().flushall()
    return redis_server.url


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_refuses_to_listen_beyond_this_machine_without_credentials(host: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESQUE_WEB_HTTP_BASIC_AUTH", raising=False)

    result = CliRunner().invoke(main, ["web", "--host", host])

    assert result.exit_code == 2
    assert "without credentials" in result.output
    assert "--insecure" in result.output


def test_rejects_malformed_credentials() -> None:
    result = CliRunner().invoke(main, ["web", "--auth", "nopassword"])

    assert result.exit_code == 2
    assert "user:password" in result.output


@pytest.mark.parametrize("prefix", ["resque", "/a//b", "/x?y"])
def test_rejects_a_prefix_that_is_not_a_path(prefix: str) -> None:
    assert CliRunner().invoke(main, ["web", "--prefix", prefix]).exit_code == 2


def test_serves_with_credentials_and_leaves_health_open(redis_url: str) -> None:
    for base, _ in _serve(redis_url, "--auth", "ops:pw"):
        assert _get(f"{base}/health")[0] == 200
        assert _get(f"{base}/overview")[0] == 401
        status, page = _get(f"{base}/overview", auth="ops:pw")
        assert status == 200
        assert "Overview" in page


def test_without_credentials_it_serves_this_machine_only_and_says_so(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESQUE_WEB_HTTP_BASIC_AUTH", raising=False)
    for base, process in _serve(redis_url):
        assert _get(f"{base}/overview")[0] == 200
        process.terminate()
        output = process.communicate(timeout=10)[0]
        assert "serving this machine only" in output


def test_serves_under_a_prefix(redis_url: str) -> None:
    for base, _ in _serve(redis_url, "--prefix", "/resque/", "--auth", "ops:pw"):
        status, page = _get(f"{base}/resque/queues", auth="ops:pw")
        assert status == 200
        assert 'href="/resque/static/app.css' in page
        assert 'href="/resque/overview"' in page
        assert _get(f"{base}/queues", auth="ops:pw")[0] == 404


def test_shows_a_schedule_file_on_the_schedule_page(redis_url: str, tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text(
        "nightly_report:\n  cron: '0 2 * * *'\n  class: ReportJob\n  queue: reports\n"
        "staging_only:\n  every: 1h\n  class: PokeJob\n  queue: low\n  env: staging\n"
    )
    for base, _ in _serve(redis_url, "--auth", "ops:pw", "--schedule", str(schedule), "--env", "production"):
        status, page = _get(f"{base}/api/schedule", auth="ops:pw")
        assert status == 200
        assert [entry["name"] for entry in json.loads(page)["entries"]] == ["nightly_report"]


def test_a_bad_schedule_file_stops_it_naming_the_file(tmp_path: Path) -> None:
    schedule = tmp_path / "schedule.yaml"
    schedule.write_text("nightly_report:\n  cron: 'every night'\n  class: ReportJob\n")

    result = CliRunner().invoke(main, ["web", "--auth", "ops:pw", "--schedule", str(schedule)])

    assert result.exit_code == 1
    assert f"{schedule}: entry 'nightly_report'" in result.output


def test_serves_several_namespaces_each_under_its_path(redis_server: RedisServer, redis_url: str) -> None:
    with redis_server.client() as client:
        client.rpush("app-a:queue:mail", b'{"class":"MailJob","args":[]}')
        client.sadd("app-a:queues", "mail")
    for base, _ in _serve(redis_url, "--auth", "ops:pw", "--namespace", "app-a", "--namespace", "app-b"):
        queues = {
            namespace: json.loads(_get(f"{base}/ns/{namespace}/api/queues", auth="ops:pw")[1])["queues"]
            for namespace in ("app-a", "app-b")
        }
        sizes = {namespace: [(q["name"], q["size"]) for q in listed] for namespace, listed in queues.items()}
        assert sizes == {"app-a": [("mail", 1)], "app-b": []}
        status, page = _get(f"{base}/ns/app-b/overview", auth="ops:pw")
        assert status == 200
        assert 'href="/ns/app-a/"' in page


def test_a_namespace_given_twice_is_refused() -> None:
    result = CliRunner().invoke(main, ["web", "--auth", "ops:pw", "--namespace", "a", "--namespace", "a"])

    assert result.exit_code == 2
    assert "--namespace 'a' is given twice" in result.output


def test_a_bad_redis_url_stops_it_with_status_2_and_one_line() -> None:
    command = [sys.executable, "-m", "resque_impl.cli", "web", "--auth", "ops:pw",
               "--redis", "redis://127.0.0.1:1/0?wait_replicas=some"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)

    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "Error: wait_replicas must be a whole number and wait_timeout a number of seconds in "
        "'redis://127.0.0.1:1/0?wait_replicas=some'"
    ]


def test_recommend_wait_sizes_the_recommended_workers_on_metrics(redis_server: RedisServer, redis_url: str) -> None:
    resque = Resque(redis_url)
    now = resque.store.server_time()
    clock = ManualClock(now - 600)
    bus = EventBus()
    recorder = JobMetricsRecorder(resque.store, clock, flush_interval=30.0).attach(bus)
    for tick in range(6000):  # 10 jobs a second of 0.5 s on email over the last ten minutes
        clock.set(now - 600 + tick / 10)
        bus.emit(JOB_FINISHED, {"run_time": 0.5}, {"class": "Mail", "queue": "email"})
    recorder.flush()

    for base, _ in _serve(redis_url, "--auth", "ops:pw", "--recommend-wait", "50ms"):
        status, text = _get(f"{base}/metrics", auth="ops:pw")
        assert status == 200
        expected = erlang_c_workers(10.0, 0.5, wait_target=0.05)
        assert f'resque_recommended_workers{{queue="email",source="erlang_c"}} {float(expected)}' in text
        assert expected > erlang_c_workers(10.0, 0.5)


def test_a_recommend_wait_that_is_not_a_duration_is_refused() -> None:
    result = CliRunner().invoke(main, ["web", "--recommend-wait", "soon"])

    assert result.exit_code == 2
    assert "'soon' is not a duration" in result.output
