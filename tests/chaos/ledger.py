"""Reading the ledger the chaos jobs write, and the figures the reliability tests assert.

Terms:

* an *execution* is one process running one job: its ``begin`` line, and its ``done`` line if it got
  that far;
* a job is *lost* if the producer's enqueue was acknowledged and no execution of it finished;
* a job is *duplicated* if more than one execution of it finished;
* a *rerun* is any execution that follows an earlier one of the same job. Each must be explained by a
  *cause*: a process of the earlier execution (the job's own process or its worker) killed after that
  execution began and before the rerun began, or the producer having pushed the job twice (an enqueue
  retried after a connection error whose first attempt had in fact landed, or sent again by the library
  to a new primary after a failover, which it logs). A SIGKILL takes effect a
  moment after it is sent, so a job child may still begin in that moment; its ``begin`` line then names
  the dying worker as its parent, proof the worker was still alive, and a kill sent up to
  :data:`KILL_LATENCY` before the run began counts as landing during it;
* the *recovery time* of a kill is, for each job the killed process was running, the time from the kill
  to that job beginning again.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Seconds between sending a SIGKILL and the process being gone, at most (see the module docstring).
KILL_LATENCY = 0.05


@dataclass
class Execution:
    job: str
    pid: int
    ppid: int
    begin: float
    end: float | None = None
    failed: bool = False
    worker: int | None = None  # the worker whose job it was, when the parent is its fork server

    @property
    def processes(self) -> set[int]:
        """The processes whose death ends the run: its own, its parent's and its worker's."""
        return {self.pid, self.ppid} | ({self.worker} if self.worker is not None else set())

    @property
    def finished(self) -> bool:
        return self.end is not None


@dataclass(frozen=True)
class Kill:
    """A process the test killed: when, which pid, and what it was (``worker``, ``child``, ...)."""

    at: float
    pid: int
    role: str


def read(path: Path) -> list[Execution]:
    """Every execution in the ledger, in the order they began. The ledger may be read while jobs still
    write to it: a last line not yet complete is left out (one anywhere else is an error)."""
    open_runs: dict[tuple[str, int], Execution] = {}
    runs: list[Execution] = []
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return runs
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):
                break
            raise
        key = (entry["job"], entry["pid"])
        if entry["e"] == "begin":
            run = Execution(entry["job"], entry["pid"], entry["ppid"], entry["t"], worker=entry.get("worker"))
            open_runs[key] = run
            runs.append(run)
        elif key in open_runs:
            run = open_runs.pop(key)
            run.end = entry["t"]
            run.failed = bool(entry.get("failed"))
    runs.sort(key=lambda run: run.begin)
    return runs


def by_job(runs: Iterable[Execution]) -> dict[str, list[Execution]]:
    grouped: dict[str, list[Execution]] = defaultdict(list)
    for run in runs:
        grouped[run.job].append(run)
    return grouped


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` 0.5 = median, 0.99 = p99); ``None`` for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass
class Analysis:
    """What the ledger says about one run, given the kills and the producer's acknowledged enqueues."""

    acknowledged: int
    executions: int
    lost: list[str]
    duplicated: dict[str, list[dict[str, Any]]]
    reruns_explained: int
    unexplained_reruns: list[dict[str, Any]]
    recovery_seconds: list[float] = field(default_factory=list)
    recovery_by_role: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: list[dict[str, Any]] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        """The numbers a test writes to its artifact."""
        return {
            "acknowledged_enqueues": self.acknowledged,
            "executions": self.executions,
            "lost": len(self.lost),
            "lost_jobs": self.lost[:50],
            "duplicated": len(self.duplicated),
            "duplicates": self.duplicated,
            "reruns_explained": self.reruns_explained,
            "unexplained_reruns": self.unexplained_reruns[:50],
            "recovery_samples": len(self.recovery_seconds),
            "recovery_p50_s": _rounded(percentile(self.recovery_seconds, 0.5)),
            "recovery_p99_s": _rounded(percentile(self.recovery_seconds, 0.99)),
            "recovery_max_s": _rounded(max(self.recovery_seconds, default=None)),
            "recovery_by_kill_target": {
                role: {
                    "samples": len(values),
                    "p50_s": _rounded(percentile(values, 0.5)),
                    "p99_s": _rounded(percentile(values, 0.99)),
                }
                for role, values in sorted(self.recovery_by_role.items())
            },
            "unrecovered": self.unrecovered[:50],
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _kill_between(kills: Sequence[Kill], run: Execution, until: float) -> Kill | None:
    for kill in kills:
        if kill.pid in run.processes and run.begin - KILL_LATENCY <= kill.at < until:
            return kill
    return None


def analyse(
    runs: Sequence[Execution],
    acknowledged: Iterable[str],
    *,
    kills: Sequence[Kill] = (),
    pushed_twice: Mapping[str, str] | None = None,
    self_inflicted: Iterable[str] = (),
) -> Analysis:
    """Lost and duplicated jobs, every rerun's cause, and recovery times after kills.

    ``pushed_twice`` maps a job to why the producer may have pushed it twice; jobs in ``self_inflicted``
    kill their own process, which explains their reruns.
    """
    acked = list(acknowledged)
    grouped = by_job(runs)
    pushed_twice = pushed_twice or {}
    suicides = set(self_inflicted)
    lost = sorted(job for job in acked if not any(run.finished for run in grouped.get(job, ())))
    duplicated: dict[str, list[dict[str, Any]]] = {}
    explained = 0
    unexplained: list[dict[str, Any]] = []
    for job, job_runs in grouped.items():
        causes: list[dict[str, Any]] = []
        for earlier, later in itertools.pairwise(job_runs):
            kill = _kill_between(kills, earlier, later.begin)
            if kill is not None:
                cause = {
                    "cause": f"{kill.role} {kill.pid} killed {kill.at - earlier.begin:.3f} s into the run "
                    f"(the run {'finished' if earlier.finished else 'was cut short'})",
                }
            elif job in suicides:
                cause = {"cause": "the job kills its own process"}
            elif job in pushed_twice:
                cause = {"cause": f"pushed twice by the producer: {pushed_twice[job]}"}
            else:
                unexplained.append({"job": job, "run_pid": earlier.pid, "worker_pid": earlier.worker or earlier.ppid})
                continue
            explained += 1
            causes.append(cause)
        if sum(run.finished for run in job_runs) > 1:
            duplicated[job] = causes
    analysis = Analysis(len(acked), len(runs), lost, duplicated, explained, unexplained)
    _recoveries(analysis, grouped, kills)
    return analysis


def _recoveries(analysis: Analysis, grouped: Mapping[str, list[Execution]], kills: Sequence[Kill]) -> None:
    # When each run stopped: its done line, else (it was cut short) no later than the next run began.
    spans: dict[int, list[tuple[Execution, float]]] = defaultdict(list)
    for job_runs in grouped.values():
        for run, following in zip(job_runs, [*job_runs[1:], None], strict=True):
            until = run.end if run.end is not None else following.begin if following is not None else math.inf
            for pid in run.processes:
                spans[pid].append((run, until))
    for kill in kills:
        for run, until in spans.get(kill.pid, ()):
            if not run.begin - KILL_LATENCY <= kill.at < until:
                continue
            again = next((later for later in grouped[run.job] if later.begin > kill.at), None)
            if again is not None:
                delay = again.begin - kill.at
                analysis.recovery_seconds.append(delay)
                analysis.recovery_by_role.setdefault(kill.role, []).append(delay)
            elif not run.finished:
                analysis.unrecovered.append({"job": run.job, "killed": kill.role, "pid": kill.pid})
