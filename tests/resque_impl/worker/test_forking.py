"""How a job's child that reported nothing is described, on real children."""

from __future__ import annotations

import os
import signal

from resque_impl.worker.forking import describe_end


def _child_ending(how: int | None) -> tuple[int, int]:
    """Fork a child that kills itself with signal ``how`` (or exits 3 for ``None``); its pid and status."""
    pid = os.fork()
    if pid == 0:
        try:
            if how is not None:
                signal.pthread_sigmask(signal.SIG_UNBLOCK, [how])
                os.kill(os.getpid(), how)
        finally:
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return pid, status


def test_a_child_killed_by_a_signal_is_described_as_ruby_prints_its_process_status() -> None:
    # Ruby Resque: DirtyExit.new("Child process received unhandled signal #{$?}"), $? a Process::Status.
    pid, status = _child_ending(signal.SIGKILL)
    assert describe_end(pid, status) == f"Child process received unhandled signal pid {pid} SIGKILL (signal 9)"


def test_a_real_time_signal_has_no_name_as_in_ruby() -> None:
    number = signal.SIGRTMIN + 1
    pid, status = _child_ending(number)
    assert describe_end(pid, status) == f"Child process received unhandled signal pid {pid} signal {number}"


def test_a_child_that_exited_is_described_by_its_status() -> None:
    pid, status = _child_ending(None)
    assert describe_end(pid, status) == "Child process exited with status 3 before reporting a result"
