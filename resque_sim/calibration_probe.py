"""The job ``resque-sim calibrate`` gives real workers: it notes when its perform began.

A worker started with ``--jobs resque_sim.calibration_probe`` runs it; each perform appends one line
``<perform start> <enqueued at> <pid> <parent pid>`` (times are ``time.time()`` floats) to the file named
in its arguments, then sleeps ``seconds``.  The start is taken after its first Redis round trip, where a
live probe takes it (from the answer of its ``TIME``), so that what a forked child spends connecting
counts before perform here as it does in a live run's waits.  The measurement goes to a file, which works the same in a
forked child; the two pids tell which worker ran it, forked or not.

Around that it does the Redis work a live run's probe job does (:func:`resque_sim.live.probe.clock_in`
before, :func:`~resque_sim.live.probe.clock_out` after, to a scratch list of the namespace), so the
overheads calibrated here include that work, which every live job pays (in a forked child, a connection
of its own and two round trips: about 3 ms on a 2-core machine), and a calibrated simulation is held to
a live run on equal terms.
"""

from __future__ import annotations

import os
import time

from resque_impl import current, job
from resque_impl.worker.process import worker_pid
from resque_sim.live.probe import clock_in, clock_out

__all__ = ["PROBE_QUEUE", "SCRATCH_KEY", "CalibrationProbe"]

PROBE_QUEUE = "resque-sim-calibration"
#: The list (under the namespace) the probes append to, as a live probe appends its record.
SCRATCH_KEY = "resque-sim:calibration"


@job(name="ResqueSim::CalibrationProbe", queue=PROBE_QUEUE)
class CalibrationProbe:
    """``perform(path, enqueued_at, seconds=0)``: note the start in ``path``, then sleep ``seconds``."""

    @staticmethod
    def perform(path: str, enqueued_at: float, seconds: float = 0.0) -> None:
        clock_in()
        started = time.time()
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, f"{started!r} {enqueued_at!r} {os.getpid()} {worker_pid()}\n".encode())
        finally:
            os.close(descriptor)
        if seconds > 0:
            time.sleep(seconds)
        clock_out(f"{current().namespace}:{SCRATCH_KEY}", {"pid": os.getpid()})
