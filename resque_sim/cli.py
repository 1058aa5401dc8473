"""``resque-sim``: replay a scenario file in simulated time against the real library, and report.

::

    resque-sim compare DIR_A DIR_B [--out DIR]                 (resque_sim.compare_cli)
    resque-sim calibrate REDIS_URL [--out calibration.yaml]     (resque_sim.calibrate_cli)
    resque-sim plan REDIS_URL --out DIR [--slo ...]             (resque_sim.plan.cli)
    resque-sim SCENARIO.yaml [--out DIR] [--seed N] [--backend fake|memory|redis] [--redis URL]
                             [--allow-flush] [--replications N] [--set path=value ...]
                             [--sweep workers.default.count=8,12,16 | --no-sweep]
                             [--processes N | --executor dask://HOST:PORT] [--no-charts] [--quiet]
                             [--calibration FILE]
    resque-sim SCENARIO.yaml --live URL [--attach] [--speed K] [--work sleep|cpu] [--allow-flush] ...
    resque-sim --ruby-probe

``--live`` replays the scenario in wall-clock time into a real Redis (:mod:`resque_sim.live`); the
outputs are a simulation's, with ``"backend": "live"``.  A live run cut short by Ctrl-C writes what it
observed and exits 130.  ``--calibration`` fills in the worker overheads a pool does not set from what
``resque-sim calibrate`` measured (:mod:`resque_sim.calibration`).

Exit status (DESIGN.md section 5): 0 when every SLO holds, 3 when one fails, 2 for a bad scenario file
or options (the message names the file, the field and what is expected) or a backend that cannot be used.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Literal, NoReturn

import click
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from resque_sim.calibrate_cli import calibrate_command
from resque_sim.calibration import CalibrationError, apply_calibration, load_calibration, overheads_in_effect
from resque_sim.compare_cli import compare_command
from resque_sim.engine import BackendError
from resque_sim.executor import ExecutorError, parse_executor
from resque_sim.live.probe import ruby_probe_path
from resque_sim.live.probe_store import LiveError
from resque_sim.live.progress import LiveProgressBar
from resque_sim.live.runner import LiveOptions, run_live
from resque_sim.plan.cli import plan_command
from resque_sim.report import summary_document, write_outputs
from resque_sim.runner import SimulationResult, run_scenario
from resque_sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = ["main"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_SLO_FAILED, EXIT_INTERRUPTED = 0, 2, 3, 130
_PROGRESS_AFTER = 1.0  # seconds before a progress bar appears


class _ProgressBar:
    """A rich progress bar that appears only once a run has taken longer than a second."""

    def __init__(self, console: Console, label: str, enabled: bool) -> None:
        self._console = console
        self._label = label
        self._enabled = enabled
        self._started = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: float) -> None:
        if not self._enabled:
            return
        if self._progress is None:
            if time.monotonic() - self._started < _PROGRESS_AFTER:
                return
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.percentage:>3.0f}%"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._label, total=1.0)
        assert self._task is not None
        self._progress.update(self._task, completed=min(1.0, done))

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


def _with_sweep(scenario: Scenario, text: str) -> Scenario:
    """``scenario`` sweeping what ``--sweep param=v1,v2,...`` says, every value checked."""
    param, equals, values = (part.strip() for part in text.partition("="))
    if not equals or not param or not values:
        raise ScenarioError(
            scenario.source, "", f"--sweep {text!r} must look like param=v1,v2,..., e.g. workers.default.count=8,12,16"
        )
    try:
        parsed = [yaml.safe_load(value) for value in values.split(",")]
    except yaml.YAMLError:
        raise ScenarioError(scenario.source, param, f"--sweep values {values!r} are not valid YAML") from None
    for value in parsed:
        scenario.with_value(param, value)  # a bad path or value is a ScenarioError naming it
    return scenario.with_value("sweep", {"param": param, "values": parsed})


def _configure(
    path: str,
    sets: tuple[str, ...],
    seed: int | None,
    backend: str | None,
    redis_url: str | None,
    replications: int | None,
    sweep: str | None,
    no_sweep: bool,
    calibration: str | None = None,
) -> Scenario:
    """The scenario file with the command line's overrides applied (each a ``ScenarioError`` if invalid),
    and the calibration file's figures where the scenario sets no value (a ``CalibrationError``)."""
    scenario = load_scenario(path, sets)
    if calibration is not None:
        # first, while the scenario still knows which fields its file set (with_value sets them all)
        scenario = apply_calibration(scenario, load_calibration(calibration))
    if redis_url is not None and (backend or scenario.backend) != "redis":
        backend = "redis"
    if backend is not None and backend != scenario.backend:
        scenario = scenario.with_value("backend", backend)
    if redis_url is not None:
        scenario = scenario.with_value("url", redis_url)
    if seed is not None:
        scenario = scenario.with_value("seed", seed)
    if replications is not None:
        scenario = scenario.with_value("replications", replications)
    if no_sweep:
        scenario = scenario.with_value("sweep", None)
    elif sweep is not None:
        scenario = _with_sweep(scenario, sweep)
    return scenario


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}s"
    if value >= 1:
        return f"{value:.2f}s"
    return f"{value * 1000:.0f}ms"


def _slo_name(slo: dict[str, Any]) -> str:
    timed = slo["metric"] in ("wait", "latency")
    which = f" p{slo['percentile']:g}" if "percentile" in slo else (" mean" if timed else "")
    where = f" {slo['queue']}" if "queue" in slo else ""
    return f"{slo['metric']}{which}{where}"


def _show(metric: str, value: float | None) -> str:
    """An SLO value in its unit: seconds, a percentage, jobs or MB."""
    if value is None:
        return "-"
    if metric in ("wait", "latency"):
        return _seconds(value)
    if metric in ("failure_rate", "utilization"):
        return f"{value:.2%}"
    if metric == "peak_rss_mb":
        return f"{value:,.0f} MB"
    return f"{value:,.0f}"


def _print_summary(console: Console, result: SimulationResult, out_dir: Path, document: dict[str, Any]) -> None:
    scenario = result.scenario
    jobs = document["jobs"]
    points = [*result.sweep, *(() if any(p is result.base for p in result.sweep) else (result.base,))]
    simulated = sum(stats.enqueued for point in points for stats in point.runs)
    rate = simulated / result.wall_seconds if result.wall_seconds > 0 else 0.0
    console.print(
        f"[bold]resque-sim[/bold] {scenario.name}: {scenario.duration:g}s simulated x {scenario.replications} "
        f"replication(s) on {document['backend']}, seed {scenario.seed}; {result.wall_seconds:.1f}s wall for "
        f"{simulated:,} simulated jobs ({rate:,.0f} jobs/s)"
    )
    console.print(
        f"jobs: {jobs['enqueued']:,} enqueued, {jobs['completed']:,} completed, {jobs['failed']:,} failed "
        f"({jobs['retried']:,} of them retried), {jobs['pending_at_end']:,} pending at the end; "
        f"utilization {document['utilization']:.0%}, {document['workers']['restarts']} worker restarts, "
        f"peak worker RSS {document['workers']['peak_rss_mb']:.0f} MB"
    )
    table = Table(title="wait (enqueue to perform) and latency (to finish)", title_justify="left")
    for column in ("queue", "wait mean", "p50", "p95", "p99", "max", "latency p99", "max depth", "failure rate"):
        table.add_column(column, justify="left" if column == "queue" else "right")
    rows = [("all", document["wait"], document["latency"], "", document["failure_rate"])]
    rows += [
        (name, q["wait"], q["latency"], f"{q['max_depth']:,}", q["failure_rate"])
        for name, q in document["queues"].items()
    ]
    for name, wait, latency, depth, failure_rate in rows:
        table.add_row(
            name,
            *(_seconds(wait[key]) for key in ("mean", "p50", "p95", "p99", "max")),
            _seconds(latency["p99"]),
            depth,
            f"{failure_rate:.2%}",
        )
    console.print(table)
    if document["slo"]:
        slo_table = Table(title="SLOs", title_justify="left")
        for column in ("", "metric", "limit", "value", "95% CI"):
            slo_table.add_column(column)
        for slo in document["slo"]:
            mark = "[green]PASS[/green]" if slo["ok"] else "[red]FAIL[/red]"
            ci = slo.get("ci95")
            show = slo["metric"]
            slo_table.add_row(
                mark,
                _slo_name(slo),
                _show(show, slo["limit"]),
                _show(show, slo["value"]),
                f"{_show(show, ci[0])} .. {_show(show, ci[1])}" if ci else "",
            )
        console.print(slo_table)
    if document["sweep"]:
        sweep_table = Table(title=f"sweep of {document['sweep_param']}", title_justify="left")
        sweep_table.add_column("value", justify="right")
        for slo in document["slo"]:
            sweep_table.add_column(_slo_name(slo), justify="right")
        for column in ("utilization", "all SLOs"):
            sweep_table.add_column(column, justify="right")
        for point in document["sweep"]:
            values = [
                f"[{'green' if slo['ok'] else 'red'}]{_show(slo['metric'], slo['value'])}[/]" for slo in point["slo"]
            ]
            sweep_table.add_row(
                str(point["value"]),
                *values,
                f"{point['utilization']:.0%}",
                "[green]met[/green]" if point["ok"] else "[red]missed[/red]",
            )
        console.print(sweep_table)
        recommended = document["recommended"]
        console.print(
            f"recommended {document['sweep_param']}: [bold]{recommended}[/bold]"
            if recommended is not None
            else f"[red]no value of {document['sweep_param']} meets every SLO[/red]"
        )
    verdict = "[green]every SLO holds[/green]" if document["ok"] else "[red]an SLO failed (exit 3)[/red]"
    console.print(f"{verdict}; wrote {out_dir}/ (summary.json, jobs.csv, timeseries.csv, report.html, charts)")


def _live(
    scenario: Scenario, options: LiveOptions, out: Path, charts: bool, console: Console, errors: Console
) -> NoReturn:
    """Run ``scenario`` live, write its outputs and exit with its status."""
    bar = LiveProgressBar(errors, f"live {scenario.name}", enabled=not console.quiet and errors.is_terminal)
    try:
        outcome = run_live(scenario, options, progress=bar)
    except LiveError as error:
        errors.print(f"resque-sim: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    finally:
        bar.close()
    write_outputs(outcome.result, out, charts=charts)
    for death in outcome.deaths:
        errors.print(
            f"resque-sim: worker {death.worker} (pid {death.pid}) {death.status} at t={death.at:.1f}s "
            f"and was not replaced; its log ended:\n{death.log_tail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    unrecorded = outcome.result.extra["live"]["unrecorded_jobs"]
    if unrecorded:
        errors.print(
            f"resque-sim: {unrecorded} probe jobs were taken by workers but never recorded (lost with a worker, "
            "or run by workers without the probe: resque-impl work --jobs resque_sim.live.probe, or a Ruby worker "
            "requiring the file resque-sim --ruby-probe prints); they count as pending",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    _print_summary(console, outcome.result, out, summary_document(outcome.result))
    if outcome.interrupted:
        errors.print(f"resque-sim: interrupted; wrote what was observed to {out}/", markup=False, highlight=False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(EXIT_OK if outcome.result.ok else EXIT_SLO_FAILED)


@click.command(
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Also: 'resque-sim compare DIR_A DIR_B' and 'resque-sim calibrate REDIS_URL' (each with --help).",
)
@click.argument("scenario_file", metavar="SCENARIO.yaml", type=click.Path(dir_okay=False), required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output folder [./sim-out/<scenario>].")
@click.option("--seed", type=int, help="Seed of the first replication (replication r uses seed + r).")
@click.option("--backend", type=click.Choice(["fake", "memory", "redis"]), help="Where the queues live.")
@click.option("--redis", "redis_url", metavar="URL", help="Redis URL for the redis backend (implies it).")
@click.option("--allow-flush", is_flag=True, help="Let the redis backend empty a database that holds keys.")
@click.option("--replications", type=click.IntRange(min=1), help="Independent runs with seeds seed, seed+1, ...")
@click.option("--set", "sets", multiple=True, metavar="PATH=VALUE", help="Override a field, e.g. duration=10m.")
@click.option(
    "--sweep", "sweep_text", metavar="PARAM=V1,V2,...", help="Run once per value (replaces the file's sweep)."
)
@click.option("--no-sweep", is_flag=True, help="Ignore the scenario file's sweep.")
@click.option("--processes", type=click.IntRange(min=1), help="Parallel processes for replications [CPUs].")
@click.option(
    "--executor",
    "executor_text",
    metavar="local|dask://HOST:PORT",
    help="Where the runs go: local processes [local], or a dask.distributed scheduler.",
)
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts (faster for big runs).")
@click.option(
    "--calibration",
    "calibration_file",
    type=click.Path(dir_okay=False),
    help="Worker overheads measured by resque-sim calibrate, for pools that set none.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
@click.option("--live", "live_url", metavar="URL", help="Replay in wall-clock time into this Redis, real workers.")
@click.option("--attach", is_flag=True, help="With --live: start no workers; measure those already running.")
@click.option("--speed", type=click.FloatRange(min=0, min_open=True), help="With --live: divide durations by K.")
@click.option("--work", type=click.Choice(["sleep", "cpu"]), help="With --live: probe jobs sleep or burn CPU.")
@click.option("--ruby-probe", is_flag=True, help="Print the file a Ruby Resque worker requires, and exit.")
def command(
    scenario_file: str | None,
    out_dir: str | None,
    seed: int | None,
    backend: str | None,
    redis_url: str | None,
    allow_flush: bool,
    replications: int | None,
    sets: tuple[str, ...],
    sweep_text: str | None,
    no_sweep: bool,
    processes: int | None,
    executor_text: str | None,
    no_charts: bool,
    quiet: bool,
    calibration_file: str | None,
    live_url: str | None,
    attach: bool,
    speed: float | None,
    work: str | None,
    ruby_probe: bool,
) -> None:
    """Simulate SCENARIO.yaml with the real resque_impl client and workers in simulated time, then write
    summary.json, jobs.csv, timeseries.csv, charts and report.html. Exit status: 0 when every SLO holds,
    3 when one fails, 2 for a bad scenario or options.  With --live URL, replay it in wall-clock time into
    that Redis with real workers instead (130 when Ctrl-C cut it short)."""
    console = Console(quiet=quiet, width=None if sys.stdout.isatty() else 120)
    errors = Console(stderr=True)
    if ruby_probe:
        click.echo(ruby_probe_path())
        sys.exit(EXIT_OK)
    if scenario_file is None:
        errors.print("resque-sim: give a SCENARIO.yaml (or --ruby-probe); see resque-sim --help")
        sys.exit(EXIT_BAD_INPUT)
    if live_url is None and (attach or speed is not None or work is not None):
        errors.print("resque-sim: --attach, --speed and --work go with --live URL")
        sys.exit(EXIT_BAD_INPUT)
    try:
        executor = parse_executor(executor_text or "local")
    except ExecutorError as error:
        errors.print(f"resque-sim: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    if executor.kind != "local" and (processes is not None or live_url is not None):
        errors.print("resque-sim: --executor dask://... replaces --processes and does not go with --live")
        sys.exit(EXIT_BAD_INPUT)
    if live_url is not None and (backend is not None or redis_url is not None):
        errors.print("resque-sim: --live URL replaces --backend and --redis; drop them")
        sys.exit(EXIT_BAD_INPUT)
    try:
        scenario = _configure(
            scenario_file, sets, seed, backend, redis_url, replications, sweep_text, no_sweep, calibration_file
        )
    except (ScenarioError, CalibrationError) as error:
        errors.print(str(error), markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    if calibration_file is not None:
        for line in overheads_in_effect(scenario):
            console.print(
                f"calibrated from {calibration_file}: pool {line}", markup=False, highlight=False, soft_wrap=True
            )
    out = Path(out_dir) if out_dir is not None else Path("sim-out") / scenario.name
    if live_url is not None:
        work_kind: Literal["sleep", "cpu"] = "cpu" if work == "cpu" else "sleep"
        options = LiveOptions(live_url, attach=attach, speed=speed or 1.0, work=work_kind, allow_flush=allow_flush)
        _live(scenario, options, out, not no_charts, console, errors)
    bar = _ProgressBar(errors, f"simulating {scenario.name}", enabled=not quiet and errors.is_terminal)
    try:
        result = run_scenario(scenario, processes=processes, allow_flush=allow_flush, progress=bar, executor=executor)
    except (BackendError, ExecutorError) as error:
        errors.print(f"resque-sim: {error}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    finally:
        bar.close()
    write_outputs(result, out, charts=not no_charts)
    _print_summary(console, result, out, summary_document(result))
    sys.exit(EXIT_OK if result.ok else EXIT_SLO_FAILED)


_SUBCOMMANDS: dict[str, click.Command] = {
    "calibrate": calibrate_command,
    "compare": compare_command,
    "plan": plan_command,
}


def main() -> None:
    """Entry point of the ``resque-sim`` script: ``resque-sim compare ...`` (and the other subcommands
    named in :data:`_SUBCOMMANDS`) go to their own command; anything else names a scenario file."""
    arguments = sys.argv[1:]
    if arguments and arguments[0] in _SUBCOMMANDS:
        _SUBCOMMANDS[arguments[0]].main(arguments[1:], prog_name=f"resque-sim {arguments[0]}")
    else:
        command()
