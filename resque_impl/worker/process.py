"""Which process is the worker, as seen from the code of a job.

A job's child is not always the worker's own child (a fork server forks most of them: see
:mod:`resque_impl.worker.forkserver`), so ``os.getppid()`` in a job does not name its worker;
:func:`worker_pid` does.
"""

from __future__ import annotations

import os

__all__ = ["note_worker_process", "worker_pid"]

_worker_pid: int | None = None


def note_worker_process() -> None:
    """Called by a work loop as it starts: this process is a worker, and every process it forks (its
    fork server's children too) runs its jobs."""
    global _worker_pid  # noqa: PLW0603 - one value per process, inherited by its forks
    _worker_pid = os.getpid()


def worker_pid() -> int:
    """The pid of the worker whose job runs in this process: the worker's own in a job's child, this
    process's in a worker that does not fork (or outside any worker)."""
    return _worker_pid if _worker_pid is not None else os.getpid()
