"""Comparing two run outputs (``resque-sim compare DIR_A DIR_B``): a simulation and a live run of the same
scenario, or two simulations before and after a change.

What a caller needs::

    a, b = load_run("sim-out/spike"), load_run("live-out/spike")     # resque_sim.run_output
    comparison = compare_runs(a, b)
    comparison.rows          # one Row per (scope, metric): a, b, difference, relative difference
    comparison.verdict       # Verdict: "same" | "close" | "different", and a sentence saying why
    comparison.noise         # the mean wait's difference with a 95% CI (resque_sim.compare_noise)

Everything compared comes from the files every run writes (DESIGN.md section 5), so a live run (whose
summary.json says ``"backend": "live"``) compares like a simulation:

- from ``summary.json``, overall (scope ``all``) and per queue: ``wait`` and ``latency`` mean, p50, p95
  and p99, ``failed`` attempts (per replication) and ``failure_rate``; ``throughput_per_s`` overall,
  and per queue its completed jobs per replication over the measured time (``simulated_seconds`` minus
  ``warmup_seconds``); ``max_depth`` per queue (the largest over the replications);
- from ``jobs.csv`` (the first replication), the overall ``max_depth``: the most jobs enqueued after the
  warmup and not yet started at any instant, which is wait's own definition of waiting.

The verdict (thresholds below) reads only the overall headline figures: mean and p95 wait and latency,
throughput and failure rate.  ``same``: every compared figure is identical (two runs of one scenario
and seed).  ``close``: every headline figure of B is within :data:`RELATIVE_TOLERANCE` of A's, or within
an absolute floor (:data:`TIME_FLOOR` for times, :data:`FAILURE_RATE_FLOOR` for the failure rate), which
keeps waits of a few milliseconds from looking like large relative changes.  ``different``: otherwise,
naming each headline figure that moved, largest relative change first.  The thresholds are a reading
aid, not a statistical test: a short live run has sampling noise of its own, so the verdict also says
whether the difference in mean wait is beyond the runs' noise (:func:`resque_sim.compare_noise.wait_noise`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from resque_sim.compare_noise import WaitNoise, wait_noise
from resque_sim.run_output import RunOutput

__all__ = [
    "ALL",
    "FAILURE_RATE_FLOOR",
    "RELATIVE_TOLERANCE",
    "TIME_FLOOR",
    "Comparison",
    "Row",
    "Verdict",
    "compare_runs",
    "format_relative",
    "format_value",
]

RELATIVE_TOLERANCE = 0.10
"""Headline figures of B within 10% of A's count as close."""
TIME_FLOOR = 0.005
"""Times within 5 ms of each other count as close, whatever their ratio."""
FAILURE_RATE_FLOOR = 0.01
"""Failure rates within one percentage point count as close."""

_TIMED = ("wait", "latency")
_STATISTICS = ("mean", "p50", "p95", "p99")
_HEADLINE = ("wait.mean", "wait.p95", "latency.mean", "latency.p95", "throughput_per_s", "failure_rate")
ALL = "all"
"""The scope of the figures of the whole run (the others are queue names)."""


@dataclass(frozen=True)
class Row:
    """One figure of both runs: ``scope`` is ``all`` or a queue, ``metric`` a dotted name like ``wait.p95``.

    ``a`` or ``b`` is ``None`` where that run has no such figure (a queue only one run used).
    """

    scope: str
    metric: str
    a: float | None
    b: float | None

    @property
    def difference(self) -> float | None:
        """``b - a``."""
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def relative(self) -> float | None:
        """``(b - a) / a``: 0 when both are 0, ``None`` when only ``a`` is (or a figure is missing)."""
        difference = self.difference
        if difference is None or self.a is None:
            return None
        if self.a == 0:
            return 0.0 if difference == 0 else None
        return difference / abs(self.a)

    def close(self) -> bool:
        """Whether B is within the verdict's tolerance of A (see the module docstring)."""
        difference = self.difference
        if difference is None or self.a is None:
            return self.a is None and self.b is None
        floor = TIME_FLOOR if self.metric.partition(".")[0] in _TIMED else 0.0
        if self.metric == "failure_rate":
            floor = FAILURE_RATE_FLOOR
        return abs(difference) <= max(floor, RELATIVE_TOLERANCE * abs(self.a))


@dataclass(frozen=True)
class Verdict:
    """``kind`` is ``same``, ``close`` or ``different``; ``text`` is one plain sentence."""

    kind: Literal["same", "close", "different"]
    text: str


@dataclass(frozen=True)
class Comparison:
    """Two runs and every figure compared, with the verdict and the mean wait's noise."""

    a: RunOutput
    b: RunOutput
    rows: tuple[Row, ...]
    verdict: Verdict
    noise: WaitNoise | None = None

    def row(self, scope: str, metric: str) -> Row:
        """The row of ``metric`` in ``scope`` (``all`` or a queue name)."""
        for row in self.rows:
            if row.scope == scope and row.metric == metric:
                return row
        raise KeyError((scope, metric))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (compare.json): the runs, the verdict and every row."""
        return {
            "a": {
                "path": str(self.a.path),
                "scenario": self.a.summary["scenario"],
                "backend": self.a.summary["backend"],
            },
            "b": {
                "path": str(self.b.path),
                "scenario": self.b.summary["scenario"],
                "backend": self.b.summary["backend"],
            },
            "verdict": {"kind": self.verdict.kind, "text": self.verdict.text},
            "wait_mean_difference": None
            if self.noise is None
            else {"difference": self.noise.difference, "ci95": [self.noise.low, self.noise.high]},
            "rows": [
                {
                    "scope": row.scope,
                    "metric": row.metric,
                    "a": _finite(row.a),
                    "b": _finite(row.b),
                    "difference": _finite(row.difference),
                    "relative": _finite(row.relative),
                }
                for row in self.rows
            ],
        }


def format_value(metric: str, value: float | None) -> str:
    """A compared figure in its unit: times in ms or s, rates per second, the failure rate in percent."""
    if value is None:
        return "-"
    if metric.partition(".")[0] in _TIMED:
        return f"{value * 1000:,.1f} ms" if abs(value) < 1 else f"{value:,.3f} s"
    if metric == "failure_rate":
        return f"{value:.2%}"
    if metric == "throughput_per_s":
        return f"{value:,.2f}/s"
    return f"{value:,.4g}"


def format_relative(row: Row) -> str:
    """The relative difference in percent, ``-`` when there is none to give."""
    return "-" if row.relative is None else f"{row.relative:+.1%}"


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _figures(run: RunOutput, scope: str) -> dict[str, float | None]:
    """Every compared figure of ``run`` in ``scope`` (see the module docstring)."""
    summary = run.summary
    part = summary if scope == ALL else summary["queues"].get(scope)
    if part is None:
        return {}
    # counts are totals over the replications, statistics their means: counts go per replication
    replications = _number(summary.get("replications")) or 1.0
    figures: dict[str, float | None] = {}
    for timed in _TIMED:
        for statistic in _STATISTICS:
            figures[f"{timed}.{statistic}"] = _number(part.get(timed, {}).get(statistic))
    if scope == ALL:
        figures["throughput_per_s"] = _number(summary.get("throughput_per_s"))
        figures["max_depth"] = float(run.max_depth())
        failed = _number(summary["jobs"].get("failed"))
    else:
        completed = _number(part.get("completed"))
        figures["throughput_per_s"] = None if completed is None else completed / replications / run.measured_seconds
        figures["max_depth"] = _number(part.get("max_depth"))
        failed = _number(part.get("failed"))
    figures["failed"] = None if failed is None else failed / replications
    figures["failure_rate"] = _number(part.get("failure_rate"))
    return figures


def _name(metric: str) -> str:
    timed, _, statistic = metric.partition(".")
    if timed in _TIMED:
        return f"{statistic} {timed}"
    return metric.replace("_per_s", "").replace("_", " ")


def _change(row: Row) -> str:
    assert row.a is not None
    assert row.b is not None
    how = "up from 0" if row.relative is None else f"{row.relative:+.0%}"
    return f"{_name(row.metric)} {format_value(row.metric, row.b)} vs {format_value(row.metric, row.a)} ({how})"


def _verdict(rows: Sequence[Row], noise: WaitNoise | None) -> Verdict:
    if all(row.a == row.b for row in rows):
        return Verdict("same", "same: every figure of B is identical to A's")
    after = "" if noise is None else f"; {noise.describe()}"
    headline = [row for row in rows if row.scope == ALL and row.metric in _HEADLINE]
    moved = [row for row in headline if not row.close()]
    if not moved:
        return Verdict(
            "close",
            f"close: B's mean and p95 wait and latency, throughput and failure rate are within "
            f"{RELATIVE_TOLERANCE:.0%} (or {TIME_FLOOR * 1000:g} ms) of A's{after}",
        )
    missing = [row for row in moved if row.a is None or row.b is None]
    if missing:
        names = ", ".join(_name(row.metric) for row in missing)
        return Verdict("different", f"different: only one run has {names}")
    moved.sort(key=lambda row: -abs(row.relative) if row.relative is not None else -math.inf)
    return Verdict("different", "different: B's " + "; ".join(_change(row) for row in moved) + after)


def compare_runs(a: RunOutput, b: RunOutput) -> Comparison:
    """Every figure of ``a`` and ``b``, overall then per queue (the union of both runs' queues, sorted),
    and the verdict."""
    rows: list[Row] = []
    for scope in (ALL, *sorted(set(a.queues) | set(b.queues))):
        figures_a, figures_b = _figures(a, scope), _figures(b, scope)
        for metric in dict.fromkeys([*figures_a, *figures_b]):
            rows.append(Row(scope, metric, figures_a.get(metric), figures_b.get(metric)))
    noise = wait_noise(a, b)
    return Comparison(a, b, tuple(rows), _verdict(rows, noise), noise)
