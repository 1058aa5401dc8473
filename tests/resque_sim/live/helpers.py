"""Scenarios and commands for the live replay tests: short runs at a few jobs a second, on a real Redis."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from resque_sim.scenario import Scenario, parse_scenario

__all__ = ["live_scenario", "start_cli", "start_python_worker", "write_scenario"]


def live_scenario(seconds: float = 4.0, tail: float = 1.0, **fields: Any) -> dict[str, Any]:
    """``seconds`` of scenario time: Poisson arrivals at 10/s of ``Job`` (exponential, 40 ms mean; 20% raise
    ``TimeoutError``) on queue ``default`` for all but the last ``tail`` seconds, so every job finishes in
    time, served by two instant in-process workers; ``fields`` replace top-level fields."""
    arrive_for = f"{seconds - tail:g}s"
    process = {"type": "spike", "base": "0/s", "peak": "10/s", "start": "0s", "duration": arrive_for}
    data: dict[str, Any] = {
        "name": "live-test",
        "seed": 11,
        "duration": f"{seconds:g}s",
        "arrivals": [{"name": "load", "process": process}],
        "jobs": {
            "Job": {
                "queue": "default",
                "duration": {"dist": "exponential", "mean": "40ms"},
                "failure": {"probability": 0.2, "exceptions": {"TimeoutError": 1.0}},
            }
        },
        "workers": [{"pool": "default", "count": 2, "queues": ["*"], "interval": "instant", "fork_per_job": False}],
    }
    data.update(fields)
    return data


def write_scenario(path: Path, data: dict[str, Any]) -> Scenario:
    """Write ``data`` as a scenario file at ``path`` and return it parsed."""
    path.write_text(yaml.safe_dump(data))
    return parse_scenario(data)


def start_cli(*args: str) -> subprocess.Popen[str]:
    """``resque-sim ARGS`` in a child process (the caller waits for it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "resque_sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )


def start_python_worker(url: str, *, fork: bool, probe: bool = True) -> subprocess.Popen[bytes]:
    """``resque-impl work --jobs resque_sim.live.probe`` (without ``--jobs`` unless ``probe``) on every
    queue, polling every 0.1 s."""
    command = [sys.executable, "-m", "resque_impl.cli", "work", "--queues", "*", "--interval", "0.1"]
    command += ["--jobs", "resque_sim.live.probe"] if probe else []
    command += ["--redis", url, "--fork" if fork else "--no-fork"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
