"""The fork server: one child of a forking worker that forks the children that run its jobs.

Forking write-protects every page of the forking process; from then on, each page it writes while a
child still shares it is copied first (a copy-on-write fault, about 2.5 µs on a 2-core VM). Handling a
job, a worker writes a few hundred pages (Python's reference counts are everywhere), so a worker that
forks every job's child pays about a millisecond per job in faults, beside the fork itself. A process
that does nothing but fork writes almost nothing. So, from its first job on, a forking worker has a
fork server fork its children:

* the server keeps :data:`SPARES` children forked ahead, *spares*, each waiting on a pipe before its
  job is known, and sends the worker each spare's pid, the write end of the pipe it waits on and the
  read end of the pipe it will report on (``SCM_RIGHTS``);
* :meth:`ForkServer.run` writes the job's queue and bytes straight to the oldest spare, which decodes
  them as the worker did and runs the job as any child does
  (:func:`~resque_impl.worker.forking.child_main`), and tells the server that spare is taken (and the
  job's class, whose hooks the server looks up once for the children to come); the server forks its
  replacement. Two spares keep the fork (a millisecond or more of kernel time) off the worker's way:
  the next job finds one ready while the server forks the one after;
* the server collects its children and tells the worker how each one ended (its wait status).

The worker watches over such a child as over one it forked (:class:`~resque_impl.worker.forking.Child`,
with the server as its :class:`~resque_impl.worker.forking.Reaper`): it reads the report and enforces
the timeout, the memory limit and ``TERM_CHILD`` by pid. The server dies with the worker, and its
children with it (``PR_SET_PDEATHSIG``), so a worker killed mid-job leaves nothing running; it ignores
the signals meant for the worker.

The worker forks a child itself, as Ruby Resque does, where the child must see the worker as it is at
that job: with ``before_fork`` hooks (Ruby runs them in the worker, with the job, before forking its
child), for a job whose bytes did not decode (the :class:`ReservedJob` keeps why, which a child could
not rebuild), and with ``prefork`` off. A dead spare or a dead server costs no job: the job goes to the
next spare, or gets an ordinary fork and the server is started again.
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
from collections import deque
from collections.abc import Callable
from typing import NoReturn

from resque_impl.errors import TermException
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.forking import Child, child_main, fork_process, fork_with_parent, prepare_job_class
from resque_impl.worker.outcome import ReservedJob
from resque_impl.worker.titles import set_title

__all__ = ["SPARES", "ForkServer"]

#: How many children the server keeps forked ahead of the jobs.
SPARES = 2
# Worker to spare, a job: the queue's and the bytes' lengths, then both.
_JOB = struct.Struct(">II")
# Worker to server, a spare used up (given a job, or found dead): its pid and the length of the job's class
# name (empty for a dead spare), then the name.
_TAKEN = struct.Struct(">iI")
# Server to worker: b"S", a spare's pid (its job pipe's write end and report pipe's read end attached), or
# b"X", a child's pid and wait status.
_RECORD = struct.Struct(">cii")
_SPARE, _EXIT = b"S", b"X"
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
        self._spares: deque[tuple[int, int, int]] = deque()  # (pid, job pipe, report pipe), oldest first
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
        """Have a spare run ``job``; the worker's handle on it, or ``None`` if the server is gone or its
        spares keep dying (the caller forks the child itself)."""
        queue = job.queue.encode()
        message = _JOB.pack(len(queue), len(job.raw)) + queue + job.raw
        for _ in range(SPARES + 1):
            spare = self._next_spare()
            if spare is None:
                return None
            pid, job_fd, result_fd = spare
            if _write_all(job_fd, message):
                self._taken(pid, job.class_name or "")
                self._running.add(pid)
                return Child(pid, result_fd, timeout, memory_limit_mb, reaper=self)
            os.close(result_fd)  # it died waiting
            self._taken(pid, "")
        return None

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
        """Stop the server (its spares with it) and collect it."""
        self._channel.close()
        self._lost()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)

    def _next_spare(self) -> tuple[int, int, int] | None:
        """The oldest spare, after taking in what the server has sent (waiting for a spare if none is
        ready); ``None`` once the server is gone."""
        while self.alive and select.select([self._channel], [], [], 0)[0]:
            self._receive()
        while self.alive and not self._spares:
            self._receive()
        return self._spares.popleft() if self.alive else None

    def _taken(self, pid: int, class_name: str) -> None:
        """Tell the server spare ``pid`` is used up, so that it forks another."""
        name = class_name.encode()
        try:
            self._channel.sendall(_TAKEN.pack(pid, len(name)) + name)
        except OSError:
            self._lost()  # its children die with it: a running one counts as killed

    def _receive(self) -> None:
        """Take in one record from the server (blocking): a new spare, or a child's end."""
        try:
            data, fds, _, _ = socket.recv_fds(self._channel, _RECORD.size, 2)
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
            return
        kind, pid, status = _RECORD.unpack(data)
        if kind == _SPARE and len(fds) == 2:
            self._spares.append((pid, fds[0], fds[1]))
        elif kind == _EXIT and pid in self._running:
            self._ended[pid] = status
        elif kind == _EXIT:
            self._drop_spare(pid)

    def _drop_spare(self, pid: int) -> None:
        """Forget spare ``pid``, which died waiting (if the worker still holds it), and have it replaced."""
        for spare in self._spares:
            if spare[0] == pid:
                self._spares.remove(spare)
                os.close(spare[1])
                os.close(spare[2])
                self._taken(pid, "")
                return

    def _lost(self) -> None:
        """The server is gone: its spares are dying with it (one may still take a job before it does)."""
        self.alive = False
        while self._spares:
            _, job_fd, result_fd = self._spares.popleft()
            os.close(job_fd)
            os.close(result_fd)


def _write_all(fd: int, data: bytes) -> bool:
    """Write ``data`` to pipe ``fd`` and close it; ``False`` if its reader is gone."""
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    except OSError:  # BrokenPipeError: the spare died waiting
        return False
    finally:
        os.close(fd)
    return True


def _fork_spare(worker: LoopWorker, channel: socket.socket, term_child: bool, inherited: tuple[int, ...]) -> int:
    """In the server: fork a spare, a child waiting on a pipe for its job, and send it to the worker."""
    job_read, job_write = os.pipe()

    def receive() -> ReservedJob | None:
        for fd in (job_write, *inherited):
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

    pid, result_fd = fork_process(lambda write_fd: child_main(worker, receive, write_fd, term_child))
    os.close(job_read)
    try:
        socket.send_fds(channel, [_RECORD.pack(_SPARE, pid, 0)], [job_write, result_fd])
    finally:
        os.close(job_write)
        os.close(result_fd)
    return pid


def _serve(worker: LoopWorker, channel: socket.socket, term_child: bool) -> NoReturn:
    """The server's life: fork spares and report their ends until the worker closes its end or dies."""
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
        # The worker hears of each spare once and says once that it is used up: each such word (and
        # only that) is answered with a new spare, so the server never holds more than SPARES.
        waiting = {_fork_spare(worker, channel, term_child, inherited) for _ in range(SPARES)}
        prepared: set[str] = set()
        while True:
            ready, _, _ = select.select([channel.fileno(), woken], [], [])
            if woken in ready:
                with contextlib.suppress(BlockingIOError):
                    while os.read(woken, 4096):
                        pass
                _report_ended(channel)
            if channel.fileno() in ready:
                taken = _read_taken(channel.fileno())
                if taken is None:
                    break
                pid, class_name = taken
                if pid in waiting:
                    waiting.remove(pid)
                    waiting.add(_fork_spare(worker, channel, term_child, inherited))
                if class_name and class_name not in prepared:
                    prepared.add(class_name)
                    prepare_job_class(worker, class_name)
                    gc.freeze()  # what the class's first use made lives as long as the server
                _report_ended(channel)
    except (BrokenPipeError, ConnectionResetError):  # the worker went away: its children die with us
        pass
    except BaseException:
        logger.exception("the fork server failed; the worker forks its children itself until it starts another")
        os._exit(1)
    os._exit(0)


def _read_taken(fd: int) -> tuple[int, str] | None:
    """The next word from the worker (a used-up spare's pid and its job's class name); ``None`` when the
    worker closed its end."""
    head = _read_exactly(functools.partial(os.read, fd), _TAKEN.size)
    if head is None:
        return None
    pid, length = _TAKEN.unpack(head)
    name = _read_exactly(functools.partial(os.read, fd), length) if length else b""
    return None if name is None else (pid, name.decode())


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
