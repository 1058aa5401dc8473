"""One job slot of a worker run with ``--concurrency N``: the work loop, run in a thread of its own.

A :class:`SlotLoop` is the production :class:`~resque_impl.worker.loop.WorkLoop` (same reservation with
reliable fetch and strict queue priority, same acknowledgement, reconnection and restart policies),
run off the main thread with its own :class:`~resque_impl.worker.Worker` and so its own id in Redis
(:func:`slot_id`) and its own heartbeat, written by the process's one heartbeat thread; when idle it
waits on the process's one push-notification subscription (:mod:`.notifications`). It runs each
job in its thread; ``async def`` ``perform`` and hooks are awaited on
the process's one event loop (:class:`EventLoopThread`), so up to N coroutines run there at once.

Only the main thread receives signals; it drives the slots through their flags and :meth:`SlotLoop.interrupt`
(see :mod:`.concurrency`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import threading
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from resque_impl.awaitables import awaited_by
from resque_impl.errors import DirtyExit, JobTimeoutError, MemoryLimitError, TermException
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.heartbeat import Heartbeat, SharedHeartbeat
from resque_impl.worker.loop import WorkLoop
from resque_impl.worker.notifications import SharedNotifications
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.outcome import Outcome, ReservedJob

if TYPE_CHECKING:
    from resque_impl.store.protocol import NotificationSource

__all__ = ["EventLoopThread", "SlotLoop", "slot_id"]

#: What an interruption raises in a job (or what a job interrupted so raises in its slot's loop).
_INTERRUPTIONS = (TermException, JobTimeoutError, MemoryLimitError, DirtyExit)


def slot_id(worker_id: str, slot: int) -> str:
    """The id of job slot ``slot`` (0-based) of the worker whose one-slot id is ``worker_id``.

    Slot 0 keeps the id; slot ``k`` appends ``k`` commas to the queue list. Every reader splits the id
    ``host:pid:queues`` on ``:`` and the queue list on ``,``, and Ruby's ``String#split`` drops trailing
    empty fields (we skip empty ones): so each slot's id still reads as this process's host, pid and
    queues, to Ruby Resque's ``Worker.find``, resque-web and ``prune_dead_workers`` alike, and a slot is
    pruned exactly when its process is gone.
    """
    if slot < 0:
        raise ValueError(f"slot must not be negative, got {slot}")
    return worker_id + "," * slot


def _raisable(error: BaseException) -> type[BaseException]:
    """A subclass of ``error``'s class, under the same names, whose instances made without arguments
    carry ``error``'s: what ``PyThreadState_SetAsyncExc`` (which takes a class) raises in a thread."""
    base = type(error)

    def init(self: BaseException, *args: Any) -> None:
        base.__init__(self, *(args or error.args))

    return type(
        base.__name__, (base,), {"__init__": init, "__module__": base.__module__, "__qualname__": base.__qualname__}
    )


def _set_async_exc(thread_id: int, kind: type[BaseException] | None) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(kind) if kind else None)


class EventLoopThread:
    """The worker's event loop, run in a daemon thread from the first coroutine a job hands it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(target=loop.run_forever, name="resque-event-loop", daemon=True)
                self._thread.start()
                self._loop = loop
            return self._loop

    def stop(self) -> None:
        """Stop the loop (tasks still on it are dropped: their slots are gone)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)
        if not thread.is_alive():
            loop.close()


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class SlotLoop(WorkLoop):
    """The work loop of one slot; :meth:`run` (in the slot's thread) returns its exit code."""

    def __init__(
        self,
        worker: LoopWorker,
        options: WorkerOptions,
        slot: int,
        events: EventLoopThread,
        heartbeats: SharedHeartbeat | None = None,
        notifications: SharedNotifications | None = None,
        *,
        prunes: bool = True,
    ) -> None:
        super().__init__(worker, options)
        self.slot = slot
        #: Whether this slot prunes dead workers (at start and every heartbeat interval): one slot of a
        #: namespace is enough, and N slots scanning the process table at once delayed their first jobs.
        self.prunes = prunes
        self._heartbeats = heartbeats
        self._notifications = notifications
        self.code: int | None = None
        #: When the job in hand must end (its timeout, :attr:`timeout` s), as ``time.monotonic()``.
        self.deadline: float | None = None
        self.timeout = 0.0
        self._events = events
        self._thread_id = 0
        # Held by whoever interrupts, across its look at the slot and the interruption, and by the slot
        # while it leaves a job, so that no interruption reaches the slot after its job.
        self._guard = threading.Lock()
        self._future: concurrent.futures.Future[Any] | None = None
        self._interruption: BaseException | None = None

    def _start_heartbeat(self) -> Heartbeat:
        if self._heartbeats is None:
            return super()._start_heartbeat()
        return self._heartbeats.join(self.worker)

    def _prune(self) -> None:
        if self.prunes:
            super()._prune()
        else:
            self._next_prune = float("inf")

    def _subscribe(self) -> NotificationSource:
        if self._notifications is None:
            return super()._subscribe()
        return self._notifications.join()

    @property
    def busy(self) -> bool:
        """Whether the slot is running a job now."""
        return self._in_job

    def run(self) -> int:
        self._thread_id = threading.get_ident()
        try:
            with awaited_by(self._run_on_loop):
                self.code = super().run()
        except BaseException:
            self.code = 1
            raise
        return self.code

    # -- interrupting (from the main thread) ------------------------------------------------------------
    def interrupt(self, error: BaseException) -> bool:
        """Stop the job in hand with ``error``: cancel the coroutine it awaits, or raise ``error`` in the
        slot's thread (at its next Python instruction: a thread blocked in C, e.g. in ``time.sleep``
        or a socket read, sees it when that call returns). ``False`` if no job is in hand, or it was
        interrupted already."""
        with self._guard:
            if not self._in_job or self._interruption is not None:
                return False
            self._interruption = error
            # A coroutine that has just finished cannot be cancelled: then the thread it returns to is told.
            if self._future is None or not self._future.cancel():
                _set_async_exc(self._thread_id, _raisable(error))
            return True

    # -- running a job (in the slot's thread) -----------------------------------------------------------
    def _run_on_loop(self, awaitable: Awaitable[Any]) -> Any:
        future = asyncio.run_coroutine_threadsafe(_await(awaitable), self._events.loop())
        with self._guard:
            interrupted = self._interruption
            self._future = future
        try:
            if interrupted is not None:
                future.cancel()
            return future.result()
        except concurrent.futures.CancelledError:
            if self._interruption is not None:
                raise self._interruption from None
            raise
        finally:
            self._future = None

    def _work_here(self, job: ReservedJob, timeout: float | None) -> Outcome:
        with self._guard:
            self._interruption = None
            self.deadline = None if timeout is None else time.monotonic() + timeout
            self.timeout = timeout or 0.0
            self._in_job = True
        try:
            outcome = self.worker.perform(job)
        except _INTERRUPTIONS as error:
            # Delivered after perform's own handler, before the job was left: still this job's end.
            outcome = self.worker.fail(job, self._interruption or error)
        # An interruption is delivered at most once, and none is sent once the slot left the job.
        while True:
            try:
                self._leave_job()
                break
            except _INTERRUPTIONS:
                continue  # it came too late: the job ended as told by its outcome
        return outcome

    def _leave_job(self) -> None:
        with self._guard:
            self._in_job = False
            self.deadline = None
            _set_async_exc(self._thread_id, None)  # drop an interruption sent as the job ended
