"""Running a job in a forked child, and watching over the child from the parent.

The child runs the ``after_fork`` hooks and the job (with its hooks), sends its :class:`Outcome`
back through a pipe, and leaves with ``os._exit``; it never touches Redis for the worker, so the
parent acknowledges the job in one round trip. The report is framed, so the parent knows it is whole
without waiting for the child to exit: tearing down a process (its copy of the worker's page tables)
costs about as much as forking it, and the parent leaves that to overlap the next job, reaping the
child later (:meth:`Child.reap`). The parent waits in ``select`` on that pipe and on the
signal wake-up pipe, so it reacts at once to the child's result, to its death (SIGCHLD), and to signals,
and enforces deadlines: the job timeout, the ``TERM_CHILD`` sequence (wait
``RESQUE_PRE_SHUTDOWN_TIMEOUT``, send TERM, wait ``RESQUE_TERM_TIMEOUT``, send KILL), and, with a memory
limit, the child's resident memory (read every 0.1 s; a child over the limit is killed).

On Linux the child dies with its worker (``PR_SET_PDEATHSIG``): a worker killed mid-job has its job
recovered and run again elsewhere, and the first run must not carry on beside the second.

A child that dies without reporting becomes a ``Resque::DirtyExit`` failure, as in Ruby; one stopped
for running too long a :class:`JobTimeoutError`, one stopped for its memory a :class:`MemoryLimitError`.
:attr:`ChildResult.killed_from_outside` tells the loop when a signal nobody in the worker sent (the OOM
killer, an operator, the job itself) ended the child, which reliable fetch handles like the death of
the worker: the job goes back to its queue.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import math
import os
import pickle
import select
import signal
import struct
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn, Protocol

from resque_impl.errors import DirtyExit, JobTimeoutError, MemoryLimitError, TermException
from resque_impl.hooks import prepare_hooks
from resque_impl.instrumentation import child_exiting
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.memory import process_rss_mb
from resque_impl.worker.outcome import PERFORMED, SKIPPED, Outcome, ReservedJob
from resque_impl.worker.signals import WakeupPipe, reset_in_child

__all__ = [
    "MEMORY_POLL",
    "Child",
    "ChildResult",
    "Reaper",
    "child_main",
    "describe_end",
    "fork_job",
    "fork_process",
    "fork_with_parent",
    "outcome_of",
    "prepare_job_class",
]


#: Seconds between two readings of a child's resident memory, when a memory limit is set.
MEMORY_POLL = 0.1
_PR_SET_PDEATHSIG = 1
logger = logging.getLogger("resque_impl.worker")
_SIGKILL = int(signal.SIGKILL)


@dataclass
class ChildResult:
    """How a child ended: its pid and wait status, the bytes it sent, whether we stopped it for a
    timeout or for its memory (``memory_mb``: what it had reached), and whether we signalled it at all."""

    pid: int
    status: int
    data: bytes
    timed_out: bool
    timeout: float | None = None
    memory_mb: float | None = None
    memory_limit_mb: float | None = None
    signalled: bool = False

    @property
    def killed_from_outside(self) -> bool:
        """Ended by a signal the worker did not send, without reporting an outcome."""
        return not self.data and not self.signalled and os.WIFSIGNALED(self.status)


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's ``prctl`` on Linux, else ``None``; looked up in the parent, before forking."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # No use_errno: nothing reads errno, and saving it would be work in every child.
        prctl: Callable[..., int] = ctypes.CDLL(None).prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _die_with_parent(parent: int) -> None:
    """Have the kernel SIGKILL this (child) process when its parent dies."""
    prctl = _prctl()
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, _SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


_SHORT_OUTCOMES = {"performed": b"P", "skipped": b"S"}
_FROM_SHORT = {b"P": PERFORMED, b"S": SKIPPED}
# A common outcome travels as its byte and its perform time (a big-endian double, NaN for none): nine
# bytes, written at once, so the parent reads them whole in one read.
_SECONDS = struct.Struct(">d")
_SHORT = 1 + _SECONDS.size
# Any other outcome travels pickled, behind this marker and its length.
_PICKLED = b"O"
_LENGTH = struct.Struct(">Q")
_HEADER = len(_PICKLED) + _LENGTH.size


def _frame(outcome: Outcome) -> bytes:
    short = _SHORT_OUTCOMES.get(outcome.status) if not outcome.failed and not outcome.events else None
    if short is not None:
        seconds = outcome.perform_time
        return short + _SECONDS.pack(math.nan if seconds is None else seconds)
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an event a job announced whose metadata cannot be pickled: the outcome still goes
        logger.exception("events announced by %s could not be sent to the worker; dropped", outcome.status)
        return _frame(outcome.without_events())
    return _PICKLED + _LENGTH.pack(len(data)) + data


def _unframe(data: bytes) -> bytes | None:
    """The whole report in ``data`` (a short outcome, or the pickle), ``None`` while incomplete."""
    if data[:1] in _FROM_SHORT:
        return data[:_SHORT] if len(data) >= _SHORT else None
    if data[:1] == _PICKLED and len(data) >= _HEADER:
        end = _HEADER + _LENGTH.unpack_from(data, 1)[0]
        if len(data) >= end:
            return data[_HEADER:end]
    return None


def _short_outcome(report: bytes) -> Outcome | None:
    """The outcome of a whole short report, ``None`` if ``report`` is not one."""
    if len(report) != _SHORT:
        return None
    outcome = _FROM_SHORT.get(report[:1])
    if outcome is None:
        return None
    seconds = _SECONDS.unpack_from(report, 1)[0]
    return outcome if math.isnan(seconds) else outcome.timed(seconds)


def _raise_term(signum: int, frame: FrameType | None) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second TERM must not interrupt the cleanup
    raise TermException("SIGTERM")


def child_main(
    worker: LoopWorker, receive: Callable[[], ReservedJob | None], write_fd: int, term_child: bool
) -> NoReturn:
    """The body of a forked child: take the job from ``receive`` (``None``: leave without one), run it
    with the ``after_fork`` hooks, report its outcome on ``write_fd``, and exit."""
    code = 0
    try:
        reset_in_child(_raise_term if term_child else None)
        job = receive()
        if job is None:
            os._exit(0)
        # What the job announces on the worker's bus goes to the subscribers in the worker's process.
        captured = worker.resque.events.capture()
        try:
            worker.hooks.run("after_fork", worker, job)
        except Exception as error:
            outcome = worker.fail(job, error)
        else:
            outcome = worker.perform(job)
        child_exiting()  # a tracer's spans are exported before the parent hears the outcome
        if captured:
            outcome = outcome.with_events(tuple(captured))
        # The common outcomes travel as one byte and their perform time: pickling touches (and so
        # copies) more of the parent's memory than the job itself often does.
        data = _frame(outcome)
        _flush_output()  # before reporting: after a short report, the parent only waits for the exit
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:
        code = 1
        with contextlib.suppress(BaseException):
            sys.excepthook(*sys.exc_info())
    finally:
        _flush_output()
        os._exit(code)


def _flush_output() -> None:
    with contextlib.suppress(BaseException):
        sys.stdout.flush()
        sys.stderr.flush()


class Reaper(Protocol):
    """Who collects a child's end when the worker did not fork it (see :mod:`~resque_impl.worker.forkserver`)."""

    @property
    def fd(self) -> int:
        """What to wait on (with the child's pipe) for news of its end."""

    def ended(self, pid: int, block: bool) -> int | None:
        """Child ``pid``'s wait status once it has ended; ``None`` while it runs (only when not ``block``)."""


class Child:
    """A forked child running one job, seen from the parent (its parent, or the worker beside a
    :class:`Reaper` that is)."""

    def __init__(
        self,
        pid: int,
        result_fd: int,
        timeout: float | None,
        memory_limit_mb: float | None = None,
        reaper: Reaper | None = None,
    ) -> None:
        self.pid = pid
        self.result_fd = result_fd
        self._reaper = reaper
        self.started = time.monotonic()
        self.timeout = timeout
        self.timed_out = False
        self.memory_limit_mb = memory_limit_mb
        self.memory_mb: float | None = None
        self._next_memory_check = self.started
        self._chunks: list[bytes] = []
        self._eof = False
        self._term_plan: tuple[float, float] | None = None  # (when to TERM, when to KILL)
        self._term_sent = False
        self._kill_sent = False
        self._status: int | None = None

    # -- called from signal handlers and the loop ---------------------------------------------------
    def kill(self) -> None:
        """SIGKILL the child now."""
        if not self._kill_sent and self._status is None:
            self._kill_sent = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def stop(self, *, term_child: bool, pre_shutdown: float, term_timeout: float) -> None:
        """Stop the child: at once with KILL, or (``term_child``) TERM after ``pre_shutdown`` seconds
        and KILL ``term_timeout`` seconds after that."""
        if not term_child:
            self.kill()
            return
        if self._term_plan is None:
            now = time.monotonic()
            self._term_plan = (now + pre_shutdown, now + pre_shutdown + term_timeout)
            self._act(now)

    def _act(self, now: float) -> None:
        if self.timeout is not None and not self.timed_out and now - self.started >= self.timeout:
            self.timed_out = True
            self.kill()
        if self.memory_limit_mb is not None and self.memory_mb is None and now >= self._next_memory_check:
            self._next_memory_check = now + MEMORY_POLL
            used = process_rss_mb(self.pid)
            if used is not None and used > self.memory_limit_mb:
                self.memory_mb = used
                self.kill()
        if self._term_plan is not None:
            term_at, kill_at = self._term_plan
            if now >= term_at and not self._term_sent:
                self._term_sent = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGTERM)
            if now >= kill_at:
                self.kill()

    def _next_deadline(self) -> float | None:
        deadlines: list[float] = []
        if self.timeout is not None and not self.timed_out:
            deadlines.append(self.started + self.timeout)
        if self._term_plan is not None and not self._kill_sent:
            deadlines.append(self._term_plan[1] if self._term_sent else self._term_plan[0])
        if self.memory_limit_mb is not None and self.memory_mb is None:
            deadlines.append(self._next_memory_check)
        return min(deadlines) if deadlines else None

    # -- waiting ------------------------------------------------------------------------------------
    def _read(self) -> None:
        while not self._eof:
            try:
                chunk = os.read(self.result_fd, 1 << 16)
            except BlockingIOError:
                return
            if chunk:
                self._chunks.append(chunk)
            else:
                self._eof = True

    def _reap(self, block: bool) -> bool:
        if self._reaper is not None:
            ended = self._reaper.ended(self.pid, block)
            if ended is None:
                return False
            self._status = ended
            return True
        try:
            pid, status = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 0
        if pid == 0:
            return False
        self._status = status
        return True

    @property
    def reaped(self) -> bool:
        """Whether the child's exit has been collected (see :meth:`reap`)."""
        return self._status is not None

    def reap(self) -> None:
        """Wait for a child that has reported to finish exiting, and collect it."""
        if self._status is None:
            self._reap(block=True)

    def wait(self, wakeup: WakeupPipe | None) -> ChildResult:
        """Wait until the child has sent its whole report or ended, enforcing the deadlines.

        After a whole report the child only exits; it is not waited for (the caller must :meth:`reap` it
        later), so that its exit overlaps whatever the worker does next.
        """
        report: bytes | None = None
        try:
            while True:
                now = time.monotonic()
                self._act(now)
                self._read()
                report = _unframe(b"".join(self._chunks)) if self._chunks else None
                if report is not None:
                    self._reap(block=False)
                    break
                if self._eof:
                    # The child closed its end without a whole report: it is leaving. Block until it has
                    # (signals still run).
                    self._reap(block=True)
                    break
                if self._reap(block=False):
                    # It exited between our read and our look: what it wrote before is all in the pipe now.
                    self._read()
                    report = _unframe(b"".join(self._chunks)) if self._chunks else None
                    break
                deadline = self._next_deadline()
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                watched = [self.result_fd] + ([wakeup.fd] if wakeup is not None else [])
                if self._reaper is not None:
                    watched.append(self._reaper.fd)
                if wakeup is None and timeout is None:
                    timeout = 0.05  # without the wake-up pipe, SIGCHLD cannot wake us: poll
                try:
                    ready, _, _ = select.select(watched, [], [], timeout)
                except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for safety
                    continue
                if wakeup is not None and wakeup.fd in ready:
                    wakeup.drain()
        finally:
            os.close(self.result_fd)
        return ChildResult(
            self.pid,
            self._status or 0,
            b"".join(self._chunks) if report is None else report,
            self.timed_out,
            self.timeout,
            self.memory_mb,
            self.memory_limit_mb,
            self._term_sent or self._kill_sent,
        )


def fork_with_parent(body: Callable[[], NoReturn]) -> int:
    """Fork a child that dies with this process and runs ``body``; returns its pid."""
    _prctl()
    parent = os.getpid()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()  # or the child would write the parent's buffered output again
    if sys.version_info >= (3, 12):
        with warnings.catch_warnings():
            # Python 3.12+ warns when forking with threads. Our only other thread is the heartbeat, which
            # holds no lock the child uses (redis-py and logging reset theirs after fork).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    else:
        pid = os.fork()
    if pid == 0:
        _die_with_parent(parent)
        body()
    return pid


def fork_process(body: Callable[[int], NoReturn]) -> tuple[int, int]:
    """Fork a child that dies with this process and runs ``body(write_fd)``; returns its pid and the
    (non-blocking) read end of the pipe it reports on."""
    read_fd, write_fd = os.pipe()

    def start() -> NoReturn:
        os.close(read_fd)
        body(write_fd)

    pid = fork_with_parent(start)
    os.close(write_fd)
    os.set_blocking(read_fd, False)
    return pid, read_fd


def prepare_job_class(worker: LoopWorker, job: ReservedJob) -> None:
    """Find the hooks of ``job``'s class once, in the parent, rather than in every child."""
    job_class = worker.resque.registry.get(job.class_name) if job.class_name else None
    if job_class is not None:
        prepare_hooks(job_class)


def fork_job(
    worker: LoopWorker,
    job: ReservedJob,
    *,
    timeout: float | None,
    term_child: bool,
    memory_limit_mb: float | None = None,
) -> Child:
    """Fork a child that runs ``job``; returns the parent's handle on it."""
    prepare_job_class(worker, job)
    pid, read_fd = fork_process(lambda write_fd: child_main(worker, lambda: job, write_fd, term_child))
    return Child(pid, read_fd, timeout, memory_limit_mb)


def outcome_of(worker: LoopWorker, job: ReservedJob, result: ChildResult) -> Outcome:
    """The :class:`Outcome` a child's end means (running ``on_failure`` hooks here when the child could
    not report one)."""
    if result.timed_out:
        return worker.fail(job, JobTimeoutError(f"job ran longer than its {result.timeout:g} s timeout and was killed"))
    if result.memory_mb is not None:
        return worker.fail(
            job,
            MemoryLimitError(
                f"job's process reached {result.memory_mb:.0f} MB, over the {result.memory_limit_mb:g} MB limit, "
                "and was killed"
            ),
        )
    short = _short_outcome(result.data)
    if short is not None:
        return short
    if result.data:
        try:
            outcome = pickle.loads(result.data)
        except Exception:
            outcome = None
        if isinstance(outcome, Outcome):
            return outcome
    return worker.fail(job, DirtyExit(describe_end(result.pid, result.status)))


def describe_end(pid: int, status: int) -> str:
    """How child ``pid`` that reported nothing ended (its wait ``status``), in Ruby Resque's words.

    A signal is told as Ruby prints the child's ``Process::Status``: ``pid 42 SIGKILL (signal 9)``,
    then `` (core dumped)`` if it dumped core.
    """
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        # Ruby names the classic signals only; a real-time one is just its number.
        try:
            name = f"{signal.Signals(number).name} (signal {number})" if number < signal.SIGRTMIN else ""
        except ValueError:
            name = ""
        name = name or f"signal {number}"
        core = " (core dumped)" if os.WCOREDUMP(status) else ""
        return f"Child process received unhandled signal pid {pid} {name}{core}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"Child process exited with status {code} before reporting a result"
