"""``resque-impl web``: refuses to expose an unprotected dashboard, and serves it with waitress (a real
process on a free port, over a real redis-server), under a path prefix and with a schedule file when
asked."""

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

from resque_impl.cli import main
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
