"""``resque-sim compare``: two run outputs side by side, with differences, charts and a verdict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from resque_sim.compare import compare_runs
from resque_sim.compare_cli import compare_command
from resque_sim.report import write_outputs
from resque_sim.run_output import load_run
from resque_sim.runner import run_scenario
from tests.resque_sim.helpers import make_scenario

WORKERS = [{"pool": "default", "count": 3, "queues": ["*"], "interval": "instant"}]
JOBS = {
    "Mail": {"queue": "mail", "duration": {"dist": "exponential", "mean": "1s"}},
    "Report": {"queue": "reports", "duration": {"dist": "exponential", "mean": "1s"}},
}
ARRIVALS = [{"name": "load", "process": {"type": "poisson", "rate": "2/s"}, "mix": {"Mail": 0.7, "Report": 0.3}}]


def simulated(out: Path, **fields: Any) -> Path:
    """The outputs of a 3-minute run of two queues served by three instant workers (``fields`` replace)."""
    scenario = make_scenario(
        **{"duration": "3m", "seed": 5, "workers": WORKERS, "jobs": JOBS, "arrivals": ARRIVALS, **fields}
    )
    write_outputs(run_scenario(scenario, processes=1), out, charts=False)
    return out


def test_two_runs_of_one_scenario_and_seed_are_the_same_with_zero_differences(tmp_path: Path) -> None:
    comparison = compare_runs(load_run(simulated(tmp_path / "a")), load_run(simulated(tmp_path / "b")))
    assert comparison.verdict.kind == "same"
    assert {row.scope for row in comparison.rows} == {"all", "mail", "reports"}
    assert all(row.difference == 0 and row.relative == 0 for row in comparison.rows)


def test_fewer_workers_show_longer_waits_deeper_queues_and_the_same_throughput(tmp_path: Path) -> None:
    fewer = [{**WORKERS[0], "count": 2}]
    comparison = compare_runs(
        load_run(simulated(tmp_path / "three")), load_run(simulated(tmp_path / "two", workers=fewer))
    )
    assert comparison.verdict.kind == "different"
    assert "mean wait" in comparison.verdict.text
    for scope in ("all", "mail", "reports"):
        for metric in ("wait.mean", "wait.p95", "latency.mean", "max_depth"):
            row = comparison.row(scope, metric)
            assert row.difference is not None
            assert row.difference > 0, (scope, metric)
    # the same jobs arrive (common random numbers), and both pools keep up over the run
    assert comparison.row("all", "throughput_per_s").close()


def test_counts_are_per_replication_so_runs_with_more_replications_compare_fairly(tmp_path: Path) -> None:
    comparison = compare_runs(
        load_run(simulated(tmp_path / "one")), load_run(simulated(tmp_path / "three", replications=3))
    )
    for scope in ("all", "mail", "reports"):
        assert comparison.row(scope, "throughput_per_s").close(), scope


def test_the_command_writes_the_table_json_page_and_overlay_charts(tmp_path: Path) -> None:
    a, b = simulated(tmp_path / "a"), simulated(tmp_path / "b", seed=6)
    out = tmp_path / "compare"
    result = CliRunner().invoke(compare_command, [str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wait.p95" in result.output
    document = json.loads((out / "compare.json").read_text())
    assert document["verdict"]["kind"] in ("close", "different")
    assert document["verdict"]["text"] in result.output
    assert {row["scope"] for row in document["rows"]} == {"all", "mail", "reports"}
    for chart in ("depth_overlay.png", "wait_cdf_overlay.png"):
        assert (out / chart).read_bytes().startswith(b"\x89PNG")
    assert "data:image/png;base64," in (out / "compare.html").read_text()


def test_a_directory_that_is_not_a_run_output_exits_2_in_one_line(tmp_path: Path) -> None:
    good, bad = simulated(tmp_path / "good"), tmp_path / "bad"
    bad.mkdir()
    result = CliRunner().invoke(compare_command, [str(good), str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.output == f"resque-sim compare: {bad} is not a resque-sim run output: it has no summary.json\n"


def test_resque_sim_compare_is_a_subcommand_of_the_resque_sim_script(tmp_path: Path) -> None:
    a = simulated(tmp_path / "a")
    completed = subprocess.run(
        [sys.executable, "-m", "resque_sim", "compare", str(a), str(a), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "same: every figure of B is identical to A's" in completed.stdout
