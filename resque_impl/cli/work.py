"""``resque-impl work``: run a worker (or ``--count N`` of them) with Ruby Resque's flags and variables.

Every option also reads Ruby Resque's environment variable, so an existing Procfile or systemd unit
works unchanged: QUEUE/QUEUES, INTERVAL (0 = burst), COUNT, PIDFILE, BACKGROUND, VERBOSE/VVERBOSE,
FORK_PER_JOB, TERM_CHILD, RESQUE_TERM_TIMEOUT, RESQUE_PRE_SHUTDOWN_TIMEOUT, GRACEFUL_TERM, REDIS_URL
(see :mod:`resque_impl.worker.options` for the rest). Command-line flags win over variables.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.cli.job_modules import import_job_modules
from resque_impl.cli.statsd import attach_statsd_events, statsd_address
from resque_impl.client import Resque
from resque_impl.default import configure
from resque_impl.errors import ConfigurationError
from resque_impl.worker import Worker, WorkerOptions, supervise
from resque_impl.worker.concurrency import work_concurrently, work_namespaces
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


def _check_namespaces(namespaces: tuple[str, ...], fork: bool | None) -> None:
    """Refuse ``--namespace`` lists that cannot work (exit 2)."""
    repeated = sorted({namespace for namespace in namespaces if namespaces.count(namespace) > 1})
    if repeated:
        raise click.UsageError(
            f"--namespace {repeated[0]!r} is given twice; each namespace gets its own slots once "
            "(use --concurrency for more slots in it)"
        )
    if len(namespaces) > 1 and (fork or (fork is None and env_flag(os.environ.get("FORK_PER_JOB")))):
        raise click.UsageError(
            f"{len(namespaces)} namespaces run their jobs in threads of one process (a slot each, or "
            "--concurrency each) and cannot fork a child per job; drop --fork / FORK_PER_JOB (or pass "
            "--no-fork), or run one worker per namespace"
        )


@click.command()
@click.option("-q", "--queues", envvar=["QUEUES", "QUEUE"], help="Queues in priority order, e.g. high,low or '*'.")
@click.option("--interval", type=float, help="Seconds between polls when idle; 0 = burst. [env: INTERVAL]")
@click.option(
    "--jobs", "job_modules", multiple=True, envvar="RESQUE_JOBS", help="Module(s) defining job classes to import."
)
@click.option("--redis", help="Redis URL (overrides the group option and REDIS_URL).")
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Key namespace (default: resque). Repeat to serve several, each with its own --concurrency slots.",
)
@click.option("--fork/--no-fork", "fork", default=None, help="Fork a child per job (default). [env: FORK_PER_JOB]")
@click.option(
    "--prefork/--no-prefork",
    default=None,
    help="Have a fork server fork the children, each ahead of its job (default; not with before_fork hooks). "
    "[env: RESQUE_PREFORK]",
)
@click.option("--reliable/--no-reliable", default=None, help="Reliable fetch (default) or Ruby's plain LPOP.")
@click.option("--burst", is_flag=True, default=None, help="Drain the queues, then exit 0.")
@click.option("--count", type=click.IntRange(min=1), envvar="COUNT", default=1, help="Run N workers, supervised.")
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    envvar="RESQUE_CONCURRENCY",
    default=1,
    show_default=True,
    help="Job slots per worker process: threads, and one event loop for async jobs; above 1, jobs are "
    "not forked. [env: RESQUE_CONCURRENCY]",
)
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
@click.option(
    "--statsd",
    "statsd_target",
    metavar="HOST:PORT",
    envvar="RESQUE_STATSD",
    help="Send per-job statsd counters and timers here. [env: RESQUE_STATSD]",
)
@click.option("--statsd-prefix", envvar="RESQUE_STATSD_PREFIX", default="resque", show_default=True)
@pass_context
def work(
    ctx: Context,
    queues: str | None,
    interval: float | None,
    job_modules: tuple[str, ...],
    redis: str | None,
    namespaces: tuple[str, ...],
    fork: bool | None,
    prefork: bool | None,
    reliable: bool | None,
    burst: bool | None,
    count: int,
    concurrency: int,
    pidfile: str | None,
    background: bool,
    verbose: int,
    log_format: str,
    job_timeout: float | None,
    max_jobs: int | None,
    max_memory: float | None,
    heartbeat_interval: float | None,
    job_metrics: bool | None,
    statsd_target: str | None,
    statsd_prefix: str,
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
            prefork=prefork,
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
    if concurrency > 1 and (fork or (fork is None and env_flag(os.environ.get("FORK_PER_JOB")))):
        raise click.UsageError(
            f"--concurrency {concurrency} runs jobs in threads of one process and cannot fork a child per job; "
            "drop --fork / FORK_PER_JOB (or pass --no-fork), or use --count for one process per job"
        )
    statsd = statsd_address(statsd_target) if statsd_target else None
    _check_namespaces(namespaces, fork)
    if background or env_flag(os.environ.get("BACKGROUND")):
        _daemonize()

    def make_resque(namespace: str | None) -> Resque:
        if redis or namespace:
            return Resque(redis or ctx.redis, namespace=namespace or ctx.namespace)
        return ctx.resque

    def run_one(slot: int = 0) -> int:
        if len(namespaces) > 1:
            resques = [make_resque(namespace) for namespace in namespaces]
            configure(resques[0])  # each slot's thread has its own namespace's as the default
            if statsd is not None:
                for each in resques:
                    attach_statsd_events(each, statsd, statsd_prefix)
            makers = [functools.partial(Worker, queues, resque=each, options=options) for each in resques]
            return work_namespaces(makers, options, concurrency)
        resque = configure(make_resque(namespaces[0] if namespaces else None))  # hooks, plugins use it
        if statsd is not None:
            attach_statsd_events(resque, statsd, statsd_prefix)
        if concurrency > 1:
            return work_concurrently(lambda: Worker(queues, resque=resque, options=options), options, concurrency)
        return Worker(queues, resque=resque, options=options).work()

    with _pidfile(pidfile):
        code = run_one() if count == 1 else supervise(count, run_one, burst=options.burst)
    sys.exit(code)
