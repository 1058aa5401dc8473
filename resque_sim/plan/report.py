"""The plan's report.html and the lines ``resque-sim plan`` prints: the answer first (what today's fleet
holds, the peak seen, the smallest fleet meeting the SLO at the peak times the growth), then the fits
behind it, what is unknown and what is uncertain. The simulation's own report is kept beside it as
simulation.html."""

from __future__ import annotations

import base64
import html
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["answer_lines", "write_report"]


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _stamp(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def _slo_text(slo: dict[str, Any]) -> str:
    where = f"[{slo['queue']}]" if slo.get("queue") else ""
    stat = f".p{slo['percentile']:g}" if slo.get("percentile") is not None else ""
    return f"{slo['metric']}{where}{stat} < {slo['limit']:g}"


def answer_lines(summary: dict[str, Any]) -> list[str]:
    """The plain answer, one statement a line."""
    plan = summary["plan"]
    slos = ", ".join(_slo_text(slo) for slo in summary["slo"]) or "no SLO"
    lines = []
    peak = sum(queue["peak_rate"] for queue in plan["queues"].values())
    per_queue = ", ".join(f"{name} {queue['peak_rate']:.3g}/s" for name, queue in plan["queues"].items())
    lines.append(f"peak seen: {peak:.3g} jobs/s over {plan['peak_minutes']} min ({per_queue})")
    today = plan["today"]
    pools = plan["pools"]
    if today is None:
        lines.append("today's fleet: no worker is registered now, so it is not known")
    else:
        verdict = "holds" if today["ok"] else "does NOT hold"
        split = f" ({_counts(today['pools'])})" if len(today.get("pools", {})) > 1 else ""
        held = ", ".join(_slo_text(slo) for slo in today["slo"]) or "no SLO"
        lines.append(
            f"today's fleet: {today['workers']} workers{split} {verdict} {held} at that peak "
            f"(wait p95 {_seconds(today['wait']['p95'])})"
        )
    growth = plan["growth"]
    if len(pools) > 1:
        return lines + _pool_lines(plan, growth) + _caveats(plan)
    recommended = summary["recommended"]
    if recommended is None:
        tried = max((point["value"] for point in summary["sweep"]), default=0)
        lines.append(f"at peak x {growth:g}: no fleet up to {tried} workers meets {slos}; widen the sweep in plan.yaml")
    else:
        lines.append(f"at peak x {growth:g}: the smallest fleet meeting {slos} is {recommended} workers")
    return lines + _caveats(plan)


def _counts(pools: dict[str, Any]) -> str:
    return ", ".join(f"{name} {count}" for name, count in pools.items())


def _pool_lines(plan: dict[str, Any], growth: float) -> list[str]:
    """A line per pool (each swept with the others generous), then the combined fleet's check."""
    lines = []
    for pool in plan["pools"]:
        where = f"pool {pool['name']} ({','.join(pool['queues'])}, {pool['count']} today)"
        held = ", ".join(_slo_text(slo) for slo in pool["slo"]) or "no SLO"
        if not pool["served"]:
            lines.append(f"{where}: serves no queue a job was recorded from; not planned")
        elif pool["swept"] is None:
            tried = max((point["value"] for point in pool["sweep"]), default=0)
            lines.append(f"at peak x {growth:g}: {where}: no count up to {tried} meets {held}; widen its sweep")
        else:
            lines.append(f"at peak x {growth:g}: {where}: the smallest count meeting {held} is {pool['swept']} workers")
    combined = plan["combined"]
    if combined is not None:
        total = sum(combined["workers"].values())
        verdict = "holds" if combined["ok"] else "does NOT hold"
        grown = (
            f", after {combined['rounds']} round(s) adding a worker to the pools behind a failing SLO"
            if (combined["rounds"])
            else ""
        )
        lines.append(
            f"at peak x {growth:g}: the combined fleet, {total} workers ({_counts(combined['workers'])}), "
            f"{verdict} {', '.join(_slo_text(slo) for slo in combined['slo'])} "
            f"(wait p95 {_seconds(combined['wait']['p95'])}){grown}"
        )
    return lines


def _caveats(plan: dict[str, Any]) -> list[str]:
    lines = []
    for line in plan["unknown"]:
        lines.append(f"unknown: {line}")
    for line in plan["uncertain"]:
        lines.append(f"uncertain: {line}")
    skipped = sum(plan["skipped_keys"].values())
    if skipped:
        lines.append(f"skipped {skipped} recorded keys not in the expected layout: {plan['skipped_keys']}")
    return lines


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(cell))}</th>" for cell in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)


def _sweep_table(points: Sequence[dict[str, Any]]) -> str:
    return _table(
        ["workers", "SLO met", "wait p99", "utilization"],
        [[p["value"], "yes" if p["ok"] else "no", _seconds(p["wait_p99"]), f"{p['utilization']:.0%}"] for p in points],
    )


_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
    "li{margin:.2em 0}img{max-width:100%}"
)


def write_report(out_dir: Path, summary: dict[str, Any]) -> Path:
    """Move the simulation's report.html to simulation.html and write the plan's report.html."""
    simulation = out_dir / "report.html"
    if simulation.exists():
        simulation.replace(out_dir / "simulation.html")
    plan = summary["plan"]
    parts = [f"<h1>Capacity plan</h1><p>History {_stamp(plan['window']['start'])} to {_stamp(plan['window']['end'])}"]
    if plan["since_deploy"]:
        parts.append(f" (after deploy {html.escape(plan['since_deploy']['label'])})")
    parts.append("</p><h2>Answer</h2><ul>")
    parts += [f"<li>{html.escape(line)}</li>" for line in answer_lines(summary)]
    parts.append("</ul><h2>Queues</h2>")
    parts.append(
        _table(
            ["queue", "mean rate /s", "peak rate /s", "planned rate /s", "arrivals", "seconds", "mix"],
            [
                [
                    name,
                    f"{q['mean_rate']:.4g}",
                    f"{q['peak_rate']:.4g}",
                    f"{q['planned_rate']:.4g}",
                    q["arrivals"],
                    f"{q['seconds']:.0f}",
                    ", ".join(f"{c} {s:.0%}" for c, s in q["mix"].items()),
                ]
                for name, q in plan["queues"].items()
            ],
        )
    )
    parts.append("<h2>Run times and failures</h2>")
    parts.append(
        _table(
            ["class", "queue", "jobs", "mean", "p95", "family", "fit distance (critical)", "failure rate"],
            [
                [
                    name,
                    c["queue"] or "unknown",
                    c["executions"],
                    _seconds(c["mean"]),
                    _seconds(c["p95"]),
                    c["family"],
                    f"{c['distance']:.3f} ({c['critical_distance']:.3f})" if c["distance"] is not None else "-",
                    f"{c['failure_rate']:.2%}",
                ]
                for name, c in plan["classes"].items()
            ],
        )
    )
    parts.append("<h2>Workers registered now, and the plan for each pool</h2>")
    parts.append(
        _table(
            ["pool", "queues", "workers now", "planned queues", "offered load", "swept", "recommended"],
            [
                [
                    p["name"],
                    ",".join(p["queues"]),
                    p["count"],
                    ",".join(p["served"]) or "-",
                    f"{p['offered_load']:.3g}",
                    _count(p["swept"]),
                    _count(p["recommended"]),
                ]
                for p in plan["pools"]
            ],
        )
    )
    if len(plan["pools"]) > 1:
        parts.append(
            "<p>Each pool is swept with the others generous, held to the SLOs of the queues it serves; the "
            "combined fleet is then checked together (see the answer).</p>"
        )
        for pool in plan["pools"][1:]:
            parts.append(f"<h2>Sweep of pool {html.escape(pool['name'])} (at peak x growth)</h2>")
            parts.append(_sweep_table(pool["sweep"]))
    name = plan["pools"][0]["name"] if len(plan["pools"]) > 1 else ""
    parts.append(f"<h2>Sweep{' of pool ' + html.escape(name) if name else ''} (at peak x growth)</h2>")
    parts.append(_sweep_table(summary["sweep"]))
    capacity = out_dir / "capacity.png"
    if capacity.exists():
        data = base64.b64encode(capacity.read_bytes()).decode()
        parts.append(f'<img alt="capacity curve" src="data:image/png;base64,{data}">')
    parts.append("<h2>Deploys</h2>")
    parts.append(
        _table(["label", "at"], [[d["label"], _stamp(d["at"])] for d in plan["deploys"]])
        if plan["deploys"]
        else "<p>none recorded</p>"
    )
    if plan["notes"]:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in plan["notes"]) + "</ul>")
    parts.append(
        '<p>The fitted scenario is <a href="plan.yaml">plan.yaml</a>; the simulation of it at the current '
        'fleet is <a href="simulation.html">simulation.html</a>.</p>'
    )
    head = f"<meta charset=utf-8><title>Capacity plan</title><style>{_STYLE}</style>"
    page = f"<!doctype html><html><head>{head}</head><body>{''.join(parts)}</body></html>"
    path = out_dir / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
