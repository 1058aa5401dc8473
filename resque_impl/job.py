"""Job classes (how users declare work) and :class:`QueuedJob` (one payload on one queue).

Two equivalent ways to declare a job::

    class EmailJob(resque_impl.Job):          # registered automatically as "EmailJob"
        queue = "email"
        def perform(self, user_id, message): ...

    @resque_impl.job(queue="email", name="Admin::EmailJob")
    class AdminEmail:
        @staticmethod
        def perform(user_id, message): ...

``perform`` and hooks may be static methods, class methods, or instance methods; for the last, each
execution gets a fresh instance made with no arguments.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, overload

from resque_impl.codec import Payload
from resque_impl.errors import NoClassError
from resque_impl.registry import Registry, default_registry

__all__ = ["Job", "QueuedJob", "job", "queue_of"]

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
        if not callable(getattr(target, "perform", None)):
            raise NoClassError(f"{target.__qualname__} has no perform method; a job class needs one")
        if queue is not None:
            target.queue = queue  # type: ignore[attr-defined]
        return (default_registry if registry is None else registry).register(target, name)

    return apply if cls is None else apply(cls)


def queue_of(cls: type) -> str | None:
    """The class's queue: its ``queue`` attribute, or what a ``queue()`` method returns."""
    value = getattr(cls, "queue", None)
    if callable(value):
        value = value()
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True, slots=True)
class QueuedJob:
    """A payload and the queue it came from (Ruby's ``Resque::Job``)."""

    queue: str
    payload: Payload

    @property
    def class_name(self) -> str:
        return self.payload.class_name

    @property
    def args(self) -> list[Any]:
        return self.payload.args
