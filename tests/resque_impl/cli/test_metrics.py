"""``resque-impl metrics``: print once, serve /metrics over HTTP, report to statsd."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import urllib.request

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from resque_impl import Resque
from resque_impl.cli import main
from resque_impl.cli.app import Context
from resque_impl.testing import RedisServer


def test_once_prints_the_exposition(resque: Resque) -> None:
    resque.enqueue_to("email", "EmailJob", 1)
    result = CliRunner().invoke(main, ["metrics", "--once"], obj=Context(None, None, _resque=resque))

    assert result.exit_code == 0, result.output
    families = {family.name: family for family in text_string_to_metric_families(result.output)}
    assert families["resque_queue_depth"].samples[0].value == 1


def test_a_bad_statsd_address_is_a_usage_error(resque: Resque) -> None:
    result = CliRunner().invoke(main, ["metrics", "--statsd", "nowhere"], obj=Context(None, None, _resque=resque))
    assert result.exit_code == 2
    assert "is not HOST:PORT" in result.output


def test_the_recommendation_wait_target_is_a_duration(resque: Resque) -> None:
    context = Context(None, None, _resque=resque)
    ok = CliRunner().invoke(main, ["metrics", "--once"], obj=context, env={"RESQUE_RECOMMEND_WAIT": "500ms"})
    assert ok.exit_code == 0, ok.output

    result = CliRunner().invoke(main, ["metrics", "--once", "--recommend-wait", "soon"], obj=context)
    assert result.exit_code == 2
    assert "'soon' is not a duration" in result.output


def test_the_server_answers_scrapes_and_reports_to_statsd_until_terminated(redis_server: RedisServer) -> None:
    redis_server.client().flushall()
    Resque(redis_server.url).enqueue_to("email", "EmailJob", 1)
    statsd = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    statsd.bind(("127.0.0.1", 0))
    statsd.settimeout(10)
    command = [
        sys.executable, "-m", "resque_impl.cli", "--redis", redis_server.url, "metrics", "--port", "0",
        "--statsd", f"127.0.0.1:{statsd.getsockname()[1]}", "--statsd-interval", "0.2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        url = re.search(r"http://\S+/metrics", banner)
        assert url, banner
        with urllib.request.urlopen(url.group(0), timeout=10) as response:
            body = response.read().decode()
            content_type = response.headers["Content-Type"]
        datagram = statsd.recv(65536).decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
        statsd.close()

    families = {family.name: family for family in text_string_to_metric_families(body)}
    assert families["resque_queue_depth"].samples[0].labels == {"queue": "email"}
    assert content_type.startswith("text/plain")
    assert "resque.queues.email.depth:1|g" in datagram.splitlines()
    assert process.returncode == 0
