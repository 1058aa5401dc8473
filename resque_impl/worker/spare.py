"""A child forked before its job is known, so that forking overlaps the job before it.

Forking copies the worker's page tables, which costs about a millisecond for a worker of a few tens of
megabytes, and the new child then spends a while more getting ready (its signal handlers, the kernel's
copy-on-write faults) before it can run anything. A forking worker that forks its next child while the
current one runs (:func:`fork_spare`) pays both while the job runs, on the machine's other core, rather
than between jobs; the spare waits on a pipe, and :meth:`Spare.hand` sends it the next job's queue and
bytes, which it decodes as the parent did. From there it is an ordinary child
(:func:`~resque_impl.worker.forking.child_main`, watched as a :class:`~resque_impl.worker.forking.Child`).

The worker does not keep a spare when ``before_fork`` hooks are registered (Ruby runs them in the parent,
with the job, before the fork of the child that runs it), nor for a job whose bytes did not decode
(:class:`ReservedJob` keeps why, which the child could not rebuild). A spare that died while waiting (a
signal sent to the whole process group, say) is noticed on the hand-over and replaced by an ordinary fork.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct

from resque_impl.errors import TermException
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.forking import Child, child_main, fork_process, prepare_job_class
from resque_impl.worker.outcome import ReservedJob
from resque_impl.worker.titles import set_title

__all__ = ["Spare", "fork_spare"]

# The hand-over: the queue's and the bytes' lengths, then both.
_LENGTHS = struct.Struct(">II")


class Spare:
    """A forked child waiting for a job, seen from the parent."""

    def __init__(self, worker: LoopWorker, pid: int, job_fd: int, result_fd: int) -> None:
        self._worker = worker
        self.pid = pid
        self._job_fd = job_fd
        self._result_fd = result_fd

    def hand(self, job: ReservedJob, *, timeout: float | None, memory_limit_mb: float | None) -> Child | None:
        """Send ``job`` to the spare, which runs it; the parent's handle on it, or ``None`` when the spare
        is gone (the caller forks an ordinary child instead)."""
        prepare_job_class(self._worker, job)  # for the spares to come
        queue = job.queue.encode()
        message = _LENGTHS.pack(len(queue), len(job.raw)) + queue + job.raw
        try:
            view = memoryview(message)
            while view:
                view = view[os.write(self._job_fd, view) :]
        except OSError:  # BrokenPipeError: it died waiting
            self.discard()
            return None
        os.close(self._job_fd)
        self._job_fd = -1
        return Child(self.pid, self._result_fd, timeout, memory_limit_mb)

    def discard(self) -> None:
        """Stop the spare, which holds no job, and collect it."""
        for fd in (self._job_fd, self._result_fd):
            if fd >= 0:
                os.close(fd)
        self._job_fd = self._result_fd = -1
        # Killed rather than left to see its pipe close: a copy of the pipe's end in any other process
        # (something a hook forked) would keep it waiting, and the worker waiting on it.
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def fork_spare(worker: LoopWorker, *, term_child: bool) -> Spare:
    """Fork a child of ``worker`` that waits for :meth:`Spare.hand`."""
    job_read, job_write = os.pipe()

    def receive() -> ReservedJob | None:
        os.close(job_write)
        set_title("Ready for the next job")
        try:
            with os.fdopen(job_read, "rb") as incoming:
                head = incoming.read(_LENGTHS.size)
                if len(head) < _LENGTHS.size:
                    return None  # discarded
                queue_length, raw_length = _LENGTHS.unpack(head)
                queue = incoming.read(queue_length).decode()
                return ReservedJob.read(queue, incoming.read(raw_length))
        except TermException:  # the worker is stopping (TERM_CHILD): no job was handed over
            return None

    pid, result_fd = fork_process(lambda write_fd: child_main(worker, receive, write_fd, term_child))
    os.close(job_read)
    return Spare(worker, pid, job_write, result_fd)
