"""Where a scenario's runs go: this machine's processes (``local``) or a ``dask.distributed`` cluster.

What a caller needs::

    executor = parse_executor("dask://scheduler:8786")      # or "local"; ExecutorError if malformed
    outcomes = run_on_dask(executor, function, tasks, progress)   # results in the order of tasks

Every run is a pure function of its scenario and seed, so where it runs does not change its result: a
point run on a dask worker gives byte for byte what the same point gives here.  The dask workers need
the same ``resque-impl[sim]`` installed (the tasks are sent by reference to this package's functions).

dask is imported only when a dask executor is used, so ``local`` runs need no dask installed.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "Executor", "ExecutorError", "parse_executor", "run_on_dask"]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the scheduler to answer, and for it to have a worker, before giving up."""

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(RuntimeError):
    """The executor cannot be used as asked: a malformed URL, dask not installed, or a scheduler that does
    not answer (or has no workers) within the connect timeout."""


@dataclass(frozen=True)
class Executor:
    """``local`` (this machine's processes), or ``dask`` with the scheduler's ``address``
    (``tcp://host:port``) and how long to wait for it (``timeout``, seconds)."""

    kind: str = "local"
    address: str | None = None
    timeout: float = DEFAULT_CONNECT_TIMEOUT


_USAGE = "use local or dask://HOST:PORT (optionally ?timeout=SECONDS)"


def parse_executor(text: str) -> Executor:
    """``local``, or ``dask://HOST:PORT[?timeout=SECONDS]``; raises :class:`ExecutorError` otherwise."""
    if text.strip() == "local":
        return Executor()
    parts = urlsplit(text.strip())
    if parts.scheme != "dask":
        raise ExecutorError(f"executor {text!r}: unknown kind; {_USAGE}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as error:  # a port that is not a number, or out of range
        raise ExecutorError(f"executor {text!r}: {error}; {_USAGE}") from None
    if not host or port is None or parts.path not in ("", "/") or parts.username or parts.password:
        raise ExecutorError(f"executor {text!r}: needs a host and a port and nothing else; {_USAGE}")
    query = parse_qs(parts.query, keep_blank_values=True)
    timeout = DEFAULT_CONNECT_TIMEOUT
    if set(query) - {"timeout"} or len(query.get("timeout", [""])) != 1:
        raise ExecutorError(f"executor {text!r}: the only option is timeout=SECONDS; {_USAGE}")
    if "timeout" in query:
        try:
            timeout = float(query["timeout"][0])
        except ValueError:
            timeout = -1.0
        if not 0 < timeout < float("inf"):
            raise ExecutorError(f"executor {text!r}: timeout must be a positive number of seconds")
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return Executor("dask", f"tcp://{netloc}", timeout)


def run_on_dask(
    executor: Executor,
    function: Callable[[T], R],
    tasks: Sequence[T],
    progress: Callable[[float], None] | None = None,
) -> list[R]:
    """``[function(task) for task in tasks]``, each call a task on the dask cluster at
    ``executor.address``; ``progress`` hears the fraction of tasks done as they finish.

    Raises :class:`ExecutorError` when dask is not installed, when the scheduler does not answer, or has
    no worker, within ``executor.timeout`` seconds, or when the cluster goes away mid-run; an exception
    raised by a task is raised here.
    """
    try:
        # optional, and only dask runs need it; Any, since distributed's API is untyped
        distributed: Any = importlib.import_module("distributed")
    except ModuleNotFoundError:
        raise ExecutorError("the dask executor needs the 'dask' extra: pip install 'resque-impl[dask]'") from None
    assert executor.address is not None
    try:
        client: Any = distributed.Client(executor.address, timeout=executor.timeout, set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise ExecutorError(f"cannot reach the dask scheduler at {executor.address}: {error}") from None
    with client:
        try:
            client.wait_for_workers(1, timeout=executor.timeout)
        except (OSError, TimeoutError):
            raise ExecutorError(
                f"the dask scheduler at {executor.address} has no worker (waited {executor.timeout:g} s)"
            ) from None
        # pure=False: two equal tasks (none here, but a caller may send some) are still two runs
        futures = client.map(function, tasks, pure=False)
        try:
            for done, _ in enumerate(distributed.as_completed(futures, loop=client.loop), start=1):
                if progress is not None:
                    progress(done / len(futures))
            results: list[R] = client.gather(futures)
        except (OSError, TimeoutError, asyncio.CancelledError) as error:  # the cluster went away mid-run
            raise ExecutorError(f"lost the dask cluster at {executor.address}: {error!r}") from None
    return results
