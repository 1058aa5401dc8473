"""``--recommend-wait``, shared by ``resque-impl metrics`` and ``resque-impl web``: the wait target of
``resque_recommended_workers``' Erlang-C estimate on ``/metrics``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

from resque_impl.durations import parse_duration
from resque_impl.errors import ScheduleError
from resque_impl.job_metrics.capacity import WAIT_TARGET

__all__ = ["RECOMMEND_WAIT_ENV", "recommend_wait_option"]

#: The environment variable ``--recommend-wait`` falls back to.
RECOMMEND_WAIT_ENV = "RESQUE_RECOMMEND_WAIT"

F = TypeVar("F", bound=Callable[..., object])


def _wait_target(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    try:
        return parse_duration(value, "--recommend-wait")
    except ScheduleError as error:
        raise click.BadParameter(str(error), param_hint="--recommend-wait") from None


def recommend_wait_option(command: F) -> F:
    """Adds ``--recommend-wait DURATION`` (seconds, or ``500ms``/``2s``), passed as ``wait_target``."""
    return click.option(
        "--recommend-wait",
        "wait_target",
        default=f"{WAIT_TARGET:g}s",
        show_default=True,
        envvar=RECOMMEND_WAIT_ENV,
        callback=_wait_target,
        help="resque_recommended_workers' Erlang-C estimate on /metrics keeps 95 % of each queue's jobs "
        f"waiting under this (seconds, or e.g. 500ms, 2s) [env: {RECOMMEND_WAIT_ENV}].",
    )(command)
