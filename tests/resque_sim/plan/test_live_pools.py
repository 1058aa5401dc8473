"""Slow: a plan per pool from what real ``resque-impl work`` processes recorded while they were running.

One worker serves ``critical``, two serve ``default,low`` (no fork, a private redis-server); for 20 s,
jobs that sleep 50 ms are pushed on ``default`` and jobs that append a line to a file on ``critical``.
``resque-sim plan`` on that Redis, while the workers are still registered, sees both pools as deployed,
plans each on its own queue and recommends a count for each; the recorded run time of the sleeping job
is its sleep (within 10 %, plus the worker's per-job overhead).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from resque_impl import Resque
from resque_impl.job_metrics import read_job_metrics
from resque_impl.testing import RedisServer
from resque_sim.plan.cli import plan_command
from tests.worker_jobs import ProcMark, ProcSlow

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
SLEEP = 0.05
#: jobs a second pushed on each queue
RATES = {"critical": 4.0, "default": 6.0}
SECONDS = 20.0


def _worker(url: str, queues: str, count: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "resque_impl.cli", "--redis", url, "work", "-q", queues, "--count", str(count),
               "--no-fork", "--interval", "0.1", "--jobs", "tests.worker_jobs"]  # fmt: skip
    environment = {k: v for k, v in os.environ.items() if k not in ("INTERVAL", "QUEUES", "QUEUE", "COUNT")}
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_each_running_pool_is_planned_from_what_its_workers_recorded(redis_server: RedisServer, tmp_path: Path) -> None:
    client = redis_server.client()
    client.flushall()
    resque = Resque(redis_server.url)
    workers = [
        _worker(redis_server.url, "critical", 1, tmp_path / "critical.log"),
        _worker(redis_server.url, "default,low", 2, tmp_path / "default.log"),
    ]
    try:
        _wait_for(lambda: len(resque.store.worker_ids()) == 3, "three registered workers")
        started, pushed = time.monotonic(), 0
        schedule = sorted(
            (index / rate, queue) for queue, rate in RATES.items() for index in range(int(rate * SECONDS))
        )
        for offset, queue in schedule:
            time.sleep(max(0.0, started + offset - time.monotonic()))
            if queue == "critical":
                resque.enqueue_to(queue, ProcMark, str(tmp_path / "marks"), "x")
            else:
                resque.enqueue_to(queue, ProcSlow, str(tmp_path / "notes"), SLEEP)
            pushed += 1

        def recorded() -> bool:
            # a worker writes what it recorded at its first job 5 s after the last write, the rest when it stops
            now = resque.store.server_time()
            return sum(item.executions for item in read_job_metrics(resque.store, now, 10).classes) >= 0.6 * pushed

        _wait_for(recorded, f"most of {pushed} jobs recorded (logs in {tmp_path})")
        arguments = ["--out", str(tmp_path / "plan"), "--window", "10m", "--slo", "wait.p95<1s", "--growth", "1"]
        arguments += ["--interval", "instant", "--no-fork", "--duration", "120s", "--processes", "1", "--no-charts"]
        result = CliRunner().invoke(plan_command, [redis_server.url, *arguments])
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        client.close()

    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text())
    pools = {pool["name"]: pool for pool in summary["plan"]["pools"]}
    assert {name: (pool["queues"], pool["count"], pool["served"]) for name, pool in pools.items()} == {
        "default": (["default", "low"], 2, ["default"]),
        "pool2": (["critical"], 1, ["critical"]),
    }
    assert SLEEP <= summary["plan"]["classes"]["ProcSlow"]["mean"] <= SLEEP * 1.1 + 0.005
    for pool in pools.values():
        assert pool["recommended"] is not None
        assert pool["recommended"] > pool["offered_load"]
    assert summary["recommended_pools"] == {name: pool["recommended"] for name, pool in pools.items()}
    assert summary["plan"]["combined"]["ok"] is True
    assert "pool pool2 (critical, 1 today)" in result.output
