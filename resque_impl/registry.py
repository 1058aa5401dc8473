"""Which Python class runs a payload's ``"class"`` string, e.g. ``"EmailJob"`` or ``"Admin::EmailJob"``.

A class is known only if it was registered: by subclassing :class:`resque_impl.Job`, with the
``@resque_impl.job`` decorator, with :meth:`Registry.register`, by being handed to ``enqueue`` (or any
producer method) as a class object, or by being defined at the top of a module imported with
``--jobs`` (see :func:`resque_impl.job.register_module_jobs`). A payload naming anything else is refused
with :class:`UnknownJobClassError`; nothing is ever imported because a payload asked for it.

The payload name of a class is its ``name`` attribute if the class itself sets one, else its
qualified name with ``.`` written as Ruby's ``::`` (``Admin.EmailJob`` -> ``Admin::EmailJob``).

A payload's name is looked up as Ruby's ``constantize`` reads it (:func:`ruby_constant_name`): a
dashed name is camel-cased (``"some-job"`` runs ``SomeJob``) and a leading ``::`` is ignored.
"""

from __future__ import annotations

import threading
from typing import TypeVar

from resque_impl.errors import JobRegistrationError, NoClassError, UnknownJobClassError

__all__ = ["Registry", "default_name", "default_registry", "ruby_constant_name"]

T = TypeVar("T", bound=type)


def default_name(cls: type) -> str:
    """The payload class name for ``cls`` when none was given at registration."""
    own = cls.__dict__.get("name")
    if isinstance(own, str):
        return own
    # Classes defined inside functions (common in tests) are named from their enclosing class path only.
    return cls.__qualname__.rsplit("<locals>.", 1)[-1].replace(".", "::")


def ruby_constant_name(name: str) -> str:
    """The constant Ruby Resque 3.0 resolves a payload ``"class"`` to: a name with a dash is split
    on dashes and each piece capitalized (Ruby's ``Resque.classify``: ``"some-job"`` -> ``"SomeJob"``;
    underscores are kept, as in Ruby), and a leading ``::`` is dropped (``"::Admin::Job"``)."""
    if "-" in name:
        name = "".join(piece.capitalize() for piece in name.split("-"))
    return name[2:] if name.startswith("::") else name


def _same_definition(a: type, b: type) -> bool:
    """True for the same class statement run twice (a module reloaded, a test function re-run)."""
    return a.__module__ == b.__module__ and a.__qualname__ == b.__qualname__


class Registry:
    """A thread-safe two-way map between payload class names and Python classes."""

    def __init__(self) -> None:
        self._classes: dict[str, type] = {}
        self._names: dict[type, str] = {}
        self._lock = threading.Lock()

    def register(self, cls: T, name: str | None = None) -> T:
        """Register ``cls`` under ``name`` (default: :func:`default_name`) and return it.

        Raises :class:`JobRegistrationError` if a different class already holds the name.
        """
        name = default_name(cls) if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise NoClassError(f"job class name for {cls!r} must be a non-empty string, got {name!r}")
        with self._lock:
            existing = self._classes.get(name)
            if existing is not None and existing is not cls:
                if not _same_definition(existing, cls):
                    raise JobRegistrationError(
                        f"job name {name!r} is already registered to "
                        f"{existing.__module__}.{existing.__qualname__}; cannot also register "
                        f"{cls.__module__}.{cls.__qualname__}. Give one of them another payload name "
                        'with a class attribute name = "..." or register(cls, name="...")'
                    )
                del self._names[existing]
            previous = self._names.get(cls)
            if previous is not None and previous != name:
                del self._classes[previous]
            self._classes[name] = cls
            self._names[cls] = name
        return cls

    def unregister(self, name: str) -> None:
        """Forget ``name`` (no error if it was not registered)."""
        with self._lock:
            cls = self._classes.pop(name, None)
            if cls is not None:
                del self._names[cls]

    def registered_name(self, cls: type) -> str | None:
        """The name ``cls`` is registered under, or ``None``."""
        return self._names.get(cls)

    def adopt(self, cls: type) -> str:
        """The payload name of ``cls``, registering it under :func:`default_name` first if it is not
        registered (a plain class handed to ``enqueue``). Raises :class:`JobRegistrationError` if a
        different class holds that name: a worker could not tell their jobs apart."""
        name = self._names.get(cls)
        return name if name is not None else self.name_of(self.register(cls))

    def resolve(self, name: str) -> type:
        """The class registered under ``name`` as Ruby reads it (see :func:`ruby_constant_name`);
        :class:`UnknownJobClassError` if there is none."""
        found = self.get(name)
        if found is None:
            raise UnknownJobClassError(name)
        return found

    def get(self, name: str) -> type | None:
        """The class registered under ``name`` as Ruby reads it (see :func:`ruby_constant_name`), or
        ``None``."""
        found = self._classes.get(name)
        if found is None and ("-" in name or name.startswith("::")):
            found = self._classes.get(ruby_constant_name(name))
        return found

    def name_of(self, cls: type) -> str:
        """The payload name of ``cls``: its registered name, else :func:`default_name`."""
        return self._names.get(cls) or default_name(cls)

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        with self._lock:
            return sorted(self._classes)

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __len__(self) -> int:
        return len(self._classes)


#: The registry that :class:`resque_impl.Job` subclasses and ``@job`` use unless told otherwise.
default_registry = Registry()
