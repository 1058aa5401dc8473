"""``resque-sim``: outputs, exit statuses, sweeps, replications, backends and reproducibility."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from resque_impl.testing import RedisServer
from resque_impl.testing.sentinel import SentinelTopology
from resque_sim.cli import command
from resque_sim.metrics import JOB_COLUMNS

REPO = Path(__file__).resolve().parents[2]

SCENARIO = """\
version: 1
name: tiny
seed: 3
duration: 10m
backend: memory
arrivals:
  - name: web
    process: {type: spike, base: 2/s, peak: 6/s, start: 4m, duration: 1m}
    mix: {Mailer: 0.8, Report: 0.2}
jobs:
  Mailer:
    queue: email
    duration: {dist: lognormal, median: 0.3s, p99: 3s}
    failure: {probability: 0.05, exceptions: {Net::ReadTimeout: 1}, retry: {max: 2, base: 5s}}
  Report:
    queue: reports
    duration: {dist: gamma, mean: 2s, cv: 0.5}
    memory: {working_set_mb: {dist: constant, value: 30}, leak_mb: 1}
workers:
  - pool: default
    count: 4
    queues: [email, reports]
    interval: 1s
    fork_per_job: false
    memory: {base_mb: 100}
    restart: {max_rss_mb: 160, boot_time: 5s}
slo:
  - {metric: wait, queue: email, percentile: 99, max: 60s}
  - {metric: failure_rate, max: 0.2}
"""

SUMMARY_FIELDS = {
    "scenario": str,
    "seed": int,
    "replications": int,
    "backend": str,
    "simulated_seconds": float,
    "wall_seconds": float,
    "jobs": dict,
    "wait": dict,
    "latency": dict,
    "queues": dict,
    "utilization": float,
    "workers": dict,
    "slo": list,
    "sweep": list,
    "ok": bool,
}


def scenario_file(tmp_path: Path, text: str = SCENARIO) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(text)
    return path


def simulate(*args: str | Path) -> Result:
    return CliRunner().invoke(command, [str(arg) for arg in args], catch_exceptions=False)


def summary(out: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return loaded


def test_a_run_writes_every_output_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = simulate(scenario_file(tmp_path), "--out", out, "--processes", "1")
    assert result.exit_code == 0, result.output
    names = {path.name for path in out.iterdir()}
    charts = {"wait.png", "queue_depth.png", "workers.png", "throughput.png", "worker_memory.png", "wait_cdf.png"}
    assert {"summary.json", "jobs.csv", "timeseries.csv", "workers.csv", "report.html"} | charts <= names
    assert "every SLO holds" in result.output
    assert "wait p99 email" in result.output


def test_summary_has_the_contract_fields(tmp_path: Path) -> None:
    out = tmp_path / "out"
    simulate(scenario_file(tmp_path), "--out", out, "--processes", "1")
    document = summary(out)
    for field, kind in SUMMARY_FIELDS.items():
        assert isinstance(document[field], kind), field
    assert set(document["jobs"]) >= {"enqueued", "completed", "failed", "pending_at_end"}
    assert set(document["wait"]) == set(document["latency"]) == {"mean", "p50", "p95", "p99", "max"}
    assert set(document["queues"]) == {"email", "reports"}
    assert set(document["queues"]["email"]) >= {"wait", "max_depth"}
    assert set(document["workers"]) >= {"count", "restarts", "peak_rss_mb"}
    assert document["workers"]["restarts"] > 0  # the leak makes the restart policy fire
    assert document["recommended"] is None
    jobs = document["jobs"]
    assert jobs["enqueued"] == jobs["completed"] + jobs["failed"] + jobs["pending_at_end"]
    assert document["slo"][0] == {
        "metric": "wait",
        "queue": "email",
        "percentile": 99,
        "limit": 60.0,
        "value": document["slo"][0]["value"],
        "ok": True,
    }


def test_jobs_csv_has_exactly_the_contract_columns(tmp_path: Path) -> None:
    out = tmp_path / "out"
    simulate(scenario_file(tmp_path), "--out", out, "--processes", "1")
    lines = (out / "jobs.csv").read_text().splitlines()
    assert lines[0].split(",") == list(JOB_COLUMNS)
    assert len(lines) - 1 == summary(out)["jobs"]["enqueued"]


def test_the_html_report_stands_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    simulate(scenario_file(tmp_path), "--out", out, "--processes", "1")
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 6
    assert "http://" not in page
    assert "https://" not in page
    assert "src='data:" in page


def test_the_default_output_folder_is_named_after_the_scenario(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = scenario_file(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert simulate(path, "--processes", "1", "--no-charts").exit_code == 0
    assert (tmp_path / "sim-out" / "tiny" / "summary.json").exists()


def test_a_failed_slo_exits_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = simulate(scenario_file(tmp_path), "--out", out, "--processes", "1", "--set", "slo.0.max=1ms")
    assert result.exit_code == 3
    assert "FAIL" in result.output
    assert summary(out)["ok"] is False


def test_a_bad_scenario_exits_2_naming_the_file_field_and_fix(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, SCENARIO.replace("base: 2/s", "base: 5/sec"))
    result = CliRunner().invoke(command, [str(path)])
    assert result.exit_code == 2
    assert f'{path}: arrivals[0].process.base: "5/sec" is not a rate; use N/s, N/m or N/h' in result.output


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        (["--set", "workers.nope.count=3"], "workers has no entry named"),
        (["--sweep", "workers.default.count=4,zero"], 'expected a whole number, got "zero"'),
        (["--sweep", "no-equals-sign"], "must look like param=v1,v2"),
    ],
)
def test_bad_overrides_exit_2(tmp_path: Path, option: list[str], expected: str) -> None:
    result = CliRunner().invoke(command, [str(scenario_file(tmp_path)), *option])
    assert result.exit_code == 2
    assert expected in result.output


def test_a_sweep_recommends_the_fewest_workers_meeting_every_slo(tmp_path: Path) -> None:
    out = tmp_path / "out"
    strict = SCENARIO.replace("max: 60s", "max: 5s")
    result = simulate(
        scenario_file(tmp_path, strict), "--out", out, "--processes", "1", "--sweep", "workers.default.count=1,2,4,8"
    )
    document = summary(out)
    assert [point["value"] for point in document["sweep"]] == [1, 2, 4, 8]
    oks = [point["ok"] for point in document["sweep"]]
    assert oks == sorted(oks)  # more workers never break an SLO here
    assert document["recommended"] == [1, 2, 4, 8][oks.index(True)]
    assert (out / "capacity.png").exists()
    assert f"recommended workers.default.count: {document['recommended']}" in result.output


def test_parallel_processes_give_the_same_results_as_one(tmp_path: Path) -> None:
    documents = []
    for processes in ("1", "2"):
        out = tmp_path / processes
        simulate(scenario_file(tmp_path), "--out", out, "--processes", processes, "--replications", "2", "--no-charts")
        document = summary(out)
        document.pop("wall_seconds")
        documents.append(document)
        assert (out / "jobs.csv").exists()
    assert documents[0] == documents[1]
    assert (tmp_path / "1" / "jobs.csv").read_bytes() == (tmp_path / "2" / "jobs.csv").read_bytes()


def test_replications_give_confidence_intervals(tmp_path: Path) -> None:
    out = tmp_path / "out"
    simulate(scenario_file(tmp_path), "--out", out, "--processes", "1", "--replications", "3", "--no-charts")
    document = summary(out)
    assert document["replications"] == 3
    low, high = document["slo"][0]["ci95"]
    assert low <= document["slo"][0]["value"] <= high
    assert len(document["slo"][0]["replications"]) == 3
    assert document["confidence"]["wait.p99"] is not None


def run_process(path: Path, out: Path, backend: str, hash_seed: str) -> None:
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    command_line = [sys.executable, "-m", "resque_sim", str(path), "--backend", backend, "--out", str(out)]
    completed = subprocess.run(
        [*command_line, "--no-charts", "--quiet", "--set", "duration=3m"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stderr


# A forking pool beside the non-forking one, its fork's cost split around perform (fork_start).
FORKING_POOL = """\
  - pool: forking
    count: 1
    queues: [reports, email]
    interval: instant
    fork_overhead: 20ms
    fork_start: 5ms
slo:
"""


def test_the_same_seed_gives_byte_identical_jobs_on_fake_and_memory_whatever_the_hash_seed(tmp_path: Path) -> None:
    path = scenario_file(tmp_path, SCENARIO.replace("slo:\n", FORKING_POOL))
    run_process(path, tmp_path / "memory", "memory", "1")
    run_process(path, tmp_path / "fake", "fake", "2")
    run_process(path, tmp_path / "memory-again", "memory", "3")
    jobs = (tmp_path / "memory" / "jobs.csv").read_bytes()
    assert jobs.count(b"\n") > 300
    assert jobs == (tmp_path / "fake" / "jobs.csv").read_bytes()
    assert jobs == (tmp_path / "memory-again" / "jobs.csv").read_bytes()


@pytest.fixture
def database(redis_server: RedisServer) -> str:
    """An empty database of the session's private redis-server (ours to flush)."""
    client = redis_server.client(db=5)
    client.flushdb()
    client.close()
    return f"redis://127.0.0.1:{redis_server.port}/5"


def test_the_redis_backend_samples_redis_memory(tmp_path: Path, database: str) -> None:
    out = tmp_path / "out"
    result = simulate(
        scenario_file(tmp_path), "--out", out, "--redis", database, "--set", "duration=2m", "--replications", "2"
    )
    assert result.exit_code == 0, result.output
    document = summary(out)
    assert document["backend"] == "redis"
    assert document["redis"]["peak_used_memory_mb"] > 0
    assert (out / "redis_memory.png").exists()
    assert "redis_used_memory_mb" in (out / "timeseries.csv").read_text().splitlines()[0]


def test_the_redis_backend_takes_a_sentinel_url(tmp_path: Path, redis_sentinel: SentinelTopology) -> None:
    with redis_sentinel.server_on(redis_sentinel.primary_port()).client(db=5) as client:
        client.flushdb()
    out = tmp_path / "out"
    url = f"{redis_sentinel.url}/5"
    result = simulate(scenario_file(tmp_path), "--out", out, "--redis", url, "--set", "duration=1m")
    assert result.exit_code == 0, result.output
    assert summary(out)["backend"] == "redis"


def test_the_redis_backend_refuses_a_database_holding_keys_unless_allowed_to_flush(
    tmp_path: Path, database: str, redis_server: RedisServer
) -> None:
    client = redis_server.client(db=5)
    client.set("somebody-elses-key", "precious")
    path = scenario_file(tmp_path)
    refused = CliRunner().invoke(command, [str(path), "--redis", database, "--out", str(tmp_path / "a")])
    assert refused.exit_code == 2
    assert "holds 1 keys" in refused.output
    assert "--allow-flush" in refused.output
    assert client.get("somebody-elses-key") == b"precious"
    allowed = simulate(path, "--redis", database, "--allow-flush", "--out", tmp_path / "b", "--set", "duration=1m")
    assert allowed.exit_code == 0, allowed.output
    assert client.get("somebody-elses-key") is None
    client.close()
