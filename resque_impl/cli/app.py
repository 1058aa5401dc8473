"""The ``resque-impl`` command group and the options every command shares."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import click

from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError, ResqueError
from resque_impl.version import __version__

__all__ = ["ConfigurationProblem", "Context", "main", "pass_context"]


class ConfigurationProblem(click.ClickException):
    """Bad configuration told in one line (``Error: ...``), with a usage error's exit status, 2."""

    exit_code = 2


@dataclass
class Context:
    """What the group options resolve to; commands build their :class:`Resque` from it."""

    redis: str | None
    namespace: str | None
    _resque: Resque | None = None
    enqueued_at: bool = False

    @property
    def resque(self) -> Resque:
        if self._resque is None:
            try:
                self._resque = Resque(self.redis, namespace=self.namespace, enqueued_at=self.enqueued_at)
            except ConfigurationError as error:
                raise click.UsageError(str(error)) from None
            except ResqueError as error:
                raise click.ClickException(str(error)) from None
        return self._resque


pass_context = click.make_pass_decorator(Context)


class _Group(click.Group):
    """Turns library errors into one-line messages: exit 2 for bad configuration (a malformed Redis URL,
    an unknown Sentinel service), exit 1 for the rest (an unreachable Redis, a bad payload)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigurationError as error:
            raise click.UsageError(str(error)) from None
        except ResqueError as error:
            raise click.ClickException(str(error)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--redis", envvar="REDIS_URL", help="Redis URL or host:port[:db][/namespace] [env: REDIS_URL]")
@click.option("--namespace", envvar="RESQUE_NAMESPACE", help="Key namespace (default: resque)")
@click.option(
    "--enqueued-at/--no-enqueued-at",
    envvar="RESQUE_ENQUEUED_AT",
    default=False,
    help="Stamp payloads with enqueued_at for queue-latency metrics [env: RESQUE_ENQUEUED_AT=1]",
)
@click.version_option(__version__, prog_name="resque-impl")
@click.pass_context
def main(ctx: click.Context, redis: str | None, namespace: str | None, enqueued_at: bool) -> None:
    """Ruby-Resque-compatible background jobs: workers, scheduler, dashboard and admin commands."""
    if ctx.obj is None:  # tests and embedding programs may pass a ready Context
        ctx.obj = Context(redis, namespace, enqueued_at=enqueued_at)
