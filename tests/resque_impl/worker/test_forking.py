"""The parent's handle on a job's child: reading its report, and reaping it once it has gone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from resque_impl.worker.forking import Child


@pytest.fixture
def lingering_child() -> Iterator[tuple[int, int, int]]:
    """A child that reports "performed" at once, then stays alive until told to go (a byte on its pipe)."""
    report_read, report_write = os.pipe()
    go_read, go_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os.close(report_read)
        os.write(report_write, b"P")
        os.read(go_read, 1)
        os._exit(0)
    os.close(report_write)
    os.close(go_read)
    os.set_blocking(report_read, False)
    yield pid, report_read, go_write
    os.close(go_write)


def test_a_one_byte_report_is_read_before_the_child_has_gone(lingering_child: tuple[int, int, int]) -> None:
    pid, report, go = lingering_child
    child = Child(pid, report, timeout=None)

    result = child.wait(None, report_only=True)

    assert result.data == b"P"
    assert os.waitpid(pid, os.WNOHANG) == (0, 0)  # still there
    os.write(go, b"x")
    assert child.wait(None).status == 0
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped


def test_a_reported_child_that_lingers_is_still_stopped_at_its_timeout(lingering_child: tuple[int, int, int]) -> None:
    pid, report, _ = lingering_child
    child = Child(pid, report, timeout=0.2)
    assert child.wait(None, report_only=True).data == b"P"

    started = time.monotonic()
    result = child.wait(None)

    assert os.WIFSIGNALED(result.status)
    assert time.monotonic() - started < 5
