"""``--jobs MODULE`` (or ``RESQUE_JOBS=a,b``): import the modules that define the job classes a
process may run or enqueue, so they are registered before it starts; and :func:`require_extra`, for
commands whose dependencies come with an optional extra."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from resque_impl.job import register_module_jobs

__all__ = ["import_job_modules", "jobs_option", "require_extra"]

F = TypeVar("F", bound=Callable[..., Any])


def jobs_option(command: F) -> F:
    """The ``--jobs`` option, repeatable and comma-separable, read from ``RESQUE_JOBS`` too."""
    return click.option(
        "--jobs",
        "job_modules",
        multiple=True,
        envvar="RESQUE_JOBS",
        metavar="MODULE",
        help="Import MODULE (repeatable, or comma-separated) so its job classes are known [env: RESQUE_JOBS]",
    )(command)


def require_extra(module: str, extra: str) -> Any:
    """Import a module from an optional extra, or stop with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise click.ClickException(
            f"this command needs the {extra!r} extra ({error.name or module} is missing): "
            f"pip install 'resque-impl[{extra}]'"
        ) from None


def import_job_modules(values: Iterable[str]) -> list[str]:
    """Import each module named in ``values`` (items may hold several, comma-separated), from the
    current directory too, so their job classes register, plain ones (``queue`` and ``perform``, no
    base class) included: see :func:`resque_impl.job.register_module_jobs`. Returns the names
    imported. A module that fails to import, or whose plain job class clashes by name with another
    registered class, stops the command with an error naming it."""
    names = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if names and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            register_module_jobs(importlib.import_module(name))
        except Exception as error:  # an import error, or any error the module raised while loading
            raise click.ClickException(
                f"cannot import job module {name!r} (from --jobs): {type(error).__name__}: {error}"
            ) from None
    return names
