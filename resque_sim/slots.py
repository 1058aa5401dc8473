"""The simulated workers: one :class:`Slot` per worker (per job slot, with ``concurrency`` above 1), the
worker processes that fill it one after another, and its place in the engine's idle lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from resque_impl import Resque
from resque_impl.worker import Worker
from resque_sim.cpu import ProcessCpu
from resque_sim.distributions import random_stream
from resque_sim.memory import WorkerMemoryModel
from resque_sim.scenario import Scenario, WorkerPool

__all__ = ["Slot", "pool_slots"]


@dataclass(eq=False)
class Slot:
    """One worker of a pool: the worker processes that fill it, one after another."""

    index: int
    name: str
    pool: WorkerPool
    covers: tuple[int, ...]  # codes of the queues its patterns match
    interval: float | None  # None: instant
    fork: bool
    overhead: float  # seconds before each perform: the round trips, and the fork when it forks
    after: float  # seconds after each job's finish that still hold the worker: the rest of a fork's cost
    wake_latency: float  # seconds between an instant worker's wake-up and its reserve
    model: WorkerMemoryModel
    jitter_rng: np.random.Generator
    cpu: ProcessCpu | None = None  # shared by the slots of one process (concurrency above 1)
    worker: Worker | None = None
    incarnation: int = 0
    polled_at: float = 0.0
    wake: simpy.Event | None = None
    woken_for: int = -1
    waiting: bool = False

    def max_jobs(self) -> int | None:
        """This process's job limit: the policy's plus its own jitter, so a pool does not restart in step."""
        restart = self.pool.restart
        if restart.max_jobs is None:
            return None
        return restart.max_jobs + int(self.jitter_rng.integers(0, restart.max_jobs_jitter + 1))


def pool_slots(
    scenario: Scenario, resque: Resque, queue_names: list[str], env: simpy.Environment, seed: int, hostname: str
) -> list[Slot]:
    """The slots of every pool of ``scenario``, numbered ``<pool>-<process>`` (``<pool>-<process>.<slot>``
    with job slots), their queues given as codes (indexes in ``queue_names``)."""
    slots: list[Slot] = []
    for pool in scenario.workers:
        patterns = Worker(pool.queues, resque=resque, hostname=hostname, pid=0).queues
        covers = tuple(code for code, queue in enumerate(queue_names) if patterns.covers(queue))
        # A process's job slots are numbered <process>.<slot>; one slot per process keeps the plain number.
        numbers = [
            (f"{number}.{slot}" if pool.concurrency > 1 else str(number), number)
            for number in range(pool.count)
            for slot in range(pool.concurrency)
        ]
        # One core per process, which its slots' computing parts share (resque_sim.cpu).
        cpus = [ProcessCpu(env) if pool.concurrency > 1 else None for _ in range(pool.count)]
        fork_overhead = pool.fork_overhead if pool.forks else 0.0
        fork_start = fork_overhead if pool.fork_start is None else min(pool.fork_start, fork_overhead)
        for number, process in numbers:
            slots.append(
                Slot(
                    index=len(slots),
                    name=f"{pool.pool}-{number}",
                    pool=pool,
                    covers=covers,
                    interval=None if pool.interval == "instant" else float(pool.interval) + pool.poll_cost,
                    fork=pool.forks,
                    overhead=pool.job_overhead + fork_start,
                    after=fork_overhead - fork_start,
                    wake_latency=pool.wake_latency,
                    model=WorkerMemoryModel(pool.memory, pool.restart, fork_per_job=pool.forks),
                    jitter_rng=random_stream(seed, f"worker/{pool.pool}/{number}/max_jobs_jitter"),
                    cpu=cpus[process],
                )
            )
    return slots
