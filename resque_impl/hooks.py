"""Job hooks: found by name prefix, run in alphabetical order, with Ruby Resque's exact semantics.

A hook is any method of the job class whose name starts with one of these prefixes; several hooks of
one kind (``before_perform_log``, ``before_perform_metrics``, ...) run in alphabetical order, so plugins
written as mixin classes compose. Hooks receive the job's arguments as ``perform`` does; ``on_failure``
hooks receive the exception first.

==================  =================================================================================
``before_enqueue``  all run; if any returns exactly ``False`` the job is not pushed
``after_enqueue``   after the push
``before_dequeue``  all run; if any returns exactly ``False`` nothing is removed
``after_dequeue``   after the removal
``before_perform``  raising :class:`DontPerform` skips the job quietly (no failure; still processed)
``around_perform``  wraps ``perform``; the alphabetically first is outermost (see below)
``after_perform``   only when nothing raised; also when an around hook chose not to call ``perform``
``on_failure``      once per failed job, with ``(exception, *args)``, before the failure is recorded
==================  =================================================================================

resque-scheduler's hooks, for ``enqueue_at`` / ``enqueue_in`` and the scheduler process:

==========================  =========================================================================
``before_schedule``         all run; if any returns exactly ``False`` the job is not scheduled
``after_schedule``          after it was scheduled (or, for a time already past, enqueued)
``before_delayed_enqueue``  in the scheduler, before a due job is enqueued (its result is ignored)
==========================  =========================================================================

``around_perform`` hooks are generator functions that ``yield`` once where ``perform`` (and the hooks
inside them) should run, like ``contextlib.contextmanager``::

    @classmethod
    def around_perform_timing(cls, *args):
        started = time.monotonic()
        result = yield             # an exception from perform is raised here
        record(time.monotonic() - started, result)
        return result

As with a Ruby block, the ``yield`` evaluates to what ran inside: what ``perform`` returned for the
innermost hook, what the next hook returned for the others (so a hook returns the value to pass it on).

A hook that returns without yielding skips ``perform`` (and the hooks inside it). A hook may also
return a context manager instead of being a generator.

``perform`` and the ``before_perform``, ``after_perform`` and ``on_failure`` hooks may be ``async def``:
what they return is awaited (:mod:`resque_impl.awaitables`), on the worker's event loop with
``--concurrency``, else on a fresh one.

While an :class:`Execution` made with ``job=`` runs, :func:`current_job` returns that job (its queue
and whole payload, extra keys included), so hooks can read what their arguments do not carry, such as
a retry count.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Generator, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from types import GeneratorType
from typing import Any, cast

from resque_impl.awaitables import settle
from resque_impl.errors import DontPerform, FailureHookError
from resque_impl.job import QueuedJob, queue_of
from resque_impl.ruby_inspect import ruby_inspect

__all__ = [
    "Execution",
    "current_job",
    "hook_names",
    "hook_target",
    "prepare_hooks",
    "run_after_dequeue",
    "run_after_enqueue",
    "run_after_schedule",
    "run_before_delayed_enqueue",
    "run_before_dequeue",
    "run_before_enqueue",
    "run_before_schedule",
    "run_enqueue",
]


class _ClassHooks:
    """What one class offers: hook names per prefix (found lazily) and how to call its methods."""

    __slots__ = ("instance_style", "names", "shape")

    def __init__(self, cls: type, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.names: dict[str, tuple[str, ...]] = {}
        self.instance_style = inspect.isfunction(inspect.getattr_static(cls, "perform", None))

    def find(self, cls: type, prefix: str) -> tuple[str, ...]:
        found = self.names.get(prefix)
        if found is None:
            found = self.names[prefix] = tuple(
                name for name in sorted(dir(cls)) if name.startswith(prefix) and callable(getattr(cls, name, None))
            )
        return found

    def target(self, cls: type) -> Any:
        return cls() if self.instance_style else cls


_cache: dict[type, _ClassHooks] = {}
_cache_lock = threading.Lock()


def _class_hooks(cls: type) -> _ClassHooks:
    """The cached hooks of ``cls``, rebuilt when an attribute was added to or removed from the class or
    a base class since (e.g. by a test's monkeypatch)."""
    shape = tuple([len(base.__dict__) for base in cls.__mro__])
    cached = _cache.get(cls)
    if cached is None or cached.shape != shape:
        cached = _ClassHooks(cls, shape)
        with _cache_lock:
            _cache[cls] = cached
    return cached


def prepare_hooks(cls: type) -> None:
    """Find ``cls``'s ``perform`` and ``on_failure`` hooks now (they are cached per class), so processes
    forked afterwards inherit them instead of each searching the class again."""
    hooks = _class_hooks(cls)
    for prefix in ("before_perform", "around_perform", "after_perform", "on_failure"):
        hooks.find(cls, prefix)


def hook_target(cls: type) -> Any:
    """What ``cls``'s hooks are called on: the class, or a new instance when ``perform`` is an
    instance method."""
    return _class_hooks(cls).target(cls)


def hook_names(cls: type, prefix: str) -> tuple[str, ...]:
    """Names of ``cls``'s callable attributes starting with ``prefix``, sorted (cached per class)."""
    return _class_hooks(cls).find(cls, prefix)


def _run_vetoable(cls: type, prefix: str, args: Sequence[Any]) -> bool:
    hooks = _class_hooks(cls)
    names = hooks.find(cls, prefix)
    if not names:
        return True
    target = hooks.target(cls)
    results = [getattr(target, name)(*args) for name in names]
    return not any(result is False for result in results)


def _run_all(cls: type, prefix: str, args: Sequence[Any]) -> None:
    hooks = _class_hooks(cls)
    names = hooks.find(cls, prefix)
    if names:
        target = hooks.target(cls)
        for name in names:
            getattr(target, name)(*args)


def run_enqueue(cls: type, args: Sequence[Any], push: Callable[[bool], None]) -> bool:
    """Run every ``before_enqueue*`` hook, then unless one vetoed, ``push(hooked)`` and every
    ``after_enqueue*`` hook; ``False`` if vetoed. ``hooked`` is true when ``before_enqueue`` hooks ran,
    which may have changed (mutable) arguments, so the payload must be encoded again. The same as
    :func:`run_before_enqueue`, the push and :func:`run_after_enqueue`, with the class's hooks looked up
    once when it has no ``before_enqueue`` hook (which could change them)."""
    hooks = _class_hooks(cls)
    hooked = bool(hooks.find(cls, "before_enqueue"))
    if hooked:
        if not run_before_enqueue(cls, args):
            return False
        hooks = _class_hooks(cls)
    push(hooked)
    names = hooks.find(cls, "after_enqueue")
    if names:
        target = hooks.target(cls)
        for name in names:
            getattr(target, name)(*args)
    return True


def run_before_enqueue(cls: type, args: Sequence[Any]) -> bool:
    """Run every ``before_enqueue*`` hook; ``False`` if any vetoed the push."""
    return _run_vetoable(cls, "before_enqueue", args)


def run_after_enqueue(cls: type, args: Sequence[Any]) -> None:
    """Run every ``after_enqueue*`` hook."""
    _run_all(cls, "after_enqueue", args)


def run_before_dequeue(cls: type, args: Sequence[Any]) -> bool:
    """Run every ``before_dequeue*`` hook; ``False`` if any vetoed the removal."""
    return _run_vetoable(cls, "before_dequeue", args)


def run_after_dequeue(cls: type, args: Sequence[Any]) -> None:
    """Run every ``after_dequeue*`` hook."""
    _run_all(cls, "after_dequeue", args)


def run_before_schedule(cls: type, args: Sequence[Any]) -> bool:
    """Run every ``before_schedule*`` hook; ``False`` if any vetoed scheduling the job."""
    return _run_vetoable(cls, "before_schedule", args)


def run_after_schedule(cls: type, args: Sequence[Any]) -> None:
    """Run every ``after_schedule*`` hook."""
    _run_all(cls, "after_schedule", args)


def run_before_delayed_enqueue(cls: type, args: Sequence[Any]) -> None:
    """Run every ``before_delayed_enqueue*`` hook (results are ignored, as in resque-scheduler)."""
    _run_all(cls, "before_delayed_enqueue", args)


_current_job: ContextVar[QueuedJob | None] = ContextVar("resque_impl_current_job", default=None)


def current_job() -> QueuedJob | None:
    """The job whose :class:`Execution` is running in this thread or task, if it was given one."""
    return _current_job.get()


class _DidNotYield:
    """Marks an around hook that returned (``value``) without yielding."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_Wrapper = Generator[Any, Any, Any] | AbstractContextManager[Any]


def _enter(name: str, wrapper: object) -> _Wrapper | _DidNotYield:
    if inspect.isgenerator(wrapper):
        try:
            next(wrapper)
        except StopIteration as stop:
            return _DidNotYield(stop.value)
        return cast("Generator[Any, Any, Any]", wrapper)
    if isinstance(wrapper, AbstractContextManager):
        wrapper.__enter__()
        return wrapper
    raise TypeError(
        f"around hook {name} must be a generator function that yields once, or return a context "
        f"manager; it returned {type(wrapper).__name__}"
    )


def _exit(wrapper: _Wrapper, error: BaseException | None, value: Any) -> tuple[BaseException | None, Any]:
    """Resume one around hook with the inner outcome (``value`` is what its ``yield`` evaluates to);
    return the error it lets through (if any) and what it returned, as Ruby's block value for the
    hook around it. A context manager passes ``value`` on unchanged."""
    # Generators first: the usual kind, and checked without the ABC machinery.
    if not isinstance(wrapper, GeneratorType) and isinstance(wrapper, AbstractContextManager):
        try:
            suppressed = wrapper.__exit__(type(error) if error else None, error, error.__traceback__ if error else None)
        except BaseException as raised:
            return raised, None
        return (None if suppressed else error), value
    try:
        if error is None:
            wrapper.send(value)
        else:
            wrapper.throw(error)
    except StopIteration as stop:
        return None, stop.value
    except BaseException as raised:
        return raised, None
    wrapper.close()
    return RuntimeError("an around_perform hook yielded more than once"), None


class Execution:
    """One attempt at running a job: Ruby's ``Job#perform`` and its failure-hook bookkeeping.

    ``job`` is the queued job being run; hooks read it through :func:`current_job` while
    :meth:`perform` and :meth:`run_failure_hooks` run. With a ``timer`` (a function returning seconds),
    :attr:`perform_time` is then how long the job's ``perform`` method itself ran (hooks excluded,
    an ``async`` perform awaited), ``None`` if it was never called.
    """

    def __init__(
        self,
        job_class: type,
        args: Sequence[Any],
        job: QueuedJob | None = None,
        timer: Callable[[], float] | None = None,
    ) -> None:
        self.job_class = job_class
        self.args = args
        self.job = job
        self.timer = timer
        self.perform_time: float | None = None
        self._hooks = _class_hooks(job_class)
        self.target = self._hooks.target(job_class)
        self._failure_hooks_ran = False

    def _names(self, prefix: str) -> tuple[str, ...]:
        return self._hooks.find(self.job_class, prefix)

    def perform(self) -> bool:
        """Run the hooks and ``perform``; ``True`` if ``perform`` ran to completion.

        Returns ``False`` when a ``before_perform`` hook raised :class:`DontPerform` or an around hook
        did not yield. Any exception runs the ``on_failure`` hooks and is re-raised (or replaced by a
        :class:`FailureHookError` if a failure hook raised).
        """
        # One frame, hooks found without _names: this runs once per job, the lookups as lazily as before.
        find, cls, target, args = self._hooks.find, self.job_class, self.target, self.args
        token = _current_job.set(self.job)
        try:
            try:
                for name in find(cls, "before_perform"):
                    settle(getattr(target, name)(*args))
            except DontPerform:
                return False
            performed = self._perform_wrapped(find(cls, "around_perform"))
            for name in find(cls, "after_perform"):
                settle(getattr(target, name)(*args))
            return performed
        except BaseException as error:
            self.run_failure_hooks(error)
            raise
        finally:
            _current_job.reset(token)

    def _call_perform(self) -> Any:
        timer = self.timer
        if timer is None:
            return settle(self.target.perform(*self.args))
        started = timer()
        try:
            return settle(self.target.perform(*self.args))
        finally:
            self.perform_time = max(0.0, timer() - started)

    def _perform_wrapped(self, names: tuple[str, ...]) -> bool:
        if not names:
            self._call_perform()
            return True
        entered: list[_Wrapper] = []
        performed = False
        error: BaseException | None = None
        value: Any = None
        try:
            for name in names:
                wrapper = _enter(name, getattr(self.target, name)(*self.args))
                if isinstance(wrapper, _DidNotYield):
                    value = wrapper.value
                    break
                entered.append(wrapper)
            else:
                value = self._call_perform()
                performed = True
        except BaseException as raised:
            error = raised
        for wrapper in reversed(entered):
            error, value = _exit(wrapper, error, value)
        if error is not None:
            raise error
        return performed

    def _ruby_inspect(self) -> str:
        """The job as Ruby's ``Job#inspect`` writes it: ``(Job{queue} | Class | ["args"])``."""
        if self.job is not None:
            queue, class_name = self.job.queue, self.job.payload.class_name
        else:
            queue, class_name = queue_of(self.job_class) or "", self.job_class.__qualname__
        return f"(Job{{{queue}}} | {class_name} | {ruby_inspect(list(self.args))})"

    def run_failure_hooks(self, error: BaseException) -> None:
        """Run each ``on_failure*`` hook once per execution, with ``(error, *args)``.

        A hook that raises is not swallowed: a :class:`FailureHookError` naming both errors is raised.
        """
        if self._failure_hooks_ran:
            return
        self._failure_hooks_ran = True
        token = _current_job.set(self.job)
        try:
            for name in self._names("on_failure"):
                settle(getattr(self.target, name)(error, *self.args))
        except Exception as hook_error:
            raise FailureHookError(hook_error, error, self._ruby_inspect()) from hook_error
        finally:
            _current_job.reset(token)
