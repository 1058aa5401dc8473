"""Resque-style global use: ``resque_impl.configure(...)`` once, then module-level calls.

::

    import resque_impl as resque
    resque.configure("redis://localhost:6379/0")
    resque.enqueue(EmailJob, 42, "hi")

Until :func:`configure` is called, the first module-level call builds a default :class:`Resque` from
``$REDIS_URL`` (or ``redis://localhost:6379/0``). Nothing connects at import time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from resque_impl.client import JobClass, Resque
from resque_impl.delayed import When
from resque_impl.job import QueuedJob

__all__ = [
    "configure",
    "current",
    "dequeue",
    "enqueue",
    "enqueue_at",
    "enqueue_in",
    "enqueue_many",
    "enqueue_to",
    "info",
    "peek",
    "queues",
    "remove_delayed",
    "remove_queue",
    "scoped",
    "size",
]

_lock = threading.Lock()
_current: Resque | None = None
_scoped: ContextVar[Resque | None] = ContextVar("resque_impl_scoped_default", default=None)


def configure(redis: Any = None, **options: Any) -> Resque:
    """Replace the default instance with ``Resque(redis, **options)`` and return it."""
    global _current  # noqa: PLW0603 - the one process-wide default, as in Ruby Resque
    instance = redis if isinstance(redis, Resque) else Resque(redis, **options)
    with _lock:
        _current = instance
    return instance


@contextmanager
def scoped(instance: Resque) -> Iterator[Resque]:
    """Make ``instance`` the default in this thread, and the coroutines it starts, for the block: how a
    worker serving several namespaces gives each job slot's jobs their own namespace."""
    token = _scoped.set(instance)
    try:
        yield instance
    finally:
        _scoped.reset(token)


def current() -> Resque:
    """The default instance: :func:`scoped`'s in its block, else the configured one, else one created
    from the environment on first use."""
    global _current  # noqa: PLW0603
    in_scope = _scoped.get()
    if in_scope is not None:
        return in_scope
    with _lock:
        if _current is None:
            _current = Resque()
        return _current


def enqueue(job_class: JobClass, *args: Any) -> bool:
    """:meth:`Resque.enqueue` on the default instance."""
    return current().enqueue(job_class, *args)


def enqueue_to(queue: str, job_class: JobClass, *args: Any) -> bool:
    """:meth:`Resque.enqueue_to` on the default instance."""
    return current().enqueue_to(queue, job_class, *args)


def enqueue_many(job_class: JobClass, args_list: Iterable[Sequence[Any]], *, queue: str | None = None) -> int:
    """:meth:`Resque.enqueue_many` on the default instance."""
    return current().enqueue_many(job_class, args_list, queue=queue)


def enqueue_at(when: When, job_class: JobClass, *args: Any) -> bool:
    """:meth:`Resque.enqueue_at` on the default instance."""
    return current().enqueue_at(when, job_class, *args)


def enqueue_in(delay: timedelta | float | int, job_class: JobClass, *args: Any) -> bool:
    """:meth:`Resque.enqueue_in` on the default instance."""
    return current().enqueue_in(delay, job_class, *args)


def remove_delayed(job_class: JobClass, *args: Any) -> int:
    """:meth:`Resque.remove_delayed` on the default instance."""
    return current().remove_delayed(job_class, *args)


def dequeue(job_class: JobClass, *args: Any) -> int | None:
    """:meth:`Resque.dequeue` on the default instance."""
    return current().dequeue(job_class, *args)


def size(queue: str) -> int:
    """:meth:`Resque.size` on the default instance."""
    return current().size(queue)


def peek(queue: str, start: int = 0, count: int = 1) -> list[QueuedJob]:
    """:meth:`Resque.peek` on the default instance."""
    return current().peek(queue, start, count)


def queues() -> list[str]:
    """:meth:`Resque.queues` on the default instance."""
    return current().queues()


def remove_queue(queue: str) -> None:
    """:meth:`Resque.remove_queue` on the default instance."""
    current().remove_queue(queue)


def info() -> dict[str, Any]:
    """:meth:`Resque.info` on the default instance."""
    return current().info()
