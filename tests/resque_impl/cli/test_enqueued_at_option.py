"""``--enqueued-at`` / ``RESQUE_ENQUEUED_AT``: commands stamp the payloads they write."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from resque_impl import Resque, decode_payload
from resque_impl.cli import main
from resque_impl.testing import RedisServer


def test_enqueued_at_can_be_switched_on_for_the_cli(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server = redis_server
    server.client().flushall()
    runner = CliRunner()
    runner.invoke(main, ["--redis", server.url, "--enqueued-at", "enqueue", "q", "J", "1"], catch_exceptions=False)
    monkeypatch.setenv("RESQUE_ENQUEUED_AT", "1")
    runner.invoke(main, ["--redis", server.url, "enqueue", "q", "J", "2"], catch_exceptions=False)
    monkeypatch.setenv("RESQUE_ENQUEUED_AT", "0")
    runner.invoke(main, ["--redis", server.url, "enqueue", "q", "J", "3"], catch_exceptions=False)

    payloads = [decode_payload(raw) for raw in Resque(server.url).peek_raw("q", 0, 10)]
    assert [sorted(payload.extras) for payload in payloads] == [["enqueued_at"], ["enqueued_at"], []]
