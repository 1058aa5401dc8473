"""``mark-deploy``: record a deploy marker (see :mod:`resque_impl.job_metrics.deploys`)."""

from __future__ import annotations

import time

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.job_metrics import mark_deploy

__all__ = ["mark_deploy_command"]


@click.command("mark-deploy")
@click.argument("label")
@pass_context
def mark_deploy_command(ctx: Context, label: str) -> None:
    """Record that LABEL (a version, a commit) was deployed now, for the dashboard's charts and for
    resque-sim plan --since-deploy (which fits only what ran after the last deploy)."""
    if not label.strip():
        raise click.BadParameter("must not be empty", param_hint="LABEL")
    deploy = mark_deploy(ctx.resque.store, label)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(deploy.at))
    click.echo(f"marked deploy {deploy.label!r} at {stamp}")
