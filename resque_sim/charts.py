"""Charts of a run, drawn with matplotlib's Agg renderer from DataFrames only.

Each function takes the frames built by :mod:`resque_sim.metrics` (and a :class:`ChartNotes` saying what to
draw on top: SLO limits, the spike, memory limits) and returns a ``Figure``; :func:`png` renders one.
Figures are made with ``matplotlib.figure.Figure`` rather than pyplot, so nothing global is touched and no
display is needed.

==================  ========================================================================================
``wait_chart``      wait p50/p95/p99 over time per queue (by enqueue time), the SLO limits, spikes shaded
``depth_chart``     jobs waiting per queue over time, stacked
``workers_chart``   busy workers against serving workers, restarts marked by reason
``throughput_chart`` arrivals and completions per second; failures per second stacked by exception
``memory_chart``    each worker's memory (the sawtooth), job peaks, restart and OOM limits, OOM kills
``wait_cdf_chart``  the distribution of waits per queue, with SLO percentiles marked
``capacity_chart``  each SLO's value against the swept parameter, with confidence intervals
``redis_memory_chart`` Redis ``used_memory`` over time (redis backend)
==================  ========================================================================================
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = [
    "ChartNotes",
    "SloLine",
    "capacity_chart",
    "depth_chart",
    "memory_chart",
    "png",
    "redis_memory_chart",
    "throughput_chart",
    "wait_cdf_chart",
    "wait_chart",
    "workers_chart",
]

_PERCENTILE_STYLES = (("p50", "-", 1.0), ("p95", "--", 1.2), ("p99", "-", 1.8))
_REASON_COLOURS = {"max_jobs": "tab:blue", "max_rss": "tab:orange", "max_age": "tab:green", "oom": "tab:red"}
_WIDTH, _ROW_HEIGHT = 10.0, 2.6
_MAX_POINTS_PER_WORKER = 2000


@dataclass(frozen=True)
class SloLine:
    """A wait or latency limit to draw: ``queue`` (``None`` = all queues), ``percentile`` (``None`` = mean)."""

    metric: str
    limit: float
    queue: str | None = None
    percentile: float | None = None

    @property
    def label(self) -> str:
        which = "mean" if self.percentile is None else f"p{self.percentile:g}"
        return f"SLO {self.metric} {which} <= {_seconds(self.limit)}"


@dataclass(frozen=True)
class ChartNotes:
    """What the charts draw besides the data.

    ``spans``: (start, end) seconds of load spikes to shade; ``instants``: times of bursts; ``slos``: limits;
    ``max_rss_mb`` / ``oom_limit_mb``: memory limits per pool; ``duration``: the run's simulated seconds;
    ``warmup``: seconds excluded from statistics (shaded grey).
    """

    duration: float
    warmup: float = 0.0
    spans: tuple[tuple[float, float], ...] = ()
    instants: tuple[float, ...] = ()
    slos: tuple[SloLine, ...] = ()
    max_rss_mb: dict[str, float] = field(default_factory=dict)
    oom_limit_mb: dict[str, float] = field(default_factory=dict)


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)  # the Agg renderer, whatever matplotlib's default backend is
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def _time_unit(duration: float) -> tuple[str, float]:
    if duration <= 600:
        return "s", 1.0
    if duration <= 4 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _seconds(value: float) -> str:
    if value >= 3600:
        return f"{value / 3600:g}h"
    if value >= 60:
        return f"{value / 60:g}m"
    if value >= 1 or value == 0:
        return f"{value:g}s"
    return f"{value * 1000:g}ms"


def _figure(rows: int = 1, *, height: float | None = None, sharex: bool = True) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(_WIDTH, height or max(3.2, _ROW_HEIGHT * rows + 0.8)), layout="constrained")
    axes = figure.subplots(rows, 1, sharex=sharex, squeeze=False)
    return figure, [row[0] for row in axes]


def _time_axis(axes: Sequence[Axes], notes: ChartNotes) -> float:
    """Shade spikes and the warmup, mark bursts, label the time axis; returns the unit's seconds."""
    unit, scale = _time_unit(notes.duration)
    for ax in axes:
        if notes.warmup > 0:
            ax.axvspan(0, notes.warmup / scale, color="0.85", alpha=0.5, lw=0)
        for start, end in notes.spans:
            ax.axvspan(start / scale, end / scale, color="tab:red", alpha=0.10, lw=0)
        for at in notes.instants:
            ax.axvline(at / scale, color="tab:red", alpha=0.5, lw=1, ls=":")
        ax.set_xlim(0, notes.duration / scale)
        ax.grid(True, alpha=0.3)
    axes[-1].set_xlabel(f"simulated time ({unit})")
    return scale


def _columns(frame: pd.DataFrame, prefix: str) -> list[str]:
    return [column for column in frame.columns if column.startswith(prefix)]


def _empty(figure: Figure, message: str) -> Figure:
    ax = figure.axes[0] if figure.axes else figure.subplots()
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    return figure


# --------------------------------------------------------------------------------------------------
# Charts over time
# --------------------------------------------------------------------------------------------------


def wait_chart(series: pd.DataFrame, queues: Sequence[str], notes: ChartNotes) -> Figure:
    """Wait percentiles over time, one panel per queue, with that queue's (and global) wait SLO limits."""
    figure, axes = _figure(max(1, len(queues)))
    scale = _time_axis(axes, notes)
    x = series["time"] / scale
    for ax, queue in zip(axes, queues, strict=False):
        for name, style, width in _PERCENTILE_STYLES:
            column = f"wait_{name}:{queue}"
            if column in series:
                ax.plot(x, series[column], ls=style, lw=width, label=name, drawstyle="steps-post")
        for slo in notes.slos:
            if slo.metric == "wait" and slo.queue in (None, queue):
                ax.axhline(slo.limit, color="tab:red", ls="--", lw=1.2, label=slo.label)
        ax.set_ylabel("wait (s)")
        ax.set_title(f"queue {queue}: wait of jobs enqueued at each time", loc="left", fontsize=10)
        ax.set_ylim(bottom=0)
        ax.legend(loc="upper right", fontsize=8)
    return figure


def depth_chart(series: pd.DataFrame, queues: Sequence[str], notes: ChartNotes) -> Figure:
    """Jobs waiting in each queue (time-averaged per bucket), stacked."""
    figure, axes = _figure(height=4.0)
    ax = axes[0]
    scale = _time_axis(axes, notes)
    present = [queue for queue in queues if f"depth:{queue}" in series]
    if present:
        ax.stackplot(
            series["time"] / scale,
            [series[f"depth:{queue}"] for queue in present],
            labels=present,
            step="post",
            alpha=0.8,
        )
        ax.legend(loc="upper right", fontsize=8, title="queue")
    ax.set_ylabel("jobs waiting")
    ax.set_title("queue depth", loc="left", fontsize=10)
    ax.set_ylim(bottom=0)
    return figure


def workers_chart(series: pd.DataFrame, events: pd.DataFrame, notes: ChartNotes) -> Figure:
    """Busy workers against workers serving (not booting), with every restart marked by its reason."""
    figure, axes = _figure(height=4.0)
    ax = axes[0]
    scale = _time_axis(axes, notes)
    x = series["time"] / scale
    ax.fill_between(x, series["busy"], step="post", alpha=0.5, label="busy", color="tab:blue")
    ax.plot(x, series["workers"], drawstyle="steps-post", color="black", lw=1.2, label="serving")
    downs = events[events["event"] == "down"] if len(events) else events
    top = float(max(series["workers"].max(), 1.0)) if len(series) else 1.0
    for reason, group in downs.groupby("reason", sort=True) if len(downs) else ():
        ax.plot(
            group["time"] / scale,
            np.full(len(group), top * 1.04),
            "|",
            ms=10,
            color=_REASON_COLOURS.get(str(reason), "tab:gray"),
            label=f"restart: {reason} ({len(group)})",
        )
    ax.set_ylim(0, top * 1.12)
    ax.set_ylabel("workers")
    ax.set_title("workers busy vs serving", loc="left", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    return figure


def throughput_chart(series: pd.DataFrame, notes: ChartNotes) -> Figure:
    """Arrivals and completions per second; below, failures per second stacked by exception."""
    figure, axes = _figure(2)
    scale = _time_axis(axes, notes)
    x = series["time"] / scale
    top, bottom = axes
    top.plot(x, series["arrivals_per_s"], drawstyle="steps-post", lw=1, label="enqueued", color="0.4")
    top.plot(x, series["completed_per_s"], drawstyle="steps-post", lw=1.2, label="completed", color="tab:green")
    top.set_ylabel("jobs / s")
    top.set_title("throughput", loc="left", fontsize=10)
    top.legend(loc="upper right", fontsize=8)
    kinds = _columns(series, "failed_per_s:")
    if kinds:
        bottom.stackplot(x, [series[c] for c in kinds], labels=[c.split(":", 1)[1] for c in kinds], step="post")
        bottom.legend(loc="upper right", fontsize=8, title="exception")
    else:
        bottom.text(0.5, 0.5, "no failures", ha="center", va="center", transform=bottom.transAxes, color="0.4")
    bottom.set_ylabel("failures / s")
    bottom.set_title("failures by exception", loc="left", fontsize=10)
    for ax in axes:
        ax.set_ylim(bottom=0)
    return figure


def _thin(frame: pd.DataFrame, duration: float) -> pd.DataFrame:
    """At most about ``_MAX_POINTS_PER_WORKER`` samples per worker: the largest in each time slice."""
    if frame.empty:
        return frame
    per_worker = frame.groupby("worker", observed=True).size().max()
    if per_worker <= _MAX_POINTS_PER_WORKER:
        return frame
    width = duration / _MAX_POINTS_PER_WORKER
    slices = (frame["time"] // width).astype(np.int64)
    thinned = frame.assign(slice=slices).groupby(["worker", "slice"], observed=True, sort=True)
    return thinned.agg(time=("time", "first"), rss_mb=("rss_mb", "max")).reset_index()


def memory_chart(memory: pd.DataFrame, events: pd.DataFrame, notes: ChartNotes) -> Figure:
    """Each worker's resident memory over time (the sawtooth of leaks and restarts), job peaks as dots,
    the restart (``max_rss_mb``) and OOM limits as lines, OOM kills as crosses."""
    figure, axes = _figure(height=4.5)
    ax = axes[0]
    scale = _time_axis(axes, notes)
    if memory.empty:
        return _empty(figure, "no memory samples")
    resident = _thin(memory[~memory["peak"]], notes.duration)
    for _, samples in resident.groupby("worker", observed=True, sort=True):
        # each step lasts until the next sample, the last one until the end of the run
        times = np.append(samples["time"].to_numpy(), notes.duration) / scale
        sizes = np.append(samples["rss_mb"].to_numpy(), samples["rss_mb"].iloc[-1])
        ax.plot(times, sizes, drawstyle="steps-post", lw=0.8, alpha=0.7)
    peaks = _thin(memory[memory["peak"]], notes.duration)
    ax.plot(peaks["time"] / scale, peaks["rss_mb"], ".", ms=1.5, color="0.5", alpha=0.4, label="job peaks")
    for pool, limit in notes.max_rss_mb.items():
        ax.axhline(limit, color="tab:orange", ls="--", lw=1.2, label=f"max_rss_mb {limit:g} ({pool})")
    for pool, limit in notes.oom_limit_mb.items():
        ax.axhline(limit, color="tab:red", ls="-", lw=1.2, label=f"OOM limit {limit:g} ({pool})")
    kills = events[(events["event"] == "down") & (events["reason"] == "oom")] if len(events) else events
    if len(kills):
        ceiling = max(notes.oom_limit_mb.values(), default=float(memory["rss_mb"].max()))
        ax.plot(kills["time"] / scale, np.full(len(kills), ceiling), "x", color="tab:red", label="OOM kill")
    ax.set_ylabel("RSS (MB)")
    ax.set_ylim(bottom=0)
    ax.set_title("worker memory (one line per worker)", loc="left", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    return figure


def redis_memory_chart(series: pd.DataFrame, notes: ChartNotes) -> Figure:
    """Redis ``used_memory`` over time."""
    figure, axes = _figure(height=3.5)
    ax = axes[0]
    scale = _time_axis(axes, notes)
    if "redis_used_memory_mb" in series:
        ax.plot(series["time"] / scale, series["redis_used_memory_mb"], drawstyle="steps-post", color="tab:purple")
    ax.set_ylabel("used_memory (MB)")
    ax.set_title("Redis memory", loc="left", fontsize=10)
    return figure


# --------------------------------------------------------------------------------------------------
# Distributions and sweeps
# --------------------------------------------------------------------------------------------------


def wait_cdf_chart(jobs: pd.DataFrame, notes: ChartNotes) -> Figure:
    """The fraction of jobs that waited at most x, per queue (jobs enqueued after the warmup; jobs never
    started count with the wait so far), with wait SLO percentiles marked."""
    figure, axes = _figure(height=4.0, sharex=False)
    ax = axes[0]
    measured = jobs[jobs["enqueued_at"] >= notes.warmup]
    waits = measured["wait"].fillna(notes.duration - measured["enqueued_at"])
    largest = float(waits.max()) if len(waits) else 1.0
    for queue, values in waits.groupby(measured["queue"], observed=True, sort=True):
        ordered = np.sort(values.to_numpy())
        fraction = np.arange(1, len(ordered) + 1) / len(ordered)
        ax.plot(ordered, fraction, drawstyle="steps-post", label=str(queue))
    for slo in notes.slos:
        if slo.metric == "wait" and slo.percentile is not None:
            ax.plot([slo.limit], [slo.percentile / 100], "o", mfc="none", color="tab:red", ms=8)
            ax.annotate(
                f"{slo.queue or 'all'} {slo.label} ",
                (slo.limit, slo.percentile / 100),
                fontsize=7,
                ha="right",
                va="top",
            )
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(0, max(largest, 0.01) * 1.1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("wait (s)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title("wait distribution (CDF)", loc="left", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8, title="queue")
    return figure


def capacity_chart(sweep: pd.DataFrame, param: str, recommended: Any = None) -> Figure:
    """One panel per SLO: its value against the swept parameter, 95% CIs as error bars, the limit dashed,
    the recommended value marked.

    ``sweep`` has one row per (value, SLO): ``value``, ``slo`` (a label), ``result``, ``low``, ``high``
    (NaN without a CI), ``limit`` and ``ok``.
    """
    labels = list(dict.fromkeys(sweep["slo"])) if len(sweep) else []
    figure, axes = _figure(max(1, len(labels)), sharex=True)
    if not labels:
        return _empty(figure, "no SLOs to chart")
    numeric = pd.api.types.is_numeric_dtype(sweep["value"])
    for ax, label in zip(axes, labels, strict=True):
        rows = sweep[sweep["slo"] == label]
        x = rows["value"] if numeric else np.arange(len(rows))
        has_ci = rows["low"].notna()
        errors = np.vstack([rows["result"] - rows["low"], rows["high"] - rows["result"]]).clip(min=0)
        ax.errorbar(x, rows["result"], yerr=np.where(has_ci, errors, 0), fmt="-o", capsize=3, color="tab:blue", ms=4)
        failing = rows[~rows["ok"].astype(bool)]
        ax.plot(failing["value"] if numeric else x[~rows["ok"].astype(bool)], failing["result"], "o", color="tab:red")
        ax.axhline(float(rows["limit"].iloc[0]), color="tab:red", ls="--", lw=1.2, label="limit")
        if recommended is not None:
            ax.axvline(recommended if numeric else list(rows["value"]).index(recommended), color="tab:green")
        ax.set_title(label, loc="left", fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_ylim(bottom=0)
    if not numeric:
        axes[-1].set_xticks(np.arange(len(rows)), [str(v) for v in rows["value"]])
    axes[-1].set_xlabel(param + (f"  (recommended: {recommended})" if recommended is not None else ""))
    return figure
