"""Worker hooks: functions the worker calls at points of its life, like Ruby's ``Resque.before_fork``.

=====================  ==========================  ===============================================
hook                   called with                 when
=====================  ==========================  ===============================================
``before_first_fork``  ``(worker)``                at startup, before registering; once per Worker
``before_fork``        ``(worker, job)``           in the parent, before forking for ``job``
``after_fork``         ``(worker, job)``           in the child, before performing ``job``
``before_pause``       ``(worker)``                when USR2 pauses the worker
``after_pause``        ``(worker)``                when CONT resumes it
``queue_empty``        ``(worker)``                when the worker runs out of jobs (busy -> idle)
``shutdown``           ``(worker)``                once, when the worker starts shutting down
``worker_exit``        ``(worker)``                last thing before ``work()`` returns
=====================  ==========================  ===============================================

``job`` is a :class:`~resque_impl.worker.ReservedJob`. Several functions per hook run in the order
they were added. An exception in ``before_fork`` or ``after_fork`` fails that job (a failure record);
in ``before_first_fork`` it stops the worker from starting; in the others it is logged.

Register on the hooks object a worker uses (``Worker(hooks=...)``), or on
:data:`default_worker_hooks`, which workers use by default, e.g. from a module given to
``resque-impl work --jobs``::

    from resque_impl.worker import default_worker_hooks

    @default_worker_hooks.after_fork
    def reconnect_database(worker, job):
        db.dispose()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from resque_impl.errors import ConfigurationError

__all__ = ["HOOK_NAMES", "WorkerHooks", "default_worker_hooks"]

HOOK_NAMES = (
    "before_first_fork",
    "before_fork",
    "after_fork",
    "before_pause",
    "after_pause",
    "queue_empty",
    "shutdown",
    "worker_exit",
)

F = TypeVar("F", bound=Callable[..., Any])


class WorkerHooks:
    """Functions to call per hook name; each decorator method adds one and returns it unchanged."""

    def __init__(self) -> None:
        self._hooks: dict[str, list[Callable[..., Any]]] = {name: [] for name in HOOK_NAMES}

    def add(self, name: str, function: F) -> F:
        """Add ``function`` to hook ``name`` (one of :data:`HOOK_NAMES`)."""
        if name not in self._hooks:
            raise ConfigurationError(f"unknown worker hook {name!r}; use one of {', '.join(HOOK_NAMES)}")
        if not callable(function):
            raise ConfigurationError(f"worker hook {name} must be callable, got {function!r}")
        self._hooks[name].append(function)
        return function

    def remove(self, name: str, function: Callable[..., Any]) -> None:
        """Forget one function (no error if it was not added)."""
        if function in self._hooks.get(name, []):
            self._hooks[name].remove(function)

    def get(self, name: str) -> tuple[Callable[..., Any], ...]:
        """The functions of hook ``name``, in the order added."""
        return tuple(self._hooks[name])

    def run(self, name: str, *args: Any) -> None:
        """Call every function of hook ``name`` with ``args``; the first exception propagates."""
        for function in self._hooks[name]:
            function(*args)

    def before_first_fork(self, function: F) -> F:
        return self.add("before_first_fork", function)

    def before_fork(self, function: F) -> F:
        return self.add("before_fork", function)

    def after_fork(self, function: F) -> F:
        return self.add("after_fork", function)

    def before_pause(self, function: F) -> F:
        return self.add("before_pause", function)

    def after_pause(self, function: F) -> F:
        return self.add("after_pause", function)

    def queue_empty(self, function: F) -> F:
        return self.add("queue_empty", function)

    def shutdown(self, function: F) -> F:
        return self.add("shutdown", function)

    def worker_exit(self, function: F) -> F:
        return self.add("worker_exit", function)


#: The hooks every :class:`~resque_impl.worker.Worker` uses unless given its own.
default_worker_hooks = WorkerHooks()
