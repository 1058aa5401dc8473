"""The probe job of a live run: it does what its arguments say and records when it ran.

Workers load it with ``resque-impl work --jobs resque_sim.live.probe``; Ruby Resque workers require its
twin, ``probe.rb`` (whose path ``resque-sim --ruby-probe`` prints).  Both behave the same:

- payload class :data:`PROBE_CLASS` (or, for workers a live run starts, the scenario's class name:
  see :func:`register_probe_names`), args ``[run, job_id, seconds, work, exception, memory_mb]``;
- ``perform`` reads the server clock (Redis ``TIME``, so producer and workers on other hosts agree),
  holds ``memory_mb`` MB (touched, so it is resident), sleeps (``work`` = ``"sleep"``) or burns CPU
  (``"cpu"``) for ``seconds``, or (``"mix:F"``, a job class with ``cpu_fraction`` F) sleeps the share
  1 - F of them, then computes for the rest (CPU seconds of its thread, so slower when it shares the
  GIL), takes the time it finished as the start plus the monotonic time since
  (one round trip fewer than a second ``TIME``), and appends a JSON record to the list
  ``<namespace>:resque-sim:probe:<run>``: ``{"job", "started", "finished", "host", "pid", "ppid", "raised",
  "rss_mb"}`` (``ppid``: its worker's pid, :func:`~resque_impl.worker.worker_pid`; ``rss_mb``: the
  process's resident memory while it held the job's memory, null off Linux);
- then, when ``exception`` is not null, it raises an exception whose failure record names ``exception``.

Its Redis work around ``perform`` (:func:`clock_in`, :func:`clock_out`: one ``TIME``, one ``RPUSH``, and in
a forked child the connection they need) is part of every live job's cost, so ``resque-sim calibrate``'s
probe does the same work and the calibrated overheads include it.

This module is imported by worker processes, so it imports only the library's client side.
"""

from __future__ import annotations

import json
import os
import socket
import time
from importlib import resources
from typing import Any

from resque_impl.default import current
from resque_impl.job import job
from resque_impl.registry import default_registry
from resque_impl.worker.process import worker_pid

__all__ = [
    "PROBE_CLASS",
    "Probe",
    "clock_in",
    "clock_out",
    "probe_records_key",
    "register_probe_names",
    "ruby_probe_path",
]

PROBE_CLASS = "ResqueSim::Probe"
_PAGE = 4096


def probe_records_key(namespace: str, run: str) -> str:
    """The list a probe of ``run`` appends its record to."""
    return f"{namespace}:resque-sim:probe:{run}"


def _hold(megabytes: float) -> bytearray:
    """``megabytes`` of memory, every page written so the process really holds it."""
    size = int(megabytes * 2**20)
    block = bytearray(size)
    block[::_PAGE] = b"\x01" * len(range(0, size, _PAGE))
    return block


def _resident_mb() -> float | None:
    """This process's resident memory in MB (Linux's /proc; ``None`` elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _burn(seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        pass


def _compute(seconds: float) -> None:
    # CPU seconds of this thread, not wall seconds: work of a fixed size, which takes longer while other
    # threads of the process hold the GIL, as a job's computing does.
    deadline = time.thread_time() + seconds
    while time.thread_time() < deadline:
        pass


def clock_in() -> tuple[float, float]:
    """The Redis clock now (one ``TIME`` round trip), and the monotonic clock when it answered."""
    started = current().store.server_time()
    return started, time.monotonic()


def clock_out(key: str, record: dict[str, Any]) -> None:
    """Append ``record`` as compact JSON to the list ``key`` (one round trip)."""
    current().redis.rpush(key, json.dumps(record, separators=(",", ":")))


@job(name=PROBE_CLASS)
class Probe:
    """Registered under :data:`PROBE_CLASS`; enqueued only to explicit queues by the live runner."""

    @staticmethod
    def perform(run: str, job_id: int, seconds: float, work: str, exception: str | None, memory_mb: float) -> None:
        started, mark = clock_in()
        held = _hold(memory_mb) if memory_mb > 0 else None
        if work == "cpu":
            _burn(seconds)
        elif work.startswith("mix:"):
            computing = seconds * float(work[len("mix:") :])
            time.sleep(seconds - computing)
            _compute(computing)
        else:
            time.sleep(seconds)
        rss_mb = _resident_mb()
        del held
        finished = started + (time.monotonic() - mark)
        record = {
            "job": job_id,
            "started": started,
            "finished": finished,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "ppid": worker_pid(),
            "raised": exception,
            "rss_mb": rss_mb,
        }
        clock_out(probe_records_key(current().namespace, run), record)
        if exception is not None:
            raise type("ProbeError", (Exception,), {"resque_name": exception})(f"probe job {job_id} raised {exception}")


def register_probe_names(names: list[str]) -> None:
    """Register the probe under each of ``names`` too (the scenario's class names), so that a live run
    whose workers load this module can push its jobs under those names: the workers then record their
    job metrics under them, as a real deployment's workers would."""
    for name in names:
        if name != PROBE_CLASS:
            default_registry.register(type("NamedProbe", (Probe,), {"name": name}), name)


def ruby_probe_path() -> str:
    """The path of ``probe.rb``, the file a Ruby Resque worker requires to run probe jobs."""
    return str(resources.files("resque_sim.live").joinpath("probe.rb"))
