"""The README's first command works and tells a reader what happened."""

from __future__ import annotations

import io
import subprocess
import sys

from resque_impl.demo import run_demo


def test_demo_works_every_job_and_reports_the_failure() -> None:
    out = io.StringIO()
    info = run_demo(out)
    text = out.getvalue()
    assert (info["processed"], info["failed"], info["workers"], info["pending"]) == (5, 1, 0, 0)
    assert text.index("charged order 1001") < text.index("sent a welcome email to user 42")
    assert "on_failure hook: would page someone about order 1002" in text
    assert '"exception": "ValueError"' in text
    assert "processed 5 jobs, 1 failed" in text


def test_demo_runs_as_a_module() -> None:
    command = [sys.executable, "-m", "resque_impl.demo"]
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "processed 5 jobs, 1 failed" in done.stdout
