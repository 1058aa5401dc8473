"""Writing a comparison of two runs: compare.json, two overlay charts and a self-contained compare.html.

What a caller needs::

    paths = write_comparison(compare_runs(load_run(a), load_run(b)), Path("compare-out"))

Files: ``compare.json`` (:meth:`Comparison.as_dict`), ``depth_overlay.png`` (jobs waiting per queue over
time, A solid and B dashed, one colour per queue), ``wait_cdf_overlay.png`` (the fraction of jobs that
waited at most x, overall and per queue, A solid and B dashed) and ``compare.html`` (the verdict, the
table and the charts embedded as data URIs).
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from resque_sim.charts import png
from resque_sim.compare import ALL, Comparison, Row, format_relative, format_value
from resque_sim.run_output import RunOutput

__all__ = ["depth_overlay_chart", "wait_cdf_overlay_chart", "write_comparison"]

_STYLES = (("-", 1.6), ("--", 1.6))  # run A, run B
_COLOURS = ("black", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink")


def _figure() -> tuple[Figure, Axes]:
    figure = Figure(figsize=(10.0, 4.2), layout="constrained")
    return figure, figure.subplots()


def _both(comparison: Comparison) -> tuple[tuple[str, RunOutput], tuple[str, RunOutput]]:
    return ("A", comparison.a), ("B", comparison.b)


def depth_overlay_chart(comparison: Comparison) -> Figure:
    """Jobs waiting per queue (time-averaged per bucket) over time: A solid, B dashed."""
    figure, ax = _figure()
    queues = sorted(set(comparison.a.queues) | set(comparison.b.queues))
    for (letter, run), (style, width) in zip(_both(comparison), _STYLES, strict=True):
        for index, queue in enumerate(queues):
            column = f"depth:{queue}"
            if column in run.series:
                colour = _COLOURS[(index + 1) % len(_COLOURS)]
                ax.plot(
                    run.series["time"],
                    run.series[column],
                    ls=style,
                    lw=width,
                    color=colour,
                    drawstyle="steps-post",
                    label=f"{letter} {queue}",
                )
    ax.set_xlabel("time from the start (s)")
    ax.set_ylabel("jobs waiting")
    ax.set_title("queue depth: A solid, B dashed", loc="left", fontsize=10)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper right", fontsize=8)
    return figure


def _measured_waits(run: RunOutput) -> dict[str, np.ndarray]:
    """Sorted waits of the jobs enqueued after the warmup, overall and per queue."""
    _, waits, queues = run.measured_waits()
    out = {ALL: np.sort(waits)}
    for queue in run.queues:
        out[queue] = np.sort(waits[queues == queue])
    return out


def wait_cdf_overlay_chart(comparison: Comparison) -> Figure:
    """The fraction of jobs that waited at most x: overall (black) and per queue when there are several,
    A solid and B dashed."""
    figure, ax = _figure()
    queues = sorted(set(comparison.a.queues) | set(comparison.b.queues))
    scopes = [ALL, *queues] if len(queues) > 1 else [ALL]
    largest = 0.01
    for (letter, run), (style, width) in zip(_both(comparison), _STYLES, strict=True):
        waits = _measured_waits(run)
        for index, scope in enumerate(scopes):
            values = waits.get(scope)
            if values is None or not len(values):
                continue
            largest = max(largest, float(values[-1]))
            fraction = np.arange(1, len(values) + 1) / len(values)
            ax.plot(
                values,
                fraction,
                ls=style,
                lw=width,
                color=_COLOURS[index % len(_COLOURS)],
                drawstyle="steps-post",
                label=f"{letter} {scope}",
            )
    ax.set_xscale("symlog", linthresh=0.01)
    ax.set_xlim(0, largest * 1.1)
    ax.set_ylim(0, 1.01)
    ax.set_xlabel("wait (s)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title("wait distribution (CDF): A solid, B dashed", loc="left", fontsize=10)
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    return figure


_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h2{margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:.25em .7em;border-bottom:1px solid #eee;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child,td:nth-child(2){text-align:left}
.same,.close{color:#137333;font-weight:600}.different{color:#c5221f;font-weight:600}.muted{color:#666}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
"""


def _rows_html(rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{h}</th>" for h in ("scope", "figure", "A", "B", "B - A", "relative"))
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                row.scope,
                row.metric,
                format_value(row.metric, row.a),
                format_value(row.metric, row.b),
                format_value(row.metric, row.difference),
                format_relative(row),
            )
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _html(comparison: Comparison, images: dict[str, bytes]) -> str:
    verdict = comparison.verdict
    parts = [
        f"<!doctype html><html><head><meta charset='utf-8'><title>resque-sim compare</title><style>{_STYLE}"
        "</style></head><body><h1>resque-sim compare</h1>",
        f"<p>A: {html.escape(comparison.a.label)}<br>B: {html.escape(comparison.b.label)}</p>",
        f"<p class='{verdict.kind}'>{html.escape(verdict.text)}</p>",
        "<h2>Figures</h2>",
        _rows_html(comparison.rows),
    ]
    if images:
        parts.append("<h2>Charts</h2>")
    for name, data in images.items():
        encoded = base64.b64encode(data).decode("ascii")
        parts.append(f"<div><img alt='{html.escape(name)}' src='data:image/png;base64,{encoded}'></div>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_comparison(comparison: Comparison, out_dir: Path, *, charts: bool = True) -> list[Path]:
    """Write compare.json, the overlay charts (unless ``charts`` is false) and compare.html into
    ``out_dir`` (created if needed); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "compare.json"]
    written[0].write_text(json.dumps(comparison.as_dict(), indent=2) + "\n", encoding="utf-8")
    images = (
        {
            "depth_overlay.png": png(depth_overlay_chart(comparison)),
            "wait_cdf_overlay.png": png(wait_cdf_overlay_chart(comparison)),
        }
        if charts
        else {}
    )
    for name, data in images.items():
        (out_dir / name).write_bytes(data)
        written.append(out_dir / name)
    page = out_dir / "compare.html"
    page.write_text(_html(comparison, images), encoding="utf-8")
    written.append(page)
    return written
