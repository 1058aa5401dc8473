"""The job ``resque-sim calibrate`` gives real workers: it notes when its perform began.

A worker started with ``--jobs resque_sim.calibration_probe`` runs it; each perform appends one line
``<perform start> <enqueued at> <pid> <parent pid>`` (times are ``time.time()`` floats) to the file named
in its arguments, then sleeps ``seconds``.  A file, not Redis, so the measurement adds no round trip of its
own and works in a forked child; the two pids tell which worker ran it, forked or not.
"""

from __future__ import annotations

import os
import time

from resque_impl import job

__all__ = ["PROBE_QUEUE", "CalibrationProbe"]

PROBE_QUEUE = "resque-sim-calibration"


@job(name="ResqueSim::CalibrationProbe", queue=PROBE_QUEUE)
class CalibrationProbe:
    """``perform(path, enqueued_at, seconds=0)``: note the start in ``path``, then sleep ``seconds``."""

    @staticmethod
    def perform(path: str, enqueued_at: float, seconds: float = 0.0) -> None:
        started = time.time()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, f"{started!r} {enqueued_at!r} {os.getpid()} {os.getppid()}\n".encode())
        finally:
            os.close(descriptor)
        if seconds > 0:
            time.sleep(seconds)
