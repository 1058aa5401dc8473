"""``resque-sim compare DIR_A DIR_B``: set two run outputs side by side (a simulation and a live run, or
two simulations before and after a change).

::

    resque-sim compare DIR_A DIR_B [--out DIR] [--no-charts] [--quiet]

Prints the table and the verdict, and writes compare.json, compare.html and the overlay charts into
``--out`` (default ``./sim-compare/<A>-vs-<B>``).  Exit status 0 whatever the verdict; 2 when a
directory is not a run output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from resque_sim.compare import Comparison, compare_runs, format_relative, format_value
from resque_sim.compare_report import write_comparison
from resque_sim.run_output import RunDirError, load_run

__all__ = ["compare_command"]

_COLOURS = {"same": "green", "close": "green", "different": "red"}


def _print(console: Console, comparison: Comparison, out: Path) -> None:
    console.print(f"A: {comparison.a.label}\nB: {comparison.b.label}", markup=False, highlight=False)
    table = Table(title="B against A", title_justify="left")
    for column in ("scope", "figure", "A", "B", "B - A", "relative"):
        table.add_column(column, justify="left" if column in ("scope", "figure") else "right")
    for row in comparison.rows:
        table.add_row(
            row.scope,
            row.metric,
            format_value(row.metric, row.a),
            format_value(row.metric, row.b),
            format_value(row.metric, row.difference),
            format_relative(row),
        )
    console.print(table)
    verdict = comparison.verdict
    console.print(f"[{_COLOURS[verdict.kind]}]{verdict.text}[/]", highlight=False, soft_wrap=True)
    console.print(f"wrote {out}/ (compare.json, compare.html, charts)", highlight=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("dir_a", metavar="DIR_A")
@click.argument("dir_b", metavar="DIR_B")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder [./sim-compare/<A>-vs-<B>].")
@click.option("--no-charts", is_flag=True, help="Skip the overlay charts.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def compare_command(dir_a: str, dir_b: str, out_dir: str | None, no_charts: bool, quiet: bool) -> None:
    """Compare two run outputs (summary.json, jobs.csv, timeseries.csv): wait and latency mean/p50/p95/p99,
    throughput, max depth and failures, per queue and overall, with differences, overlay charts and a
    verdict. Exit status 0, or 2 when a directory is not a run output."""
    console = Console(quiet=quiet, width=None if sys.stdout.isatty() else 120)
    try:
        a, b = load_run(dir_a), load_run(dir_b)
    except RunDirError as error:
        Console(stderr=True).print(f"resque-sim compare: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    comparison = compare_runs(a, b)
    out = Path(out_dir) if out_dir is not None else Path("sim-compare") / f"{a.path.name}-vs-{b.path.name}"
    write_comparison(comparison, out, charts=not no_charts)
    _print(console, comparison, out)
