"""``resque-sim calibrate REDIS_URL --out calibration.yaml``: measure, with real workers on a real Redis,
what the simulator cannot know (per-job overheads with and without fork, the part of a fork before
perform, wake-up latency, poll cost, boot time), and write them with their spread for
``resque-sim SCENARIO --calibration FILE``.

::

    resque-sim calibrate REDIS_URL [--out calibration.yaml] [--quick] [--workers N] [--job-seconds S]
                                   [--allow-flush] [--quiet]

Exit status 0, or 2 (one line on stderr) for an unreachable Redis, a namespace holding keys without
``--allow-flush``, or a worker that fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from resque_sim.calibrate import FULL, QUICK, calibrate
from resque_sim.calibration import Calibration, CalibrationError, dump_calibration

__all__ = ["calibrate_command"]


def _ms(value: float) -> str:
    return f"{value * 1000:,.2f} ms"


def _print(console: Console, calibration: Calibration, out: Path) -> None:
    table = Table(title=f"measured on {calibration.machine.get('hostname', '?')}", title_justify="left")
    for column in ("figure", "mean", "p50", "p95", "stdev", "samples"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for name in calibration.measured:
        figure = calibration.figure(name)
        table.add_row(name, _ms(figure.mean), _ms(figure.p50), _ms(figure.p95), _ms(figure.stdev), str(figure.samples))
    console.print(table)
    console.print(f"wrote {out} in {calibration.machine.get('wall_seconds')}s", highlight=False)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("redis_url", metavar="REDIS_URL")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default="calibration.yaml", show_default=True)
@click.option("--quick", is_flag=True, help="Tiny sample sizes (seconds, for tests; the spread is rough).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Workers draining together while the per-job overheads are measured (as many as share a machine).",
)
@click.option(
    "--job-seconds",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="How long each probe job sleeps in the per-job measurements (about your jobs' duration).",
)
@click.option("--allow-flush", is_flag=True, help="Delete the keys the namespace holds before calibrating.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def calibrate_command(
    redis_url: str, out_file: str, quick: bool, workers: int, job_seconds: float, allow_flush: bool, quiet: bool
) -> None:
    """Measure per-job worker overhead (with and without fork), wake-up latency, poll cost and boot time
    with real worker processes on REDIS_URL (its namespace must be empty), and write them to --out."""
    console = Console(quiet=quiet, width=None if sys.stdout.isatty() else 120)
    errors = Console(stderr=True)

    def progress(step: str) -> None:
        errors.print(f"calibrating {step}", markup=False, highlight=False) if not quiet else None

    try:
        calibration = calibrate(
            redis_url,
            sizes=QUICK if quick else FULL,
            workers=workers,
            job_seconds=job_seconds,
            allow_flush=allow_flush,
            progress=progress,
        )
    except CalibrationError as error:
        errors.print(f"resque-sim calibrate: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    out = Path(out_file)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_calibration(calibration), encoding="utf-8")
    _print(console, calibration, out)
