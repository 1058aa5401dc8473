"""The process title, ``resque-<version>: <state>``, as Ruby Resque sets ``$0``.

Ruby workers prune same-host workers whose pid is not a process titled like a Resque worker, so a
Python worker next to Ruby ones must carry this title to stay registered. ``RESQUE_PROCLINE_PREFIX``
is put in front, as in Ruby. Without the ``setproctitle`` package the title cannot change; the worker
then works on, and says so once in its log.
"""

from __future__ import annotations

import functools
import logging
import os

from setproctitle import setproctitle

from resque_impl.version import __version__

__all__ = ["set_title", "title_for"]

logger = logging.getLogger("resque_impl.worker")


@functools.cache
def _prefix() -> str:
    return f"{os.environ.get('RESQUE_PROCLINE_PREFIX', '')}resque-{__version__}: "


def title_for(state: str) -> str:
    """``<RESQUE_PROCLINE_PREFIX>resque-<version>: <state>`` (the prefix variable is read once)."""
    return _prefix() + state


def set_title(state: str, *, log: bool = True) -> None:
    """Set this process's title to :func:`title_for` ``(state)``, and log it at debug level unless
    ``log`` is false (a forked child, where each page of the worker's memory it touches is copied).

    A state naming a job from a hostile payload may hold NUL or text UTF-8 cannot carry; those are
    written as escapes rather than failing.
    """
    title = title_for(state)
    if not title.isprintable():
        title = title.encode("utf-8", "backslashreplace").decode("utf-8").replace("\0", "\\x00")
    setproctitle(title)
    if log:
        logger.debug("%s", title)
