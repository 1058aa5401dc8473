"""Calibration files: read and checked, and applied to worker pools where the scenario sets no value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from resque_sim.calibration import (
    Calibration,
    CalibrationError,
    Figure,
    Figures,
    apply_calibration,
    dump_calibration,
    load_calibration,
)
from resque_sim.cli import command
from resque_sim.scenario import load_scenario

MEANS = {
    "job_overhead": 0.001,
    "fork_overhead": 0.015,
    "fork_start": 0.004,
    "wake_latency": 0.002,
    "poll_cost": 0.003,
    "boot_time": 0.5,
}

SCENARIO = """\
version: 1
name: forking
seed: 4
duration: 3m
backend: memory
arrivals:
  - {name: load, process: {type: poisson, rate: 30/s}}
jobs:
  Sleep: {queue: default, duration: {dist: exponential, mean: 40ms}}
workers:
  - pool: default
    count: 2
    queues: [default]
    interval: instant
    fork_per_job: true
"""


def calibration(*, without: str | None = None) -> Calibration:
    figures = {
        name: Figure(mean=mean, p50=mean, p95=2 * mean, stdev=mean / 2, samples=10)
        for name, mean in MEANS.items()
        if name != without
    }
    return Calibration(figures=Figures(**figures), machine={"hostname": "test", "cpus": 2})


def written(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "calibration.yaml"
    path.write_text(dump_calibration(calibration()) if text is None else text)
    return path


def scenario_file(tmp_path: Path, pool_fields: str = "") -> Path:
    path = tmp_path / "forking.yaml"
    path.write_text(SCENARIO + pool_fields)
    return path


def test_a_written_calibration_reads_back_the_same(tmp_path: Path) -> None:
    assert load_calibration(written(tmp_path)) == calibration()


def test_every_unset_pool_field_takes_the_figures_mean(tmp_path: Path) -> None:
    pool = apply_calibration(load_scenario(scenario_file(tmp_path)), calibration()).pool("default")
    assert (pool.job_overhead, pool.fork_overhead, pool.fork_start) == (0.001, 0.015, 0.004)
    assert (pool.wake_latency, pool.poll_cost, pool.restart.boot_time) == (0.002, 0.003, 0.5)


def test_a_calibration_written_before_fork_start_was_measured_still_loads_and_applies(tmp_path: Path) -> None:
    older = written(tmp_path, yaml.safe_dump(figures_without("fork_start")))
    loaded = load_calibration(older)
    assert "fork_start" not in loaded.measured
    pool = apply_calibration(load_scenario(scenario_file(tmp_path)), loaded).pool("default")
    assert (pool.fork_overhead, pool.fork_start) == (0.015, None)  # the whole overhead before perform
    assert "fork_start" not in dump_calibration(loaded)


def test_a_pool_setting_its_own_fork_overhead_takes_no_calibrated_fork_start(tmp_path: Path) -> None:
    pool = apply_calibration(
        load_scenario(scenario_file(tmp_path), ["workers.default.fork_overhead=20ms"]), calibration()
    )
    assert (pool.pool("default").fork_overhead, pool.pool("default").fork_start) == (0.02, None)


def test_a_calibrated_fork_start_shortens_waits_against_the_whole_overhead_before_perform(tmp_path: Path) -> None:
    scenario = scenario_file(tmp_path)
    split = simulated_wait(tmp_path, scenario, "--calibration", str(written(tmp_path)))
    older = written(tmp_path, yaml.safe_dump(figures_without("fork_start")))
    whole = simulated_wait(tmp_path, scenario, "--calibration", str(older))
    # the same work per job; only the jobs that find a worker idle wait less (4 ms of the 15 before perform)
    assert split < whole


def test_the_scenarios_own_values_win_over_the_calibration(tmp_path: Path) -> None:
    explicit = "    fork_overhead: 0s\n    restart: {max_jobs: 100, boot_time: 2s}\n"
    pool = apply_calibration(load_scenario(scenario_file(tmp_path, explicit)), calibration()).pool("default")
    assert (pool.fork_overhead, pool.restart.boot_time, pool.restart.max_jobs) == (0.0, 2.0, 100)
    assert pool.job_overhead == 0.001  # not set by the scenario, so calibrated


def test_set_overrides_count_as_the_scenarios_own_values(tmp_path: Path) -> None:
    scenario = load_scenario(scenario_file(tmp_path), ["workers.default.wake_latency=0"])
    assert apply_calibration(scenario, calibration()).pool("default").wake_latency == 0.0


def simulated_wait(tmp_path: Path, scenario: Path, *options: str) -> float:
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    result = CliRunner().invoke(command, [str(scenario), "--out", str(out), "--no-charts", "-q", *options])
    assert result.exit_code == 0, result.output
    wait: float = json.loads((out / "summary.json").read_text())["wait"]["mean"]
    return wait


def test_calibration_lengthens_a_forking_pools_simulated_waits(tmp_path: Path) -> None:
    scenario = scenario_file(tmp_path)
    plain = simulated_wait(tmp_path, scenario)
    calibrated = simulated_wait(tmp_path, scenario, "--calibration", str(written(tmp_path)))
    # 16 ms more per job raises utilisation from 0.60 to 0.84: M/M/2 puts the mean wait well over double
    assert calibrated > 2 * plain


def test_a_scenario_setting_every_overhead_is_not_changed_by_a_calibration(tmp_path: Path) -> None:
    explicit = "    fork_overhead: 5ms\n    job_overhead: 0s\n    wake_latency: 0s\n"
    scenario = scenario_file(tmp_path, explicit)
    calibrated = simulated_wait(tmp_path, scenario, "--calibration", str(written(tmp_path)))
    assert calibrated == simulated_wait(tmp_path, scenario)


def figures_without(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(dump_calibration(calibration()))
    del data["figures"][name]
    return data


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("figures: [unclosed", "not valid YAML at line 1"),
        ("- a list\n", "not a calibration"),
        (yaml.safe_dump(figures_without("fork_overhead")), "figures.fork_overhead: Field required"),
        (dump_calibration(calibration()).replace("mean: 0.5", "mean: -0.5"), "figures.boot_time.mean:"),
        (dump_calibration(calibration()).replace("version: 1", "version: 2"), "version:"),
    ],
)
def test_a_malformed_calibration_file_exits_2_with_one_line_naming_file_and_field(
    tmp_path: Path, text: str, message: str
) -> None:
    path = written(tmp_path, text)
    with pytest.raises(CalibrationError, match=message):
        load_calibration(path)
    result = CliRunner().invoke(command, [str(scenario_file(tmp_path)), "--calibration", str(path)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"{path}: ")


def test_a_missing_calibration_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(command, [str(scenario_file(tmp_path)), "--calibration", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "cannot read the calibration file" in result.output


def test_the_run_says_which_overheads_it_simulates_with(tmp_path: Path) -> None:
    explicit = "    fork_overhead: 4ms\n"
    path = written(tmp_path)
    args = [str(scenario_file(tmp_path, explicit)), "--calibration", str(path), "--out", str(tmp_path / "out")]
    result = CliRunner().invoke(command, [*args, "--no-charts", "--set", "duration=10s"])
    assert result.exit_code == 0, result.output
    assert (
        f"calibrated from {path}: pool default: job_overhead 1 ms, fork_overhead 4 ms, wake_latency 2 ms, "
        "poll_cost 3 ms, boot_time 500 ms"
    ) in result.output
