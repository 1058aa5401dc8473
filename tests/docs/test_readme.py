"""The README and docs/ say what is true: the first-job walkthrough runs as written, every Python block
compiles, and every relative link leads to a file of this repository."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from resque_impl.testing import RedisServer
from tests.docs.walkthrough import ROOT, blocks, run_walkthrough, section

README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_your_first_job_runs_as_written(redis_server: RedisServer, tmp_path: Path) -> None:
    walkthrough = section(README.read_text(), "Your first job")
    client = redis_server.client()
    client.flushall()

    enqueued, worked, tested = run_walkthrough(walkthrough, tmp_path, redis_server.url)

    assert "1 job waiting on queue email" in enqueued
    assert "sent 'Welcome aboard' to user 42" in worked
    assert "2 passed" in tested
    assert client.llen("resque:queue:email") == 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_compiles(page: Path) -> None:
    for number, block in enumerate(blocks(page.read_text(), "python"), 1):
        try:
            # Top-level await as in `python -m asyncio`: the async pages' summaries are written so.
            compile(block, f"{page.name} python block {number}", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError as error:
            pytest.fail(f"{page.name}, python block {number}: {error}")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    targets = [target for target in LINK.findall(page.read_text()) if "://" not in target]
    missing = [target for target in targets if not (page.parent / target).exists()]
    assert missing == [], f"{page.name} links to files that do not exist: {missing}"
