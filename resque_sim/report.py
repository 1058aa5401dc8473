"""Writing a simulation's results: summary.json, jobs.csv, timeseries.csv, workers.csv, PNG charts and a
self-contained report.html (DESIGN.md section 5).

What a caller needs::

    document = summary_document(result)          # the summary.json mapping
    paths = write_outputs(result, Path("sim-out/spike"))

Files (``--out DIR``):

- ``summary.json``: at least the DESIGN.md fields.  ``jobs``, ``failures`` and restart counts are totals
  over the replications; every statistic (waits, latencies, utilisation, ...) is the mean of the
  replications' values, with 95% confidence intervals under ``confidence`` when there are two or more.
  Also: ``failure_rate``, ``throughput_per_s``, ``failures`` by exception, ``workers.restarts_by_reason``,
  ``redis.peak_used_memory_mb`` (redis backend), ``sweep_param``.
- ``jobs.csv``: one row per attempt of the first replication, exactly the contract's columns; times in
  seconds from the start with 6 decimals, blanks where something did not happen.
- ``timeseries.csv``: :func:`resque_sim.timeseries.timeseries` of the first replication.
- ``workers.csv``: worker restarts (down, with a reason, and up again after booting).
- ``*.png`` and ``report.html`` (the charts embedded as data URIs, so the file stands alone).
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from resque_sim.charts import (
    ChartNotes,
    SloLine,
    capacity_chart,
    depth_chart,
    memory_chart,
    png,
    redis_memory_chart,
    throughput_chart,
    wait_cdf_chart,
    wait_chart,
    workers_chart,
)
from resque_sim.estimates import Estimate, estimate, merge_counts
from resque_sim.metrics import JOB_COLUMNS, Percentiles, RunStats, jobs_frame, worker_events_frame, worker_memory_frame
from resque_sim.runner import PointResult, SimulationResult
from resque_sim.scenario import BurstArrivals, RampArrivals, Scenario, SpikeArrivals
from resque_sim.timeseries import timeseries

__all__ = ["chart_notes", "summary_document", "sweep_frame", "write_outputs"]

_FLOAT_FORMAT = "%.6f"
_MAX_INSTANTS = 50


# --------------------------------------------------------------------------------------------------
# summary.json
# --------------------------------------------------------------------------------------------------


def _mean_of_percentiles(values: Sequence[Percentiles]) -> dict[str, float]:
    out = {key: sum(getattr(v, key) for v in values) / len(values) for key in ("mean", "p50", "p95", "p99")}
    out["max"] = max(v.max for v in values)
    return out


def _mean(runs: Sequence[RunStats], read: Callable[[RunStats], float]) -> float:
    return sum(read(stats) for stats in runs) / len(runs)


def _queue_summary(runs: Sequence[RunStats], name: str) -> dict[str, Any]:
    queues = [stats.queues[name] for stats in runs]
    waits = [queue.wait for queue in queues]
    latencies = [queue.latency for queue in queues]
    return {
        "wait": _mean_of_percentiles(waits),
        "latency": _mean_of_percentiles(latencies),
        "max_depth": max(queue.max_depth for queue in queues),
        "enqueued": sum(queue.enqueued for queue in queues),
        "completed": sum(queue.completed for queue in queues),
        "failed": sum(queue.failed for queue in queues),
        "failure_rate": sum(queue.failure_rate for queue in queues) / len(queues),
    }


def _point_summary(point: PointResult) -> dict[str, Any]:
    runs = point.runs
    first = runs[0]
    queues = {name: _queue_summary(runs, name) for name in first.queues}
    restarts = merge_counts([stats.restarts for stats in runs])
    document: dict[str, Any] = {
        "jobs": {
            "enqueued": sum(s.enqueued for s in runs),
            "completed": sum(s.completed for s in runs),
            "failed": sum(s.failed for s in runs),
            "pending_at_end": sum(s.pending_at_end for s in runs),
            "retried": sum(s.retried for s in runs),
        },
        "wait": _mean_of_percentiles([s.wait for s in runs]),
        "latency": _mean_of_percentiles([s.latency for s in runs]),
        "queues": queues,
        "utilization": _mean(runs, lambda s: s.utilization),
        "failure_rate": _mean(runs, lambda s: s.failure_rate),
        "throughput_per_s": _mean(runs, lambda s: s.throughput),
        "failures": merge_counts([s.failures for s in runs]),
        "workers": {
            "count": first.workers,
            "restarts": sum(restarts.values()),
            "restarts_by_reason": restarts,
            "peak_rss_mb": max(s.peak_rss_mb for s in runs),
        },
    }
    store_peaks = [s.store_peak_memory_bytes for s in runs if s.store_peak_memory_bytes is not None]
    if store_peaks:
        document["redis"] = {"peak_used_memory_mb": max(store_peaks) / 2**20}
    if len(runs) > 1:
        document["confidence"] = _confidence(runs)
    return document


def _interval(result: Estimate) -> list[float] | None:
    return None if result.interval is None else list(result.interval)


def _confidence(runs: Sequence[RunStats]) -> dict[str, list[float] | None]:
    """95% confidence intervals of the main statistics across replications."""
    readers: dict[str, Callable[[RunStats], float]] = {
        "wait.mean": lambda s: s.wait.mean,
        "wait.p95": lambda s: s.wait.p95,
        "wait.p99": lambda s: s.wait.p99,
        "latency.mean": lambda s: s.latency.mean,
        "latency.p99": lambda s: s.latency.p99,
        "utilization": lambda s: s.utilization,
        "failure_rate": lambda s: s.failure_rate,
    }
    out = {name: _interval(estimate([read(s) for s in runs])) for name, read in readers.items()}
    for queue in runs[0].queues:
        out[f"queues.{queue}.wait.p99"] = _interval(estimate([s.queues[queue].wait.p99 for s in runs]))
    return out


def summary_document(result: SimulationResult) -> dict[str, Any]:
    """The summary.json mapping (see the module docstring)."""
    scenario, base = result.scenario, result.base
    # the record says what really ran: a live run's backend, and how long a run cut short lasted
    record = base.record
    document: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replications": scenario.replications,
        "backend": record.backend if record is not None else scenario.backend,
        "simulated_seconds": record.duration if record is not None else scenario.duration,
        "wall_seconds": result.wall_seconds,
        "warmup_seconds": scenario.warmup,
    }
    document |= _point_summary(base)
    document |= result.extra
    document["slo"] = [slo.as_dict() for slo in base.slo]
    document["sweep"] = [
        {
            "value": point.value,
            "wait_p99": _mean(point.runs, lambda s: s.wait.p99),
            "ok": point.ok,
            "utilization": _mean(point.runs, lambda s: s.utilization),
            "failure_rate": _mean(point.runs, lambda s: s.failure_rate),
            "slo": [slo.as_dict() for slo in point.slo],
        }
        for point in result.sweep
    ]
    document["sweep_param"] = result.sweep_param
    document["recommended"] = result.recommended
    document["ok"] = result.ok
    finite: dict[str, Any] = _finite(document)
    return finite


def _finite(value: Any) -> Any:
    """JSON has no infinity or NaN: such numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


# --------------------------------------------------------------------------------------------------
# Frames and charts
# --------------------------------------------------------------------------------------------------


def chart_notes(scenario: Scenario) -> ChartNotes:
    """What the charts draw over the data, from the scenario: spikes and ramps shaded, bursts marked,
    wait/latency SLO limits, memory limits per pool."""
    spans: list[tuple[float, float]] = []
    instants: list[float] = []
    for stream in scenario.arrivals:
        process = stream.process
        if isinstance(process, (SpikeArrivals, RampArrivals)):
            spans.append((process.start, min(process.start + process.duration, scenario.duration)))
        elif isinstance(process, BurstArrivals):
            at = process.at
            while at < scenario.duration and len(instants) < _MAX_INSTANTS:
                instants.append(at)
                if process.every is None:
                    break
                at += process.every
    slos = tuple(
        SloLine(slo.metric, slo.max, slo.queue, slo.percentile)
        for slo in scenario.slo
        if slo.metric in ("wait", "latency")
    )
    return ChartNotes(
        duration=scenario.duration,
        warmup=scenario.warmup,
        spans=tuple(spans),
        instants=tuple(instants),
        slos=slos,
        max_rss_mb={pool.pool: pool.restart.max_rss_mb for pool in scenario.workers if pool.restart.max_rss_mb},
        oom_limit_mb={pool.pool: pool.memory.oom_limit_mb for pool in scenario.workers if pool.memory.oom_limit_mb},
    )


def sweep_frame(result: SimulationResult) -> pd.DataFrame:
    """One row per (swept value, SLO): ``value``, ``slo`` label, ``result``, ``low``, ``high``, ``limit``, ``ok``."""
    rows = []
    for point in result.sweep:
        for slo in point.slo:
            spec = slo.slo
            which = "" if spec.percentile is None else f" p{spec.percentile:g}"
            where = f" {spec.queue}" if spec.queue else ""
            low, high = slo.interval if slo.interval is not None else (math.nan, math.nan)
            rows.append(
                {
                    "value": point.value,
                    "slo": f"{spec.metric}{which}{where} <= {spec.max:g}",
                    "result": slo.value,
                    "low": low,
                    "high": high,
                    "limit": spec.max,
                    "ok": slo.ok,
                }
            )
    return pd.DataFrame(rows, columns=["value", "slo", "result", "low", "high", "limit", "ok"])


def _charts(result: SimulationResult, jobs: pd.DataFrame, series: pd.DataFrame) -> dict[str, bytes]:
    scenario, record = result.scenario, result.base.record
    assert record is not None
    notes = chart_notes(scenario)
    queues = list(record.queues)
    events = worker_events_frame(record)
    figures = {
        "wait.png": wait_chart(series, queues, notes),
        "queue_depth.png": depth_chart(series, queues, notes),
        "workers.png": workers_chart(series, events, notes),
        "throughput.png": throughput_chart(series, notes),
        "worker_memory.png": memory_chart(worker_memory_frame(record), events, notes),
        "wait_cdf.png": wait_cdf_chart(jobs, notes),
    }
    if "redis_used_memory_mb" in series:
        figures["redis_memory.png"] = redis_memory_chart(series, notes)
    if result.sweep:
        figures["capacity.png"] = capacity_chart(sweep_frame(result), result.sweep_param or "", result.recommended)
    return {name: png(figure) for name, figure in figures.items()}


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def write_outputs(result: SimulationResult, out_dir: Path, *, charts: bool = True) -> list[Path]:
    """Write every output file into ``out_dir`` (created if needed); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = result.base.record
    assert record is not None, "the base point's first replication keeps its record"
    written: list[Path] = []

    document = summary_document(result)
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    written.append(summary_path)

    jobs = jobs_frame(record)
    jobs_path = out_dir / "jobs.csv"
    jobs.to_csv(jobs_path, columns=list(JOB_COLUMNS), index=False, float_format=_FLOAT_FORMAT, na_rep="")
    written.append(jobs_path)

    series = timeseries(record)
    series_path = out_dir / "timeseries.csv"
    series.to_csv(series_path, index=False, float_format=_FLOAT_FORMAT, na_rep="")
    written.append(series_path)

    workers_path = out_dir / "workers.csv"
    worker_events_frame(record).to_csv(workers_path, index=False, float_format=_FLOAT_FORMAT)
    written.append(workers_path)

    images = _charts(result, jobs, series) if charts else {}
    for name, data in images.items():
        path = out_dir / name
        path.write_bytes(data)
        written.append(path)
    html_path = out_dir / "report.html"
    html_path.write_text(_html(document, images), encoding="utf-8")
    written.append(html_path)
    return written


# --------------------------------------------------------------------------------------------------
# report.html
# --------------------------------------------------------------------------------------------------

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}
.ok{color:#137333;font-weight:600}.fail{color:#c5221f;font-weight:600}.muted{color:#666}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
"""


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return '<span class="ok">yes</span>' if value else '<span class="fail">no</span>'
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    if value is None:
        return '<span class="muted">-</span>'
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _slo_label(slo: dict[str, Any]) -> str:
    which = f" p{slo['percentile']:g}" if "percentile" in slo else ""
    where = f" ({slo['queue']})" if "queue" in slo else ""
    return f"{slo['metric']}{which}{where}"


def _html(document: dict[str, Any], images: dict[str, bytes]) -> str:
    verdict = '<span class="ok">all SLOs met</span>' if document["ok"] else '<span class="fail">an SLO failed</span>'
    jobs = document["jobs"]
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>resque-sim: {html.escape(document['scenario'])}"
        f"</title><style>{_STYLE}</style></head><body>",
        f"<h1>resque-sim: {html.escape(document['scenario'])}</h1>",
        f"<p>{verdict} &middot; backend {html.escape(document['backend'])} &middot; seed {document['seed']} &middot; "
        f"{document['replications']} replication(s) &middot; {document['simulated_seconds']:g} s simulated in "
        f"{document['wall_seconds']:.1f} s</p>",
        "<h2>Jobs</h2>",
        _table(
            ["enqueued", "completed", "failed", "retried", "pending at end", "utilization", "failure rate"],
            [
                [
                    jobs["enqueued"],
                    jobs["completed"],
                    jobs["failed"],
                    jobs["retried"],
                    jobs["pending_at_end"],
                    document["utilization"],
                    document["failure_rate"],
                ]
            ],
        ),
        "<h2>Queues</h2>",
        _table(
            ["queue", "wait mean", "p50", "p95", "p99", "max", "latency p99", "max depth", "failure rate"],
            [["all", *document["wait"].values(), document["latency"]["p99"], None, document["failure_rate"]]]
            + [
                [name, *q["wait"].values(), q["latency"]["p99"], q["max_depth"], q["failure_rate"]]
                for name, q in document["queues"].items()
            ],
        ),
    ]
    if document["slo"]:
        parts += [
            "<h2>SLOs</h2>",
            _table(
                ["SLO", "limit", "value", "95% CI", "ok"],
                [
                    [
                        _slo_label(s),
                        s["limit"],
                        s["value"],
                        " - ".join(f"{v:.4g}" for v in s.get("ci95") or []),
                        s["ok"],
                    ]
                    for s in document["slo"]
                ],
            ),
        ]
    if document["sweep"]:
        parts += [
            f"<h2>Sweep of {html.escape(str(document['sweep_param']))}</h2>",
            f"<p>recommended: <b>{_cell(document['recommended'])}</b> (the smallest value meeting every SLO)</p>",
            _table(
                ["value", "wait p99", "utilization", "failure rate", "all SLOs met"],
                [[p["value"], p["wait_p99"], p["utilization"], p["failure_rate"], p["ok"]] for p in document["sweep"]],
            ),
        ]
    workers = document["workers"]
    parts += [
        "<h2>Workers</h2>",
        _table(
            ["workers", "restarts", "by reason", "peak RSS (MB)"],
            [
                [
                    workers["count"],
                    workers["restarts"],
                    ", ".join(f"{k}: {v}" for k, v in workers["restarts_by_reason"].items()) or None,
                    workers["peak_rss_mb"],
                ]
            ],
        ),
    ]
    if document["failures"]:
        parts += ["<h2>Failures by exception</h2>", _table(["exception", "count"], list(document["failures"].items()))]
    if images:
        parts.append("<h2>Charts</h2>")
    for name, data in images.items():
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f"<div><img alt='{html.escape(name)}' src='data:image/png;base64,{encoded}'></div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
