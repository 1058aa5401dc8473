"""``failed``: list, requeue, remove and clear failure records.

Records are addressed by the stable id that ``failed list`` prints (``<list>:<index>:<digest>``), so a
record that moved or vanished since it was listed is never mistaken for another.
"""

from __future__ import annotations

import itertools
import json

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.failure import FailureRecord

__all__ = ["failed"]


@click.group()
def failed() -> None:
    """Inspect and act on failed jobs."""


def _summary(record: FailureRecord) -> str:
    error = (record.error or "").splitlines()[0] if record.error else ""
    retried = f"  (retried {record.retried_at})" if record.retried_at else ""
    return (
        f"{record.id}  {record.failed_at}  {record.queue}  {record.class_name}{tuple(record.args)!r}\n"
        f"    {record.exception}: {error}{retried}"
    )


@failed.command("list")
@click.option("--queue", help="Only jobs that failed on this queue.")
@click.option("--class", "class_name", help="Only jobs of this payload class.")
@click.option("--offset", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1, max=10_000))
@click.option("--json", "as_json", is_flag=True, help="Print the records as JSON lines.")
@pass_context
def list_failed(
    ctx: Context, queue: str | None, class_name: str | None, offset: int, limit: int, as_json: bool
) -> None:
    """List failure records, newest first."""
    # Paged here over the matching records: a backend's each() may window before filtering (Ruby's
    # redis_multi_queue does), which would page oldest records first and pages short of --limit.
    matching = ctx.resque.failures.each(queue=queue, class_name=class_name)
    records = list(itertools.islice(matching, offset, offset + limit))
    for record in records:
        click.echo(json.dumps({"id": record.id, **record.data}) if as_json else _summary(record))
    if not records and not as_json:
        click.echo("no failed jobs")


@failed.command()
@click.argument("ids", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Requeue every failure record.")
@click.option("--queue", help="Requeue every record of jobs from this queue.")
@click.option("--remove", is_flag=True, help="Delete each record once its job is back on its queue.")
@pass_context
def requeue(ctx: Context, ids: tuple[str, ...], every: bool, queue: str | None, remove: bool) -> None:
    """Put failed jobs back on their queues (by ID, --queue or --all)."""
    failures = ctx.resque.failures
    if sum(map(bool, (ids, every, queue))) != 1:
        raise click.UsageError("give record IDs, or --queue QUEUE, or --all")
    if ids:
        for record_id in ids:
            (failures.retry_and_remove if remove else failures.requeue)(record_id)
        count = len(ids)
    else:
        records = list(failures.each(queue=queue, newest_first=False))
        for record in records:
            (failures.retry_and_remove if remove else failures.requeue)(record)
        count = len(records)
    click.echo(f"requeued {count} job(s)" + (" and removed their records" if remove else ""))


@failed.command()
@click.argument("ids", nargs=-1)
@click.option("--queue", help="Remove every record of jobs from this queue.")
@pass_context
def remove(ctx: Context, ids: tuple[str, ...], queue: str | None) -> None:
    """Delete failure records (by ID or --queue)."""
    if bool(ids) == bool(queue):
        raise click.UsageError("give record IDs or --queue QUEUE")
    if queue:
        count = ctx.resque.failures.remove_queue(queue)
    else:
        for record_id in ids:
            ctx.resque.failures.remove(record_id)
        count = len(ids)
    click.echo(f"removed {count} record(s)")


@failed.command()
@click.option("--retried", is_flag=True, help="Only records that were already requeued.")
@click.confirmation_option(prompt="Delete failure records?")
@pass_context
def clear(ctx: Context, retried: bool) -> None:
    """Delete every failure record (or only the requeued ones)."""
    if retried:
        click.echo(f"removed {ctx.resque.failures.clear_retried()} requeued record(s)")
    else:
        ctx.resque.failures.clear()
        click.echo("cleared the failed list")
