"""Running a job's ``async def`` ``perform`` and hooks from the synchronous code that calls them.

:func:`settle` is applied to what ``perform`` and each ``before_perform``, ``after_perform`` and
``on_failure`` hook returns: a plain value passes through, an awaitable is awaited. Where it is awaited
is up to the caller's context: in a worker with ``--concurrency N`` on the worker's one event loop,
shared by its job slots (see :mod:`resque_impl.worker.slots`); anywhere else (a worker with one slot, a
forked child, the inline test mode) on a fresh loop with :func:`asyncio.run`, in another thread when
a loop already runs in this one (a synchronous ``enqueue`` from async code in inline mode): a job never
runs on the loop that enqueued it, as in production, so one relying on that loop fails in tests too.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import inspect
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["AwaitRunner", "awaited_by", "settle"]

#: Awaits an awaitable to its result from synchronous code.
AwaitRunner = Callable[[Awaitable[Any]], Any]

_runner: ContextVar[AwaitRunner | None] = ContextVar("resque_await_runner", default=None)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def settle(value: Any) -> Any:
    """``value``, or, when it is awaitable, what awaiting it returns (its exception propagates)."""
    if value is None or not inspect.isawaitable(value):  # None first: what most hooks return, checked cheaply
        return value
    runner = _runner.get()
    if runner is None:
        return _run_to_completion(value)
    return runner(value)


def _run_to_completion(awaitable: Awaitable[Any]) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    context = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="resque-await") as pool:
        return pool.submit(context.run, asyncio.run, _await(awaitable)).result()


@contextlib.contextmanager
def awaited_by(runner: AwaitRunner) -> Iterator[None]:
    """Within the block (in this thread's context), :func:`settle` awaits with ``runner``."""
    token = _runner.set(runner)
    try:
        yield
    finally:
        _runner.reset(token)
