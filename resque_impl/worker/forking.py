"""Running a job in a forked child: forking it, its life, and what its end means.

The child runs the ``after_fork`` hooks and the job (with its hooks), sends its :class:`Outcome`
back through a pipe (:mod:`~resque_impl.worker.report`), and leaves with ``os._exit``; it never touches
Redis for the worker, so the parent acknowledges the job in one round trip. The parent watches over it
with a :class:`~resque_impl.worker.child.Child`.

On Linux the child dies with its worker (``PR_SET_PDEATHSIG``): a worker killed mid-job has its job
recovered and run again elsewhere, and the first run must not carry on beside the second.

A child that dies without reporting becomes a ``Resque::DirtyExit`` failure, as in Ruby; one stopped
for running too long a :class:`JobTimeoutError`, one stopped for its memory a :class:`MemoryLimitError`.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import warnings
from collections.abc import Callable
from types import FrameType
from typing import NoReturn

from resque_impl.errors import DirtyExit, JobTimeoutError, MemoryLimitError, TermException
from resque_impl.hooks import prepare_hooks
from resque_impl.instrumentation import child_exiting
from resque_impl.worker.child import Child, ChildResult
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.outcome import Outcome, ReservedJob
from resque_impl.worker.report import frame, read
from resque_impl.worker.signals import reset_in_child

__all__ = [
    "child_main",
    "describe_end",
    "fork_job",
    "fork_process",
    "fork_with_parent",
    "outcome_of",
    "prepare_job_class",
]

_PR_SET_PDEATHSIG = 1
_SIGKILL = int(signal.SIGKILL)


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
        data = frame(outcome)
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
    outcome = read(result.data)
    if outcome is not None:
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
