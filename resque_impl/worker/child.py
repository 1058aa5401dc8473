"""The parent's handle on a forked child running one job: it reads the child's report and enforces the
deadlines.

The parent waits in ``select`` on the child's report pipe and on the signal wake-up pipe, so it reacts
at once to the child's result, to its death (SIGCHLD), and to signals, and enforces deadlines: the job
timeout, the ``TERM_CHILD`` sequence (wait ``RESQUE_PRE_SHUTDOWN_TIMEOUT``, send TERM, wait
``RESQUE_TERM_TIMEOUT``, send KILL), and, with a memory limit, the child's resident memory (read every
0.1 s; a child over the limit is killed). Once the report is whole the parent goes on: tearing down a
process (its copy of the worker's page tables) costs about as much as forking it, and the parent leaves
that to overlap the next job, reaping the child later (:meth:`Child.reap`).

:attr:`ChildResult.killed_from_outside` tells the loop when a signal nobody in the worker sent (the OOM
killer, an operator, the job itself) ended the child, which reliable fetch handles like the death of
the worker: the job goes back to its queue.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from dataclasses import dataclass
from typing import Protocol

from resque_impl.worker.memory import process_rss_mb
from resque_impl.worker.report import unframe
from resque_impl.worker.signals import WakeupPipe

__all__ = ["MEMORY_POLL", "Child", "ChildResult", "Reaper"]

#: Seconds between two readings of a child's resident memory, when a memory limit is set.
MEMORY_POLL = 0.1


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
                report = unframe(b"".join(self._chunks)) if self._chunks else None
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
                    report = unframe(b"".join(self._chunks)) if self._chunks else None
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
