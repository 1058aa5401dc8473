"""``resque-sim calibrate``: real worker processes on a real redis-server, measured in a few seconds."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from resque_impl.testing import RedisServer
from resque_sim.calibrate import QUICK, calibrate
from resque_sim.calibrate_cli import calibrate_command
from resque_sim.calibration import FIGURES, apply_calibration, load_calibration
from resque_sim.scenario import parse_scenario

DATABASE = 6


@pytest.fixture
def url(redis_server: RedisServer) -> Iterator[str]:
    """An empty database of the session's private redis-server."""
    client = redis_server.client(db=DATABASE)
    client.flushdb()
    yield f"redis://127.0.0.1:{redis_server.port}/{DATABASE}"
    client.flushdb()
    client.close()


def test_a_quick_calibration_writes_a_file_a_scenario_can_use_and_leaves_the_namespace_empty(
    tmp_path: Path, url: str, redis_server: RedisServer
) -> None:
    out = tmp_path / "calibration.yaml"
    result = CliRunner().invoke(calibrate_command, [url, "--out", str(out), "--quick", "-q"])
    assert result.exit_code == 0, result.output
    calibration = load_calibration(out)
    assert calibration.machine["quick"] is True
    assert calibration.machine["redis_version"]
    for name in FIGURES:
        figure = calibration.figure(name)
        assert figure.samples >= 1, name
        assert figure.p50 <= figure.p95, name
    # a fork costs more than an in-process job, and starting a Python process more than either
    assert calibration.figure("fork_overhead").mean > calibration.figure("job_overhead").mean
    assert calibration.figure("boot_time").mean > calibration.figure("fork_overhead").mean
    data = {
        "name": "calibrated",
        "duration": "1m",
        "arrivals": [{"process": {"type": "poisson", "rate": "1/s"}}],
        "jobs": {"Job": {"queue": "q", "duration": {"dist": "constant", "value": "1s"}}},
    }
    pool = apply_calibration(parse_scenario(data), calibration).pool("default")
    assert pool.fork_overhead == calibration.figure("fork_overhead").mean
    assert pool.fork_start == calibration.figure("fork_start").mean
    assert redis_server.client(db=DATABASE).dbsize() == 0


def test_a_namespace_holding_keys_is_refused_in_one_line_and_kept(
    tmp_path: Path, url: str, redis_server: RedisServer
) -> None:
    client = redis_server.client(db=DATABASE)
    client.set("resque:stat:processed", "7")
    result = CliRunner().invoke(calibrate_command, [url, "--out", str(tmp_path / "c.yaml"), "--quick"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "holds 1 keys" in result.output
    assert "--allow-flush" in result.output
    assert client.get("resque:stat:processed") == b"7"
    assert not (tmp_path / "c.yaml").exists()
    client.close()


def test_an_unreachable_redis_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(calibrate_command, [f"redis://127.0.0.1:{port}/0", "--out", str(tmp_path / "c.yaml")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"resque-sim calibrate: cannot use Redis at redis://127.0.0.1:{port}/0")


def test_allow_flush_deletes_what_the_namespace_held(url: str, redis_server: RedisServer) -> None:
    client = redis_server.client(db=DATABASE)
    client.set("resque:stat:processed", "7")
    calibrate(url, sizes=QUICK, allow_flush=True)
    assert client.dbsize() == 0
    client.close()


def test_several_workers_with_sleeping_jobs_are_measured_together_and_noted(url: str) -> None:
    calibration = calibrate(url, sizes=QUICK, workers=2, job_seconds=0.01)
    assert (calibration.machine["workers"], calibration.machine["job_seconds"]) == (2, 0.01)
    # every job beyond each worker's first few gives one sample, whichever worker ran it
    assert calibration.figure("job_overhead").samples >= QUICK.jobs
    assert calibration.figure("fork_overhead").samples >= QUICK.forked_jobs
    # the part before perform is measured on one idle worker, one push at a time
    assert calibration.figure("fork_start").samples == QUICK.forked_wakes
