"""The process-wide test-mode seam: while a test mode is active, every :class:`~resque_impl.Resque`
uses the mode's store, clock and failure backend instead of its own.

Applications build their ``Resque(...)`` at import time or use the module-level default
(``resque_impl.enqueue``); a test cannot reach those objects to swap their backend. So, like Ruby's
global ``Resque.inline = true``, a mode is set for the whole process, and ``Resque`` asks this module
which store, clock and failure backend to use (see :class:`Mode`). The modes themselves (fake and
inline) live in :mod:`resque_impl.testing`; this module holds only the switch.

Rules:

* Modes nest within one thread (the innermost wins) and are deactivated innermost first.
* While a mode is active, activating one from another thread raises :class:`ModeConflictError`:
  a process-wide switch cannot give two threads different modes. Reading the active mode from any
  thread is fine (jobs enqueued by threads a test starts see the test's mode).
* Outside tests nothing is active, and ``Resque`` pays one module-global read per store access.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from resque_impl.errors import ModeConflictError

if TYPE_CHECKING:
    from resque_impl.clock import Clock
    from resque_impl.failure import FailureBackend
    from resque_impl.store import StoreProtocol

__all__ = ["Mode", "Overrides", "activate", "active", "deactivate", "stack"]


class Overrides(NamedTuple):
    """What one ``Resque`` uses while a mode is active."""

    store: StoreProtocol
    clock: Clock
    failures: FailureBackend


class Mode(Protocol):
    """A test mode: gives each ``Resque`` instance the store, clock and failure backend to use.

    Called on every store access of every instance while the mode is active, so it should return a
    cached :class:`Overrides` per instance. ``resque`` is the :class:`~resque_impl.Resque` asking (typed
    loosely here so that this seam, which ``client`` imports, imports nothing of ``client``).
    """

    def overrides(self, resque: Any) -> Overrides: ...


#: The innermost active mode, or ``None``. ``Resque`` reads it without taking the lock: assigning a
#: module global is atomic, and a reader racing with (de)activation sees the old or the new mode.
active: Mode | None = None

_stack: list[Mode] = []
_owner: int | None = None
_lock = threading.Lock()


def _thread_name(ident: int | None) -> str:
    for thread in threading.enumerate():
        if thread.ident == ident:
            return repr(thread.name)
    return f"id {ident}"


def activate(mode: Mode) -> None:
    """Make ``mode`` the active mode (on top of any active one, from the same thread)."""
    global active, _owner  # noqa: PLW0603 - the one process-wide switch this module exists for
    me = threading.get_ident()
    with _lock:
        if _stack and _owner != me:
            raise ModeConflictError(
                f"cannot activate {mode!r}: {_stack[-1]!r} is already active, activated by thread "
                f"{_thread_name(_owner)}. A test mode applies to the whole process, so two threads "
                "cannot use different ones at once: activate the mode once, in the thread that runs the "
                "test, or run such tests in separate processes (pytest-xdist)"
            )
        _stack.append(mode)
        _owner = me
        active = mode


def deactivate(mode: Mode) -> None:
    """Undo :func:`activate` for ``mode``, which must be the innermost active mode."""
    global active, _owner  # noqa: PLW0603
    with _lock:
        if not _stack or _stack[-1] is not mode:
            raise ModeConflictError(
                f"cannot deactivate {mode!r}: it is not the innermost active test mode "
                f"(active: {list(reversed(_stack))!r}); leave nested modes innermost first"
            )
        if _owner != threading.get_ident():
            raise ModeConflictError(
                f"cannot deactivate {mode!r} from thread {_thread_name(threading.get_ident())}: it was "
                f"activated by thread {_thread_name(_owner)}, which must deactivate it"
            )
        _stack.pop()
        active = _stack[-1] if _stack else None
        if not _stack:
            _owner = None


def stack() -> list[Mode]:
    """The active modes, outermost first."""
    with _lock:
        return list(_stack)
