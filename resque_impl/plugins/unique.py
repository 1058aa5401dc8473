"""Unique jobs: an enqueue is skipped while an identical job (same class and arguments) is queued or
running.

::

    class RebuildIndex(Unique, resque_impl.Job):
        queue = "index"
        unique_ttl = 3600        # seconds; a crashed worker cannot block the job for longer

A ``before_enqueue`` hook takes a key (``plugins:unique:<class>:<args digest>``) that expires after
``unique_ttl``; if it is taken, the enqueue is vetoed (``enqueue`` returns ``False``). The key is let
go when the job finishes, fails, or is dequeued. Enqueue paths that run no enqueue hooks
(``push``, a failure requeue, Ruby producers) are not deduplicated; delayed jobs are when the scheduler
enqueues them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from resque_impl.plugins.base import args_digest, resque_for

__all__ = ["Unique"]

_HELD = "queued"


class Unique:
    """Mixin for job classes: at most one identical job queued or running (see the module docstring)."""

    unique_ttl: ClassVar[float] = 3600.0

    @classmethod
    def unique_key(cls, *args: Any) -> str:
        """The key held while this job is queued or running."""
        resque = resque_for(cls)
        return resque.keys.unique_job(resque.registry.name_of(cls), args_digest(args))

    @classmethod
    def before_enqueue_unique(cls, *args: Any) -> bool:
        return resque_for(cls).store.lock_acquire(cls.unique_key(*args), _HELD, cls.unique_ttl)

    @classmethod
    def _release_unique(cls, args: tuple[Any, ...]) -> None:
        resque_for(cls).store.lock_release(cls.unique_key(*args), _HELD)

    @classmethod
    def after_perform_unique(cls, *args: Any) -> None:
        cls._release_unique(args)

    @classmethod
    def on_failure_unique(cls, error: BaseException, *args: Any) -> None:
        cls._release_unique(args)

    @classmethod
    def after_dequeue_unique(cls, *args: Any) -> None:
        cls._release_unique(args)
