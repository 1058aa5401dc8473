"""``--jobs MODULE`` makes a real worker run the plain job classes MODULE defines, as Ruby runs any
class that responds to ``perform``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from resque_impl import Resque
from resque_impl.testing import RedisServer
from tests.plain_jobs import PlainMark

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def resque(redis_server: RedisServer) -> Resque:
    client = redis_server.client()
    client.flushall()
    return Resque(client)


def burst(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", url, "work", "-q", "plain", "--burst", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def test_a_worker_runs_plain_classes_from_its_jobs_modules_by_any_ruby_spelling_of_the_name(
    resque: Resque, redis_server: RedisServer, tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    resque.enqueue(PlainMark, str(marks), "class object")
    # Ruby Resque's constantize camel-cases a dashed name: "plain-mark" is PlainMark.
    resque.push("plain", {"class": "plain-mark", "args": [str(marks), "dashed name"]})
    done = burst(redis_server.url, "--jobs", "tests.plain_jobs")
    assert done.returncode == 0, done.stdout + done.stderr
    assert marks.read_text().splitlines() == ["class object", "dashed name"]
    assert resque.failures.count() == 0


def test_without_its_module_a_worker_fails_a_plain_job_as_an_unknown_class(
    resque: Resque, redis_server: RedisServer, tmp_path: Path
) -> None:
    resque.enqueue(PlainMark, str(tmp_path / "marks"), "x")
    done = burst(redis_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    (record,) = resque.failures.all()
    assert record.data["exception"] == "NameError"
    assert "PlainMark" in record.data["error"]
