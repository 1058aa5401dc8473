"""``resque-sim SCENARIO --live URL``: refusals before anything is enqueued, Ctrl-C, and a worker pool
that dies mid-run, seen from the command line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from resque_impl.testing import RedisServer
from tests.resque_sim.live.helpers import live_scenario, start_cli, start_python_worker, write_scenario


@pytest.fixture
def client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    client = redis_server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "live.yaml"
    write_scenario(path, live_scenario(1.5))
    return path


def _finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    stdout, stderr = process.communicate(timeout=timeout)
    return process.returncode, stdout, stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_ruby_probe_prints_the_file_a_ruby_worker_requires() -> None:
    code, stdout, _ = _finish(start_cli("--ruby-probe"))

    assert code == 0
    path = Path(stdout.strip())
    assert path.name == "probe.rb"
    assert "ResqueSim" in path.read_text()


def test_an_unreachable_redis_is_refused_in_one_line(scenario_file: Path, tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{_free_port()}/0"
    code, _, stderr = _finish(start_cli(str(scenario_file), "--live", url, "--out", str(tmp_path / "out")))

    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "cannot reach Redis" in stderr
    assert not (tmp_path / "out").exists()


def test_a_namespace_holding_queued_jobs_is_refused_before_anything_is_enqueued(
    scenario_file: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    client.sadd("resque:queues", "other")
    client.rpush("resque:queue:other", b'{"class":"Other","args":[]}')

    code, _, stderr = _finish(start_cli(str(scenario_file), "--live", redis_server.url))

    assert code == 2
    assert len(stderr.strip().splitlines()) == 1
    assert "1 queued jobs" in stderr
    assert "--allow-flush" in stderr
    assert client.llen("resque:queue:other") == 1
    assert client.exists("resque:queue:default") == 0
    assert client.keys("resque:resque-sim:*") == []


def test_another_runs_probe_keys_are_refused(
    scenario_file: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    client.set("resque:resque-sim:run:other", "{}")

    code, _, stderr = _finish(start_cli(str(scenario_file), "--live", redis_server.url))

    assert code == 2
    assert "another live run's probe keys" in stderr
    assert client.exists("resque:queue:default") == 0


def test_attach_without_a_registered_worker_is_refused(
    scenario_file: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    code, _, stderr = _finish(start_cli(str(scenario_file), "--live", redis_server.url, "--attach"))

    assert code == 2
    assert "--attach needs workers" in stderr
    assert client.exists("resque:queue:default") == 0


def test_allow_flush_empties_the_namespaces_queues_and_runs(
    scenario_file: Path, redis_server: RedisServer, client: redis.Redis, tmp_path: Path
) -> None:
    client.sadd("resque:queues", "other")
    client.rpush("resque:queue:other", b'{"class":"Other","args":[]}')
    client.set("unrelated", "kept")

    code, _, stderr = _finish(
        start_cli(
            str(scenario_file),
            "--live",
            redis_server.url,
            "--allow-flush",
            "--out",
            str(tmp_path / "out"),
            "--no-charts",
        )
    )

    assert code == 0, stderr
    assert client.llen("resque:queue:other") == 0
    assert client.get("unrelated") == b"kept"  # nothing outside the namespace is touched


def test_ctrl_c_writes_what_was_observed_and_removes_the_probe_keys(
    tmp_path: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    path = tmp_path / "long.yaml"
    write_scenario(path, live_scenario(120.0))
    out = tmp_path / "out"
    process = start_cli(str(path), "--live", redis_server.url, "--out", str(out), "--no-charts")
    try:
        _wait_for(
            lambda: any(client.llen(key) >= 3 for key in client.keys("resque:resque-sim:probe:*")),
            "three probe records",
        )
        process.send_signal(signal.SIGINT)
        code, _, stderr = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert code == 130, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["live"]["interrupted"] is True
    assert summary["simulated_seconds"] < 120
    assert summary["jobs"]["completed"] + summary["jobs"]["failed"] >= 3
    assert len((out / "jobs.csv").read_text().splitlines()) == 1 + summary["jobs"]["enqueued"]
    assert client.keys("resque:resque-sim:*") == []
    assert client.llen("resque:queue:default") == 0
    assert client.scard("resque:workers") == 0


def test_a_worker_killed_mid_run_is_reported_and_not_replaced(
    tmp_path: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    path = tmp_path / "kill.yaml"
    write_scenario(path, live_scenario(6.0))
    out = tmp_path / "out"
    process = start_cli(str(path), "--live", redis_server.url, "--out", str(out), "--no-charts", "--speed", "2")
    try:
        _wait_for(lambda: client.scard("resque:workers") == 2, "two registered workers")
        worker_id: bytes = sorted(client.smembers("resque:workers"))[0]  # type: ignore[assignment]
        victim = int(worker_id.decode().split(":")[1])
        os.kill(victim, signal.SIGKILL)
        code, _, stderr = _finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert code == 0, stderr
    assert f"(pid {victim}) killed by SIGKILL" in stderr
    assert "was not replaced" in stderr
    deaths = json.loads((out / "summary.json").read_text())["live"]["worker_deaths"]
    assert [(death["pid"], death["status"]) for death in deaths] == [(victim, "killed by SIGKILL")]


def test_a_failed_slo_exits_3_as_for_a_simulation(
    tmp_path: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    path = tmp_path / "slo.yaml"
    write_scenario(path, live_scenario(1.5, slo=[{"metric": "failure_rate", "max": 0.01}]))  # 20% of jobs fail

    code, stdout, stderr = _finish(
        start_cli(str(path), "--live", redis_server.url, "--out", str(tmp_path / "out"), "--no-charts")
    )

    assert code == 3, stderr
    assert "FAIL" in stdout


def test_jobs_taken_by_attached_workers_without_the_probe_are_reported(
    scenario_file: Path, tmp_path: Path, redis_server: RedisServer, client: redis.Redis
) -> None:
    worker = start_python_worker(redis_server.url, fork=False, probe=False)
    try:
        _wait_for(lambda: client.scard("resque:workers") == 1, "the worker to register")
        out = tmp_path / "out"
        code, _, stderr = _finish(
            start_cli(str(scenario_file), "--live", redis_server.url, "--attach", "--out", str(out), "--no-charts")
        )
    finally:
        worker.terminate()
        worker.wait(10)

    assert code == 0, stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["live"]["unrecorded_jobs"] == summary["jobs"]["enqueued"] > 0
    assert "never recorded" in stderr
