"""docs/activejob.md says what is true: its walkthrough runs as written against a private redis-server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from resque_impl.testing import RedisServer
from tests.docs.test_readme import ROOT, blocks, section

PAGE = ROOT / "docs" / "activejob.md"


def test_the_first_rails_job_walkthrough_runs_as_written(redis_server: RedisServer, tmp_path: Path) -> None:
    walkthrough = section(PAGE.read_text(), "A first Rails job in Python")
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
    assert "1 job waiting on queue mailers, 1 scheduled" in enqueued
    assert "invoice of 9.99 for user 42 (run 1)" in worked
    assert "2 passed" in tested
    assert client.llen("resque:queue:mailers") == 0
    assert client.zcard("resque:delayed_queue_schedule") == 1
