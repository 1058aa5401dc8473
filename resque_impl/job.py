"""Job classes (how users declare work) and :class:`QueuedJob` (one payload on one queue).

Two equivalent ways to declare a job::

    class EmailJob(resque_impl.Job):          # registered automatically as "EmailJob"
        queue = "email"
        def perform(self, user_id, message): ...

    @resque_impl.job(queue="email", name="Admin::EmailJob")
    class AdminEmail:
        @staticmethod
        def perform(user_id, message): ...

A plain class (no base class, no decorator: ``queue`` and ``perform`` are enough, as in Ruby) works
too: handing the class object to ``enqueue`` registers it under its payload name, and a worker
started with ``--jobs MODULE`` registers the plain job classes defined at the top of MODULE
(:func:`register_module_jobs`).

``perform`` and hooks may be static methods, class methods, or instance methods; for the last, each
execution gets a fresh instance made with no arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, TypeVar, overload

from resque_impl.codec import Payload
from resque_impl.errors import NoClassError
from resque_impl.registry import Registry, default_registry, ruby_constant_name

__all__ = ["Job", "QueuedJob", "job", "queue_of", "register_module_jobs", "require_perform"]

T = TypeVar("T", bound=type)


class Job:
    """Base class for jobs. Subclasses register in the default registry under their class name.

    Set ``queue`` (the default queue), optionally ``name`` (the payload class name, e.g. to match a
    Ruby class ``Admin::EmailJob``), and define ``perform(*args)``. Pass ``register=False`` in the class
    statement for an abstract base: ``class BaseJob(Job, register=False)``.
    """

    queue: ClassVar[str | None] = None

    def __init_subclass__(cls, *, register: bool = True, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if register:
            default_registry.register(cls)


@overload
def job(cls: T, /) -> T: ...


@overload
def job(*, name: str | None = None, queue: str | None = None, registry: Registry | None = None) -> Callable[[T], T]: ...


def job(
    cls: T | None = None,
    /,
    *,
    name: str | None = None,
    queue: str | None = None,
    registry: Registry | None = None,
) -> T | Callable[[T], T]:
    """Register a plain class as a job: ``@job`` or ``@job(name=..., queue=..., registry=...)``."""

    def apply(target: T) -> T:
        require_perform(target)
        if queue is not None:
            target.queue = queue  # type: ignore[attr-defined]
        return (default_registry if registry is None else registry).register(target, name)

    return apply if cls is None else apply(cls)


def require_perform(cls: type) -> None:
    """Raise :class:`NoClassError` unless ``cls`` has a callable ``perform``."""
    if not callable(getattr(cls, "perform", None)):
        raise NoClassError(
            f"{cls.__module__}.{cls.__qualname__} has no perform method; a job class needs one "
            "(a classmethod, staticmethod or method taking the job's arguments)"
        )


def register_module_jobs(module: ModuleType, registry: Registry | None = None) -> list[str]:
    """Register the plain job classes ``module`` defines at its top level, as a worker does for the
    modules named with ``--jobs``; returns their payload names.

    A plain job class is one defined in ``module`` (not imported into it) with a callable ``perform``
    that is not a :class:`Job` subclass (those register themselves, or chose not to) and does not set
    ``registers_itself = True`` (jobs of another kind, such as ActiveJob jobs). Classes already
    registered keep their name. Only classes the module defines are touched: the registry never imports
    a name it reads, and ``--jobs`` names exactly the modules the operator trusts.
    """
    target = default_registry if registry is None else registry
    names = []
    for value in list(vars(module).values()):
        if (
            isinstance(value, type)
            and value.__module__ == module.__name__
            and not issubclass(value, Job)
            and not getattr(value, "registers_itself", False)
            and callable(getattr(value, "perform", None))
        ):
            names.append(target.adopt(value))
    return names


def queue_of(cls: type) -> str | None:
    """The class's queue: its ``queue`` attribute, or what a ``queue()`` method returns."""
    value = getattr(cls, "queue", None)
    if callable(value):
        value = value()
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True, eq=False)
class QueuedJob:
    """A payload and the queue it came from (Ruby's ``Resque::Job``).

    Two jobs are equal, as in Ruby's ``Job#==``, when their queue, the class their payload names (read
    as Ruby's ``constantize`` reads it: ``"some-job"`` is ``SomeJob``) and their args match; extra
    payload keys (``enqueued_at``, a retry count) do not count.
    """

    queue: str
    payload: Payload

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueuedJob):
            return NotImplemented
        return (
            self.queue == other.queue
            and ruby_constant_name(self.class_name) == ruby_constant_name(other.class_name)
            and self.args == other.args
        )

    def __hash__(self) -> int:
        return hash((self.queue, ruby_constant_name(self.class_name)))

    @property
    def class_name(self) -> str:
        return self.payload.class_name

    @property
    def args(self) -> list[Any]:
        return self.payload.args
