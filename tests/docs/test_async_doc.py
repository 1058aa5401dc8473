"""docs/async.md says what is true: its FastAPI-style walkthrough runs as written against a private
redis-server, and the API summary at its top runs too."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path

from resque_impl.aio import AsyncResque
from resque_impl.registry import Registry
from resque_impl.testing import RedisServer
from tests.docs.walkthrough import ROOT, blocks, run_walkthrough, section

PAGE = ROOT / "docs" / "async.md"


def test_the_fastapi_style_walkthrough_runs_as_written(redis_server: RedisServer, tmp_path: Path) -> None:
    walkthrough = section(PAGE.read_text(), "A FastAPI-style app")
    client = redis_server.client()
    client.flushall()

    served, tested = run_walkthrough(walkthrough, tmp_path, redis_server.url)

    assert served.strip() == "{'waiting': 1}"
    assert "2 passed" in tested
    assert client.lrange("resque:queue:email", 0, -1) == [b'{"class":"WelcomeEmail","args":["ann@example.com"]}']


def test_the_api_summary_runs(redis_server: RedisServer) -> None:
    class WelcomeEmail:
        queue = "email"

        @staticmethod
        def perform(user: int, text: str = "") -> None: ...

    summary = blocks(PAGE.read_text(), "python")[0]
    body = "\n".join("    " + line.split("  #")[0] for line in summary.splitlines() if "import" not in line)
    code = f"async def summary(AsyncResque, WelcomeEmail, datetime, timezone):\n{body}\n"
    namespace: dict[str, object] = {}
    exec(code, namespace)  # the page's own code, as a reader would paste it
    redis_server.client().flushall()

    def make(url: str) -> AsyncResque:
        return AsyncResque(redis_server.url, registry=Registry())

    asyncio.run(namespace["summary"](make, WelcomeEmail, datetime, timezone))  # type: ignore[operator]
    client = redis_server.client()
    assert client.lrange("resque:queue:q", 0, -1) == [b'{"class":"Ruby::Job","args":[1]}']
    assert client.llen("resque:queue:ruby_queue") == 1
    assert client.zcard("resque:delayed_queue_schedule") == 2
