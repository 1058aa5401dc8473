"""``resque-impl work``: run a worker (or ``--count N`` of them) with Ruby Resque's flags and variables.

Every option also reads Ruby Resque's environment variable, so an existing Procfile or systemd unit
works unchanged: QUEUE/QUEUES, INTERVAL (0 = burst), COUNT, PIDFILE, BACKGROUND, VERBOSE/VVERBOSE,
FORK_PER_JOB, TERM_CHILD, RESQUE_TERM_TIMEOUT, RESQUE_PRE_SHUTDOWN_TIMEOUT, GRACEFUL_TERM, REDIS_URL
(see :mod:`resque_impl.worker.options` for the rest). Command-line flags win over variables.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.cli.job_modules import import_job_modules
from resque_impl.client import Resque
from resque_impl.default import configure
from resque_impl.errors import ConfigurationError
from resque_impl.worker import Worker, WorkerOptions, supervise
from resque_impl.worker.logs import configure_logging
from resque_impl.worker.options import env_flag

__all__ = ["work"]


def _daemonize() -> None:
    """Detach like Ruby's ``Process.daemon(true)``: new session, stdio to /dev/null, directory kept."""
    if os.fork():
        os._exit(0)
    os.setsid()
    if os.fork():
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


@contextlib.contextmanager
def _pidfile(path: str | None) -> Iterator[None]:
    if not path:
        yield
        return
    target = Path(path)
    target.write_text(f"{os.getpid()}\n")
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            if target.read_text().strip() == str(os.getpid()):
                target.unlink()


def _verbosity(flag_count: int) -> int:
    if flag_count:
        return flag_count
    if env_flag(os.environ.get("VVERBOSE")):
        return 2
    if env_flag(os.environ.get("VERBOSE")) or env_flag(os.environ.get("LOGGING")):
        return 1
    return 0


@click.command()
@click.option("-q", "--queues", envvar=["QUEUES", "QUEUE"], help="Queues in priority order, e.g. high,low or '*'.")
@click.option("--interval", type=float, help="Seconds between polls when idle; 0 = burst. [env: INTERVAL]")
@click.option(
    "--jobs", "job_modules", multiple=True, envvar="RESQUE_JOBS", help="Module(s) defining job classes to import."
)
@click.option("--redis", help="Redis URL (overrides the group option and REDIS_URL).")
@click.option("--namespace", help="Key namespace (default: resque).")
@click.option("--fork/--no-fork", "fork", default=None, help="Fork a child per job (default). [env: FORK_PER_JOB]")
@click.option("--reliable/--no-reliable", default=None, help="Reliable fetch (default) or Ruby's plain LPOP.")
@click.option("--burst", is_flag=True, default=None, help="Drain the queues, then exit 0.")
@click.option("--count", type=click.IntRange(min=1), envvar="COUNT", default=1, help="Run N workers, supervised.")
@click.option("--pidfile", envvar="PIDFILE", help="Write the process id here.")
@click.option("--background", is_flag=True, envvar="BACKGROUND", help="Detach from the terminal (daemonize).")
@click.option("-v", "--verbose", count=True, help="-v info (VERBOSE), -vv debug (VVERBOSE).")
@click.option(
    "--log-format", type=click.Choice(["text", "json"]), envvar="RESQUE_LOG_FORMAT", default="text", show_default=True
)
@click.option("--job-timeout", type=float, help="Kill a job running longer (seconds). [env: RESQUE_JOB_TIMEOUT]")
@click.option("--max-jobs", type=click.IntRange(min=1), help="Exit 0 after N jobs. [env: RESQUE_MAX_JOBS]")
@click.option("--max-memory", type=float, help="Exit 0 after a job once RSS exceeds MB. [env: RESQUE_MAX_MEMORY]")
@click.option("--heartbeat-interval", type=float, help="Seconds between heartbeats (60).")
@click.option(
    "--job-metrics/--no-job-metrics",
    default=None,
    help="Record per-class job metrics for the dashboard (default). [env: RESQUE_JOB_METRICS]",
)
@pass_context
def work(
    ctx: Context,
    queues: str | None,
    interval: float | None,
    job_modules: tuple[str, ...],
    redis: str | None,
    namespace: str | None,
    fork: bool | None,
    reliable: bool | None,
    burst: bool | None,
    count: int,
    pidfile: str | None,
    background: bool,
    verbose: int,
    log_format: str,
    job_timeout: float | None,
    max_jobs: int | None,
    max_memory: float | None,
    heartbeat_interval: float | None,
    job_metrics: bool | None,
) -> None:
    """Work jobs from QUEUES until TERM/INT (now) or QUIT (after the current job).

    USR1 kills the current job's child, USR2 pauses, CONT resumes.
    """
    if not queues:
        raise click.UsageError("give the queues to work: --queues high,low (or QUEUES=high,low, or '*')")
    configure_logging(_verbosity(verbose), log_format)
    import_job_modules(job_modules)
    try:
        options = WorkerOptions.from_env(os.environ).replace(
            interval=interval,
            fork_per_job=fork,
            reliable=reliable,
            burst=burst or None,
            job_timeout=job_timeout,
            max_jobs=max_jobs,
            max_memory_mb=max_memory,
            heartbeat_interval=heartbeat_interval,
            job_metrics=job_metrics,
        )
        if interval == 0:
            options = options.replace(burst=True)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    if background or env_flag(os.environ.get("BACKGROUND")):
        _daemonize()

    def make_resque() -> Resque:
        if redis or namespace:
            return Resque(redis or ctx.redis, namespace=namespace or ctx.namespace)
        return ctx.resque

    def run_one(slot: int = 0) -> int:
        resque = configure(make_resque())  # job hooks and plugins use the process default
        return Worker(queues, resque=resque, options=options).work()

    with _pidfile(pidfile):
        code = run_one() if count == 1 else supervise(count, run_one, burst=options.burst)
    sys.exit(code)
