"""Waiting against computing in a worker process with job slots (``concurrency`` above 1).

A job class's ``cpu_fraction`` (0 by default) is the share of its drawn duration spent computing in
Python; the rest is waiting (the network, a disk, a sleep). The slots of one ``resque-impl work
--concurrency N`` process wait side by side, but compute one at a time: threads take turns holding the
GIL, and a coroutine that computes keeps the event loop until it next awaits. So each process has one
:class:`ProcessCpu`, a SimPy resource of capacity 1 that a job holds for its computing part, after its
waiting part. With N slots busy, a process therefore completes jobs at ``min(N / d, 1 / (f * d))`` per
second for jobs of duration ``d`` and fraction ``f``: N times one slot's rate for pure waiting, and one
slot's rate for pure computing, whatever N.

The CPU is taken first come, first served, for the whole computing part: exact for coroutines; for
threads, which the interpreter switches every few milliseconds, it gives the same throughput and the
same mean time in the system, while spreading individual jobs' times less than time slicing would.
A process with one slot, or jobs that only wait, never queue for it, so their model is unchanged.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

__all__ = ["ProcessCpu", "hold_job"]


class ProcessCpu:
    """The one core a worker process's Python code runs on (its GIL, or its event loop)."""

    def __init__(self, env: simpy.Environment) -> None:
        self._env = env
        self._core = simpy.Resource(env, capacity=1)

    def compute(self, seconds: float) -> Generator[simpy.Event, Any, None]:
        """Wait for the core, then hold it for ``seconds`` (a SimPy process body: ``yield from``)."""
        with self._core.request() as turn:
            yield turn
            yield self._env.timeout(seconds)


def hold_job(
    env: simpy.Environment, cpu: ProcessCpu | None, before: float, duration: float, cpu_fraction: float
) -> Generator[simpy.Event, Any, None]:
    """A job's time in its slot: ``before`` seconds (the worker's own per-job overhead), then the waiting
    part of ``duration``, then its computing part (``duration * cpu_fraction``) on the process's ``cpu``.
    Without a shared ``cpu`` (one slot per process) or computing, the job takes ``before + duration``."""
    computing = duration * cpu_fraction
    if cpu is None or computing <= 0:
        yield env.timeout(before + duration)
        return
    yield env.timeout(before + duration - computing)
    yield from cpu.compute(computing)
