"""How the simulator scales (issue 22): peak memory against the number of jobs, and a sweep on a dask
cluster of 1 and of 2 workers against the same sweep run locally.

    python -m benchmarks.sim --memory      # 100k, 300k and 1M-job CLI runs: peak RSS and bytes per job
    python -m benchmarks.sim --dask        # a sweep on LocalClusters of 1 and 2 worker processes
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._common import Measurement
from resque_sim.executor import parse_executor
from resque_sim.runner import SimulationResult, run_scenario
from resque_sim.scenario import load_scenario

__all__ = ["MEMORY_TARGET_MB", "cli_run_peak", "dask_scaling", "memory_growth"]

REPO = Path(__file__).resolve().parents[1]
STEADY = REPO / "scenarios" / "steady.yaml"
SPIKE = REPO / "scenarios" / "spike.yaml"
#: steady runs 8 jobs/s: durations giving about 100,000, 300,000 and 1,000,000 jobs
GROWTH_DURATIONS = ("12500s", "37500s", "125000s")
MEMORY_TARGET_MB = 500.0


def cli_run_peak(duration: str) -> tuple[float, float, int]:
    """Peak RSS (MB), wall seconds and jobs of a CLI run of steady for ``duration`` on the memory backend
    (simulation, statistics, CSVs and charts), in a child process."""
    with tempfile.TemporaryDirectory() as out:
        command = [
            sys.executable,
            "-m",
            "resque_sim",
            str(STEADY),
            "--backend",
            "memory",
            "--no-sweep",
            "--quiet",
            "--set",
            f"duration={duration}",
            "--out",
            out,
        ]
        started = time.perf_counter()
        child = subprocess.Popen(command)
        # wait4 gives this child's own peak; RUSAGE_CHILDREN would be the largest of every child this
        # process ever waited for (a sweep's pool, a fork of a big parent).
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if child.returncode != 0:
            raise subprocess.CalledProcessError(child.returncode, command)
        jobs = json.loads((Path(out) / "summary.json").read_text())["jobs"]["enqueued"]
    return usage.ru_maxrss / 1024, elapsed, jobs


def memory_growth() -> list[Measurement]:
    """Peak RSS of CLI runs of about 100k, 300k and 1M jobs, and the bytes each further job costs."""
    runs = [cli_run_peak(duration) for duration in GROWTH_DURATIONS]
    rows = []
    for peak, wall, jobs in runs:
        target = f"< {MEMORY_TARGET_MB:,.0f}" if jobs >= 900_000 else ""
        ok = peak < MEMORY_TARGET_MB if target else None
        rows.append(Measurement(f"peak RSS, {jobs:,}-job CLI run", peak, "MB", target, ok))
        rows.append(Measurement("  its wall time", wall, "s"))
    for (low, _, low_jobs), (high, _, high_jobs) in itertools.pairwise(runs):
        slope = (high - low) * 2**20 / (high_jobs - low_jobs)
        rows.append(Measurement(f"  bytes per job from {low_jobs:,} to {high_jobs:,}", slope, "B/job"))
    intercept = runs[0][0] - (runs[-1][0] - runs[0][0]) / (runs[-1][2] - runs[0][2]) * runs[0][2]
    rows.append(Measurement("  fixed part (the line's value at 0 jobs)", intercept, "MB"))
    return rows


def _timeless(result: SimulationResult) -> list[Any]:
    points = [result.base, *result.sweep]
    return [[dataclasses.replace(run, wall_seconds=0.0) for run in point.runs] for point in points]


def dask_scaling(duration: str = "2h", replications: int = 2) -> list[Measurement]:
    """Wall seconds of the spike scenario's sweep (5 worker counts, the base among them) x ``replications``
    on the memory backend: locally with 1 and 2 processes, and on dask LocalClusters of 1 and 2 single-threaded worker
    processes (each warmed up by a short sweep first, so the workers' imports are not timed); checks
    every dask run gives exactly the local results."""
    # the [dask] extra, only for this measurement; Any, as distributed is untyped
    distributed: Any = importlib.import_module("distributed")

    scenario = load_scenario(SPIKE, ["backend=memory", f"duration={duration}", f"replications={replications}"])
    rows: list[Measurement] = []
    reference: list[Any] | None = None
    for processes in (1, 2):
        started = time.perf_counter()
        result = run_scenario(scenario, processes=processes)
        rows.append(Measurement(f"sweep, local, {processes} process(es)", time.perf_counter() - started, "s"))
        reference = reference or _timeless(result)
    for workers in (1, 2):
        cluster_options = {"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": ":0"}
        with distributed.LocalCluster(**cluster_options) as cluster:
            executor = parse_executor("dask://" + cluster.scheduler_address.removeprefix("tcp://"))
            run_scenario(scenario.with_value("duration", 60.0), executor=executor)
            started = time.perf_counter()
            result = run_scenario(scenario, executor=executor)
            elapsed = time.perf_counter() - started
        same = _timeless(result) == reference
        rows.append(Measurement(f"sweep, dask, {workers} worker(s)", elapsed, "s", "results == local", same))
    points = len(scenario.sweep.values) if scenario.sweep is not None else 1
    rows.append(Measurement("  runs in the sweep (points x replications)", points * replications, "runs"))
    return rows
