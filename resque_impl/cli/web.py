"""``web``: serve the dashboard with waitress, a production WSGI server.

Without credentials (``--auth`` or ``RESQUE_WEB_HTTP_BASIC_AUTH``) the dashboard binds to 127.0.0.1
only, and says so; binding elsewhere without credentials needs ``--insecure``. ``--schedule`` shows a
recurring schedule file on the Schedule page, as the scheduler reads it (``--env`` filters it alike);
``--jobs`` imports job classes, so entries without a queue find their class's, and "Run now" runs
their hooks. ``--recommend-wait`` sets the wait target of ``/metrics``' ``resque_recommended_workers``
estimate, as ``resque-impl metrics --recommend-wait`` does.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import click

from resque_impl.cli.app import ConfigurationProblem, Context, pass_context
from resque_impl.cli.job_modules import import_job_modules, jobs_option
from resque_impl.cli.recommend import recommend_wait_option
from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError, ResqueError

__all__ = ["web"]

AUTH_ENV = "RESQUE_WEB_HTTP_BASIC_AUTH"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _prefix(value: str) -> str:
    value = value.strip()
    if value in ("", "/"):
        return ""
    if not value.startswith("/") or "//" in value or "?" in value or "#" in value:
        raise click.BadParameter("give a path such as /resque")
    return value.rstrip("/")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5678, show_default=True, type=click.IntRange(0, 65535), help="Port.")
@click.option("--redis", "redis_url", envvar="REDIS_URL", help="Redis URL (overrides the group's --redis).")
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Key namespace (overrides the group's --namespace). Repeat to serve several, each under "
    "/ns/<namespace>/ with a switcher in the header.",
)
@click.option("--prefix", default="", help="Serve under this path, e.g. /resque (behind a proxy).")
@click.option("--auth", envvar=AUTH_ENV, help=f"user:password for HTTP basic auth [env: {AUTH_ENV}]")
@click.option("--insecure", is_flag=True, help="Allow listening beyond this machine without --auth.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Request threads.")
@click.option(
    "--schedule",
    "schedule_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="RESQUE_SCHEDULE",
    help="Show this recurring schedule YAML file [env: RESQUE_SCHEDULE]",
)
@click.option(
    "--env", "environment", envvar="RAILS_ENV", help="Show only schedule entries whose env lists this [env: RAILS_ENV]"
)
@recommend_wait_option
@jobs_option
@pass_context
def web(
    ctx: Context,
    host: str,
    port: int,
    redis_url: str | None,
    namespaces: tuple[str, ...],
    prefix: str,
    auth: str | None,
    insecure: bool,
    threads: int,
    schedule_path: Path | None,
    environment: str | None,
    wait_target: float,
    job_modules: tuple[str, ...],
) -> None:
    """Serve the web dashboard (resque-web's pages, JSON API, /metrics, /health)."""
    # Imported here, not at the top: the rest of the CLI works without the web extra installed.
    try:
        import waitress  # noqa: PLC0415
        from werkzeug.exceptions import NotFound  # noqa: PLC0415
        from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: PLC0415

        from resque_impl.scheduler import load_schedule_file  # noqa: PLC0415
        from resque_impl.web import Credentials, create_app  # noqa: PLC0415
        from resque_impl.web.namespaces import create_namespaced_app  # noqa: PLC0415
    except ImportError as error:
        raise click.ClickException(
            f"the dashboard needs the web extra: pip install 'resque-impl[web]' ({error})"
        ) from None
    if not auth and not _is_loopback(host) and not insecure:
        raise click.UsageError(
            f"refusing to serve on {host} without credentials: anyone who can reach it could change "
            f"your queues. Set --auth user:password (or {AUTH_ENV}), or pass --insecure."
        )
    path = _prefix(prefix)
    try:
        credentials = Credentials.parse(auth) if auth else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--auth") from None
    repeated = sorted({each for each in namespaces if namespaces.count(each) > 1})
    if repeated:
        raise click.UsageError(f"--namespace {repeated[0]!r} is given twice; give each namespace once")
    import_job_modules(job_modules)
    try:
        schedule = load_schedule_file(schedule_path, env=environment) if schedule_path else []
        resques = [Resque(redis_url or ctx.redis, namespace=each) for each in namespaces or [ctx.namespace]]
        resque = resques[0]
        if len(resques) > 1:
            app: Any = create_namespaced_app(resques, auth=credentials, schedule=schedule, recommend_wait=wait_target)
        else:
            app = create_app(resque, auth=credentials, schedule=schedule, recommend_wait=wait_target)
    except ConfigurationError as error:
        raise ConfigurationProblem(str(error)) from None
    except ResqueError as error:
        raise click.ClickException(str(error)) from None
    if credentials is None:
        scope = "this machine only" if _is_loopback(host) else "EVERYONE who can reach it (--insecure)"
        click.echo(f"No credentials set (--auth or {AUTH_ENV}): serving {scope}.", err=True)
    shown = ", ".join(each.namespace for each in resques)
    click.echo(f"Dashboard for {resque.store.description} ({shown}) on http://{host}:{port}{path}/", err=True)
    # Under a prefix, everything else is 404 (waitress's own url_prefix would serve it at / too).
    wsgi = DispatcherMiddleware(NotFound(), {path: app}) if path else app
    waitress.serve(wsgi, host=host, port=port, threads=threads, ident="resque-impl")
