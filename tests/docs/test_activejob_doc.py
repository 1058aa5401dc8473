"""docs/activejob.md says what is true: its walkthrough runs as written against a private redis-server."""

from __future__ import annotations

from pathlib import Path

from resque_impl.testing import RedisServer
from tests.docs.walkthrough import ROOT, run_walkthrough, section

PAGE = ROOT / "docs" / "activejob.md"


def test_the_first_rails_job_walkthrough_runs_as_written(redis_server: RedisServer, tmp_path: Path) -> None:
    walkthrough = section(PAGE.read_text(), "A first Rails job in Python")
    client = redis_server.client()
    client.flushall()

    enqueued, worked, tested = run_walkthrough(walkthrough, tmp_path, redis_server.url)

    assert "1 job waiting on queue mailers, 1 scheduled" in enqueued
    assert "invoice of 9.99 for user 42 (run 1)" in worked
    assert "2 passed" in tested
    assert client.llen("resque:queue:mailers") == 0
    assert client.zcard("resque:delayed_queue_schedule") == 1
