"""The README and docs/ say what is true: the first-job walkthrough runs as written, every Python block
compiles, and every relative link leads to a file of this repository."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from resque_impl.testing import RedisServer

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(text) if lang == language]


def test_your_first_job_runs_as_written(redis_server: RedisServer, tmp_path: Path) -> None:
    walkthrough = section(README.read_text(), "Your first job")
    for block in blocks(walkthrough, "python"):
        name = block.splitlines()[0].removeprefix("# ")
        assert name.endswith(".py"), f"each Python block of the walkthrough starts with its file name: {block[:60]!r}"
        (tmp_path / name).write_text(block)
    (commands,) = blocks(walkthrough, "bash")
    client = redis_server.client()
    client.flushall()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "REDIS_URL": redis_server.url, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    env.pop("PYTEST_ADDOPTS", None)

    outputs = []
    for line in commands.splitlines():
        command = line.split("  #")[0].strip()
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, f"{command!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        outputs.append(done.stdout + done.stderr)

    enqueued, worked, tested = outputs
    assert "1 job waiting on queue email" in enqueued
    assert "sent 'Welcome aboard' to user 42" in worked
    assert "2 passed" in tested
    assert client.llen("resque:queue:email") == 0


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_python_block_compiles(page: Path) -> None:
    for number, block in enumerate(blocks(page.read_text(), "python"), 1):
        try:
            compile(block, f"{page.name} python block {number}", "exec")
        except SyntaxError as error:
            pytest.fail(f"{page.name}, python block {number}: {error}")


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_leads_to_a_file(page: Path) -> None:
    targets = [target for target in LINK.findall(page.read_text()) if "://" not in target]
    missing = [target for target in targets if not (page.parent / target).exists()]
    assert missing == [], f"{page.name} links to files that do not exist: {missing}"
