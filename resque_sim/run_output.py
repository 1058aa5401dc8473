"""A run's output directory, read: what ``resque-sim SCENARIO --out DIR`` writes, or a live run (which
writes the same files, with ``"backend": "live"`` in summary.json).

What a caller needs::

    run = load_run("sim-out/spike")      # RunDirError (one line) when the directory is not a run output
    run.summary, run.jobs, run.series    # summary.json as a dict, jobs.csv and timeseries.csv as frames

A run output has ``summary.json`` (a JSON object with at least ``scenario``, ``backend``,
``simulated_seconds``, ``jobs``, ``wait``, ``latency`` and ``queues``), ``jobs.csv`` (with at least
``queue``, ``enqueued_at``, ``started_at`` and ``wait``) and ``timeseries.csv`` (with ``time``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["RunDirError", "RunOutput", "load_run"]

_SUMMARY_FIELDS = ("scenario", "backend", "simulated_seconds", "jobs", "wait", "latency", "queues")
_JOB_FIELDS = ("queue", "enqueued_at", "started_at", "wait")


class RunDirError(ValueError):
    """A directory that is not the output of ``resque-sim`` (or of a live run); the text says why."""


@dataclass(frozen=True)
class RunOutput:
    """One run's output directory, read: its summary, its jobs table and its time series."""

    path: Path
    summary: dict[str, Any]
    jobs: pd.DataFrame
    series: pd.DataFrame

    @property
    def label(self) -> str:
        """How charts and tables name the run: its directory, scenario and backend."""
        return f"{self.path.name} ({self.summary['scenario']}, {self.summary['backend']})"

    @property
    def queues(self) -> tuple[str, ...]:
        return tuple(self.summary["queues"])

    @property
    def warmup(self) -> float:
        return float(self.summary.get("warmup_seconds") or 0.0)

    @property
    def measured_seconds(self) -> float:
        return max(float(self.summary["simulated_seconds"]) - self.warmup, 1e-12)

    def measured_waits(self) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.object_]]:
        """Enqueue times, waits and queues of the jobs enqueued after the warmup; a job never started
        counts with the wait it had so far at the end of the run (as the summary's statistics do)."""
        jobs = self.jobs[self.jobs["enqueued_at"] >= self.warmup]
        enqueued = jobs["enqueued_at"].to_numpy(dtype=np.float64)
        end = float(self.summary["simulated_seconds"])
        waits = jobs["wait"].fillna(end - jobs["enqueued_at"]).to_numpy(dtype=np.float64)
        return enqueued, waits, jobs["queue"].to_numpy(dtype=object)

    def max_depth(self) -> int:
        """The most jobs enqueued after the warmup and not yet started, at any instant (from jobs.csv)."""
        jobs = self.jobs[self.jobs["enqueued_at"] >= self.warmup]
        starts = jobs["started_at"].to_numpy(dtype=np.float64)
        starts = starts[~np.isnan(starts)]
        times = np.concatenate([jobs["enqueued_at"].to_numpy(dtype=np.float64), starts])
        # at equal times a start is counted before an arrival, as a job taken at once never waits
        order = np.lexsort((np.concatenate([np.ones(len(jobs)), np.zeros(len(starts))]), times))
        steps = np.concatenate([np.ones(len(jobs), np.int64), -np.ones(len(starts), np.int64)])[order]
        return int(max(0, np.cumsum(steps).max(initial=0)))


def _fail(path: Path, why: str) -> RunDirError:
    return RunDirError(f"{path} is not a resque-sim run output: {why}")


def _read_csv(path: Path, name: str, columns: Sequence[str]) -> pd.DataFrame:
    file = path / name
    if not file.is_file():
        raise _fail(path, f"it has no {name}")
    try:
        frame = pd.read_csv(file, keep_default_na=True)
    except (ValueError, OSError) as error:
        raise _fail(path, f"{name} cannot be read ({error})") from None
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise _fail(path, f"{name} has no {', '.join(missing)} column")
    return frame


def load_run(path: str | Path) -> RunOutput:
    """Read the run output in ``path``; :class:`RunDirError` (one line) when it is not one."""
    path = Path(path)
    if not path.is_dir():
        raise _fail(path, "no such directory")
    summary_file = path / "summary.json"
    if not summary_file.is_file():
        raise _fail(path, "it has no summary.json")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except (ValueError, OSError) as error:
        raise _fail(path, f"summary.json is not JSON ({error})") from None
    if not isinstance(summary, dict):
        raise _fail(path, "summary.json is not a JSON object")
    missing = [field for field in _SUMMARY_FIELDS if field not in summary]
    if missing:
        raise _fail(path, f"summary.json has no {', '.join(missing)}")
    jobs = _read_csv(path, "jobs.csv", _JOB_FIELDS)
    jobs["queue"] = jobs["queue"].astype(str)
    series = _read_csv(path, "timeseries.csv", ("time",))
    return RunOutput(path, summary, jobs, series)
