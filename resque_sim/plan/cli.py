"""``resque-sim plan REDIS_URL --out DIR``: size a fleet from what the workers recorded.

::

    resque-sim plan REDIS_URL --out DIR [--window 7d] [--slo 'wait.p95<2s' ...] [--growth 1.5]
                    [--since-deploy] [--interval 5s|instant] [--fork/--no-fork] [--duration D]
                    [--publish] [--processes N] [--no-charts] [--quiet]

Exit status: 0 with a recommendation for every pool (and, with several, one their combined fleet
holds), 3 when no swept fleet meets the SLO, 2 for bad options, a Redis
that cannot be reached, or one where nothing was recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import redis

from resque_impl.connection import connect
from resque_impl.errors import ResqueError
from resque_impl.keys import DEFAULT_NAMESPACE, Keys
from resque_impl.store import Store
from resque_sim.plan.build import DEFAULT_SLO, PlanSettings
from resque_sim.plan.observed import NothingRecordedError
from resque_sim.plan.publish import publish_plan
from resque_sim.plan.report import answer_lines, write_report
from resque_sim.plan.run import make_plan
from resque_sim.plan.slo_text import SloTextError, parse_slo
from resque_sim.scenario import ScenarioError, parse_duration

__all__ = ["plan_command"]

EXIT_OK, EXIT_BAD_INPUT, EXIT_NO_FLEET = 0, 2, 3


def _fail(message: str) -> None:
    click.echo(f"resque-sim plan: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


@click.command("plan")
@click.argument("redis_url")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory for the outputs.")
@click.option("--window", default="7d", show_default=True, help="How far back to read (e.g. 6h, 7d).")
@click.option("--slo", "slos", multiple=True, help=f"Compact SLO, repeatable [default: {DEFAULT_SLO}].")
@click.option("--growth", type=click.FloatRange(min=0, min_open=True), default=1.5, show_default=True,
              help="Size for the peak seen times this.")  # fmt: skip
@click.option("--since-deploy", is_flag=True, help="Fit only what ran after the last deploy marker.")
@click.option("--interval", default="5s", show_default=True, help="The workers' polling interval, or instant.")
@click.option("--fork/--no-fork", "fork", default=True, show_default=True, help="Do the workers fork per job?")
@click.option("--duration", "duration_text", help="Simulated time per sweep point [enough for 20,000 jobs].")
@click.option("--publish", is_flag=True, help="Store the recommendation in Redis for recommended_workers on /metrics.")
@click.option("--processes", type=click.IntRange(min=1), help="Parallel processes for the sweep [CPUs].")
@click.option("--no-charts", is_flag=True, help="Skip the PNG charts.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
def plan_command(
    redis_url: str,
    out_dir: str,
    window: str,
    slos: tuple[str, ...],
    growth: float,
    since_deploy: bool,
    interval: str,
    fork: bool,
    duration_text: str | None,
    publish: bool,
    processes: int | None,
    no_charts: bool,
    quiet: bool,
) -> None:
    """Fit a scenario (OUT/plan.yaml) to what this library's workers recorded in REDIS_URL, sweep each
    deployed pool's size, and say what today's fleet holds, the peak seen, and the smallest fleet
    meeting the SLO at that peak times --growth (OUT/report.html, OUT/summary.json)."""
    try:
        window_seconds = parse_duration(window)
        duration = parse_duration(duration_text) if duration_text is not None else None
        if interval != "instant":
            parse_duration(interval)
        entries = tuple(parse_slo(text) for text in (slos or (DEFAULT_SLO,)))
    except (ValueError, SloTextError) as error:
        _fail(str(error))
    if window_seconds <= 0:
        _fail("--window must be positive")
    settings = PlanSettings(growth=growth, slo=entries, interval=interval, fork_per_job=fork, duration=duration)
    try:
        connection = connect(redis_url)
        store = Store(connection.client, Keys(connection.namespace or DEFAULT_NAMESPACE), connection.description)
        store.client.ping()
    except (ResqueError, redis.RedisError) as error:
        _fail(f"cannot reach Redis at {redis_url} ({error}); start it or fix the URL")
    out = Path(out_dir)
    try:
        outcome = make_plan(
            store, out, window=window_seconds, settings=settings, since_deploy=since_deploy,
            processes=processes, charts=not no_charts,
        )  # fmt: skip
        write_report(out, outcome.summary)
        if publish and outcome.found:
            publish_plan(store, outcome.summary)
    except NothingRecordedError as error:
        _fail(str(error))
    except ScenarioError as error:
        _fail(f"the fitted scenario does not load: {error}")
    finally:
        store.client.close()
    if not quiet:
        for line in answer_lines(outcome.summary):
            click.echo(line)
        click.echo(f"wrote {out / 'plan.yaml'}, {out / 'report.html'}, {out / 'summary.json'}")
    sys.exit(EXIT_OK if outcome.found else EXIT_NO_FLEET)
