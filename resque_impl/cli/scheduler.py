"""``scheduler``: run resque-scheduler's process (delayed jobs and recurring schedules)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.cli.job_modules import import_job_modules, jobs_option, require_extra
from resque_impl.default import configure
from resque_impl.delayed import DEFAULT_BATCH_SIZE

if TYPE_CHECKING:
    from resque_impl.scheduler import ScheduleEntry

# Defaults as in resque_impl.scheduler, which needs the "scheduler" extra and is imported only when
# the command runs (test_scheduler.py checks they agree).
DEFAULT_INTERVAL = 5.0
DEFAULT_LOCK_TIMEOUT = 180.0

__all__ = ["scheduler"]


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "t", "true", "on", "yes"}


@click.command()
@click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RESQUE_SCHEDULE",
    help="Recurring schedule YAML file [env: RESQUE_SCHEDULE]",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0, min_open=True),
    default=DEFAULT_INTERVAL,
    show_default=True,
    envvar="RESQUE_SCHEDULER_INTERVAL",
    help="Seconds between polls [env: RESQUE_SCHEDULER_INTERVAL]",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=DEFAULT_BATCH_SIZE,
    show_default=True,
    envvar="DELAYED_REQUEUE_BATCH_SIZE",
    help="Delayed jobs moved per atomic step [env: DELAYED_REQUEUE_BATCH_SIZE]",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=1),
    default=DEFAULT_LOCK_TIMEOUT,
    show_default=True,
    envvar="LOCK_TIMEOUT",
    help="Seconds the master lock outlives a silent master [env: LOCK_TIMEOUT]",
)
@click.option(
    "--lock-prefix",
    default="",
    envvar="RESQUE_SCHEDULER_MASTER_LOCK_PREFIX",
    help="resque-scheduler's master lock prefix [env: RESQUE_SCHEDULER_MASTER_LOCK_PREFIX]",
)
@click.option(
    "--dynamic/--no-dynamic",
    default=False,
    envvar="DYNAMIC_SCHEDULE",
    help="Also run the dynamic schedules kept in Redis (Resque.set_schedule) [env: DYNAMIC_SCHEDULE]",
)
@click.option(
    "--env", "environment", envvar="RAILS_ENV", help="Load only entries whose env lists this [env: RAILS_ENV]"
)
@jobs_option
@click.option("--once", is_flag=True, help="Poll once (move the delayed jobs that are due) and exit.")
@click.option("-v", "--verbose", is_flag=True, help="Log every move and tick.")
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors [env: QUIET]")
@pass_context
def scheduler(
    ctx: Context,
    schedule_path: Path | None,
    interval: float,
    batch_size: int,
    lock_timeout: float,
    lock_prefix: str,
    dynamic: bool,
    environment: str | None,
    job_modules: tuple[str, ...],
    once: bool,
    verbose: bool,
    quiet: bool,
) -> None:
    """Move due delayed jobs to their queues and enqueue recurring jobs, as resque-scheduler does.

    One process is master at a time (resque-scheduler's lock, shared with Ruby schedulers); run more
    for failover. TERM/INT/QUIT stop it, USR1 logs the schedule, USR2 reloads the schedule file.
    """
    quiet = quiet or _flag("QUIET")
    verbose = verbose or _flag("VERBOSE")
    level = logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO
    logging.basicConfig(
        level=level, stream=sys.stderr, format="resque-scheduler: [%(levelname)s] %(asctime)s: %(message)s"
    )
    scheduling = require_extra("resque_impl.scheduler", "scheduler")
    if schedule_path is not None:  # delayed jobs alone need no extra; a schedule file PyYAML and cronsim
        require_extra("yaml", "scheduler")
        require_extra("cronsim", "scheduler")
    import_job_modules(job_modules)

    def entries() -> list[ScheduleEntry]:
        if schedule_path is None:
            return []
        return scheduling.load_schedule_file(schedule_path, env=environment)  # type: ignore[no-any-return]

    resque = configure(ctx.resque)  # hooks and plugins run during moves use the process default
    lock = scheduling.MasterLock(resque.store, timeout=lock_timeout, prefix=lock_prefix)
    process = scheduling.Scheduler(
        resque, entries, interval=interval, batch_size=batch_size, lock=lock, dynamic=dynamic
    )
    if once:
        process.poll()
        process.lock.release()
        return
    process.run()
