"""``enqueue``, ``queues`` and ``info``: producing and looking at queues from a shell."""

from __future__ import annotations

import json
from typing import Any

import click

from resque_impl.cli.app import Context, pass_context

__all__ = ["enqueue", "info", "queues"]


def _argument(text: str) -> Any:
    """A JSON value if ``text`` parses as one (``42``, ``'{"a":1}'``), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@click.command()
@click.argument("queue")
@click.argument("job_class", metavar="CLASS")
@click.argument("args", nargs=-1)
@pass_context
def enqueue(ctx: Context, queue: str, job_class: str, args: tuple[str, ...]) -> None:
    """Push a job: each ARG is read as JSON if it parses (42, true, '{"a":1}'), else as a string.

    CLASS is the payload class name, e.g. EmailJob or Admin::EmailJob; no enqueue hooks run.
    """
    values = [_argument(arg) for arg in args]
    ctx.resque.enqueue_to(queue, job_class, *values)
    click.echo(f"enqueued {job_class}{tuple(values)!r} on {queue}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def queues(ctx: Context, as_json: bool) -> None:
    """List queues with the number of jobs waiting in each."""
    sizes = ctx.resque.store.queue_sizes(ctx.resque.queues())
    if as_json:
        click.echo(json.dumps(sizes, indent=2))
        return
    if not sizes:
        click.echo("no queues")
        return
    width = max(len(name) for name in sizes)
    for name, size in sizes.items():
        click.echo(f"{name:<{width}}  {size:>10,}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_context
def info(ctx: Context, as_json: bool) -> None:
    """Show Resque.info: pending, processed, queues, workers, working, failed, servers, environment."""
    data = ctx.resque.info()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        shown = ", ".join(value) if isinstance(value, list) else value
        click.echo(f"{key:<12} {shown}")
