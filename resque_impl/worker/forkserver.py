"""The fork server: one child of a forking worker that forks the children that run its jobs.

Forking write-protects every page of the forking process; from then on, each page it writes while a
child still shares it is copied first (a copy-on-write fault, about 2.5 µs on a 2-core VM). Handling a
job, a worker writes a few hundred pages (Python's reference counts are everywhere), so a worker that
forks every job's child pays about a millisecond per job in faults, beside the fork itself. A process
that does nothing but fork writes almost nothing. So, from its first job on, a forking worker has a
fork server fork its children:

* the server keeps one child forked ahead, a *spare*, waiting on a pipe before its job is known, so
  the fork overlaps the job before it (on another core);
* :meth:`ForkServer.run` sends it the job's queue and bytes; it hands them to the spare, which decodes
  them as the worker did and runs the job as any child does
  (:func:`~resque_impl.worker.forking.child_main`), sends the worker the spare's pid and the read end
  of the pipe it reports on (``SCM_RIGHTS``), then forks the next spare;
* it collects its children and tells the worker how each one ended (its wait status).

The worker watches over such a child as over one it forked (:class:`~resque_impl.worker.child.Child`,
with the server as its :class:`~resque_impl.worker.child.Reaper`): it reads the report and enforces
the timeout, the memory limit and ``TERM_CHILD`` by pid. The server dies with the worker, and its
children with it (``PR_SET_PDEATHSIG``), so a worker killed mid-job leaves nothing running; it ignores
the signals meant for the worker.

The worker forks a child itself, as Ruby Resque does, where the child must see the worker as it is at
that job: with ``before_fork`` hooks (Ruby runs them in the worker, with the job, before forking its
child), for a job whose bytes did not decode (the :class:`ReservedJob` keeps why, which a child could
not rebuild), and with ``prefork`` off. A server found dead (the OOM killer, an operator) costs no job:
the job gets an ordinary fork and the server is started again.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import select
import signal
import socket
import struct
from collections.abc import Callable
from typing import NoReturn

from resque_impl.errors import TermException
from resque_impl.worker.child import Child
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.forking import child_main, fork_process, fork_with_parent, prepare_job_class
from resque_impl.worker.outcome import ReservedJob
from resque_impl.worker.titles import set_title

__all__ = ["ForkServer"]

# A job: the queue's and the bytes' lengths, then both.
_JOB = struct.Struct(">II")
# From the server: b"C", a child's pid (its pipe's read end attached), or b"X", a child's pid and wait
# status.
_RECORD = struct.Struct(">cii")
_CHILD, _EXIT = b"C", b"X"
# The wait status of a child whose server died: it was killed with it (PR_SET_PDEATHSIG).
_KILLED = int(signal.SIGKILL)
# The signals meant for the worker: the server outlives none of them but the worker's death.
_IGNORED = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
logger = logging.getLogger("resque_impl.worker")


class ForkServer:
    """The worker's end of a fork server (see the module's text)."""

    def __init__(self, pid: int, channel: socket.socket) -> None:
        self.pid = pid
        self._channel = channel
        self._ended: dict[int, int] = {}
        self._running: set[int] = set()
        self.alive = True

    @classmethod
    def start(cls, worker: LoopWorker, *, term_child: bool) -> ForkServer:
        """Fork a fork server for ``worker``, whose children stop on TERM as ``term_child`` says."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)

        def serve() -> NoReturn:
            ours.close()
            _serve(worker, theirs, term_child)

        pid = fork_with_parent(serve)
        theirs.close()
        return cls(pid, ours)

    @property
    def fd(self) -> int:
        return self._channel.fileno()

    def run(self, job: ReservedJob, *, timeout: float | None, memory_limit_mb: float | None) -> Child | None:
        """Have a child run ``job``; the worker's handle on it, or ``None`` if the server is gone (the
        caller forks the child itself)."""
        queue = job.queue.encode()
        try:
            self._channel.sendall(_JOB.pack(len(queue), len(job.raw)) + queue + job.raw)
        except OSError:
            self._lost()
            return None
        while (reply := self._receive()) is None:
            if not self.alive:
                return None
        pid, result_fd = reply
        self._running.add(pid)
        return Child(pid, result_fd, timeout, memory_limit_mb, reaper=self)

    def ended(self, pid: int, block: bool) -> int | None:
        """Child ``pid``'s wait status once it has ended, ``None`` while it runs (when not ``block``)."""
        while pid not in self._ended:
            if not self.alive:
                self._running.discard(pid)
                return _KILLED
            if not block and not select.select([self._channel], [], [], 0)[0]:
                return None
            self._receive()
        self._running.discard(pid)
        return self._ended.pop(pid)

    def close(self) -> None:
        """Stop the server (its spare with it) and collect it."""
        self._channel.close()
        self.alive = False
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _receive(self) -> tuple[int, int] | None:
        """Take in one record from the server (blocking): a new child's pid and pipe, or ``None`` for a
        child's end (kept for :meth:`ended`)."""
        try:
            data, fds, _, _ = socket.recv_fds(self._channel, _RECORD.size, 1)
            while data and len(data) < _RECORD.size:  # a record is sent whole; read on if it arrives split
                more = self._channel.recv(_RECORD.size - len(data))
                if not more:
                    break
                data += more
        except OSError:
            data, fds = b"", []
        if len(data) < _RECORD.size:
            for fd in fds:
                os.close(fd)
            self._lost()
            return None
        kind, pid, status = _RECORD.unpack(data)
        if kind == _CHILD and fds:
            return pid, fds[0]
        if kind == _EXIT and pid in self._running:
            self._ended[pid] = status
        # Any other record is a spare's end, which the worker never knew of.
        return None

    def _lost(self) -> None:
        self.alive = False


class _Spare:
    """In the server: a child forked before its job is known, waiting for it on a pipe."""

    def __init__(self, worker: LoopWorker, term_child: bool, inherited: tuple[int, ...]) -> None:
        job_read, self._job_fd = os.pipe()

        def receive() -> ReservedJob | None:
            for fd in (self._job_fd, *inherited):
                os.close(fd)
            set_title("Ready for the next job", log=False)
            try:
                message = _read_message(job_read)
            except TermException:  # the worker is stopping (TERM_CHILD): no job was handed over
                return None
            finally:
                os.close(job_read)
            if message is None:
                return None  # let go
            job = _decode(message)
            # As Ruby's child, which inherits the title its worker set before forking it.
            set_title(f"Processing {job.queue} since {int(worker.now())} [{job.describe()}]", log=False)
            return job

        self.pid, self.result_fd = fork_process(lambda write_fd: child_main(worker, receive, write_fd, term_child))
        os.close(job_read)

    def hand(self, message: bytes) -> bool:
        """Send the spare its job; ``False`` if it died waiting."""
        try:
            view = memoryview(message)
            while view:
                view = view[os.write(self._job_fd, view) :]
        except OSError:  # BrokenPipeError: it died waiting
            return False
        finally:
            os.close(self._job_fd)
        return True

    def discard(self) -> None:
        os.close(self.result_fd)
        with contextlib.suppress(OSError):
            os.close(self._job_fd)
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def _serve(worker: LoopWorker, channel: socket.socket, term_child: bool) -> NoReturn:
    """The server's life: fork, hand over and report until the worker closes its end or dies."""
    try:
        set_title("Fork server")
        for number in _IGNORED:
            signal.signal(number, signal.SIG_IGN)
        woken, wake = os.pipe()
        os.set_blocking(woken, False)
        os.set_blocking(wake, False)
        signal.set_wakeup_fd(wake, warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        inherited = (channel.fileno(), woken, wake)
        spare = _Spare(worker, term_child, inherited)
        while True:
            ready, _, _ = select.select([channel.fileno(), woken], [], [])
            if woken in ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(woken, 4096):
                        pass
                _report_ended(channel)
            if channel.fileno() in ready:
                message = _read_message(channel.fileno())
                if message is None:
                    break
                _start(worker, channel, spare, message, term_child, inherited)
                spare = _Spare(worker, term_child, inherited)
                _report_ended(channel)
        spare.discard()
    except (BrokenPipeError, ConnectionResetError):  # the worker went away: its children die with us
        pass
    except BaseException:
        logger.exception("the fork server failed; the worker forks its children itself until it starts another")
        os._exit(1)
    os._exit(0)


def _start(
    worker: LoopWorker,
    channel: socket.socket,
    spare: _Spare,
    message: bytes,
    term_child: bool,
    inherited: tuple[int, ...],
) -> None:
    """Run the job in ``message`` in the spare (or, if it died waiting, in a child forked for it), tell the
    worker which child it is, and get the job's class ready for the children to come."""
    job = _decode(message)
    if spare.hand(message):
        pid, result_fd = spare.pid, spare.result_fd
    else:
        os.close(spare.result_fd)

        def run(write_fd: int) -> NoReturn:
            for fd in inherited:
                os.close(fd)
            child_main(worker, lambda: job, write_fd, term_child)

        pid, result_fd = fork_process(run)
    socket.send_fds(channel, [_RECORD.pack(_CHILD, pid, 0)], [result_fd])
    os.close(result_fd)
    prepare_job_class(worker, job)
    gc.freeze()  # what the class's first use made lives as long as the server: out of the collector's way


def _decode(message: bytes) -> ReservedJob:
    queue_end = _JOB.size + _JOB.unpack_from(message)[0]
    return ReservedJob.read(message[_JOB.size : queue_end].decode(), message[queue_end:])


def _read_message(fd: int) -> bytes | None:
    """The next job message on ``fd``, whole; ``None`` when the other end was closed first."""
    head = _read_exactly(functools.partial(os.read, fd), _JOB.size)
    if head is None:
        return None
    queue_length, raw_length = _JOB.unpack(head)
    rest = _read_exactly(functools.partial(os.read, fd), queue_length + raw_length)
    return None if rest is None else head + rest


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes | None:
    first = read(size)
    if len(first) == size:  # the usual case: the whole message in one read
        return first
    data = bytearray(first)
    while first and len(data) < size:
        first = read(size - len(data))
        data += first
    return bytes(data) if len(data) == size else None


def _report_ended(channel: socket.socket) -> None:
    """Collect every child that has ended and tell the worker its wait status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        channel.sendall(_RECORD.pack(_EXIT, pid, status))
