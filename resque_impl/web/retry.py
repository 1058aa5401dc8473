"""Reads that survive a dropped connection: a request that meets one runs again on a fresh connection.

A connection closed by the server (``CLIENT KILL``, a proxy's idle timeout, a failover) is not an
outage: the next attempt takes a new connection and answers. A server that is really down refuses the
new connection at once, so an outage is still reported promptly (503, "Redis is unreachable").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from resque_impl.errors import ResqueConnectionError

__all__ = ["READ_RETRIES", "retrying"]

#: Times a read runs again after Redis dropped its connection.
READ_RETRIES = 2

P = ParamSpec("P")
T = TypeVar("T")


def retrying(read: Callable[P, T]) -> Callable[P, T]:
    """``read``, run up to :data:`READ_RETRIES` more times while it raises
    :class:`~resque_impl.errors.ResqueConnectionError`. Only for reads: a change must not run twice."""

    @functools.wraps(read)
    def again(*args: P.args, **kwargs: P.kwargs) -> T:
        for _ in range(READ_RETRIES):
            try:
                return read(*args, **kwargs)
            except ResqueConnectionError:
                continue
        return read(*args, **kwargs)

    return again
