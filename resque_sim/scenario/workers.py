"""Worker pools: how many workers, which queues, how they poll, fork, use memory and restart."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Annotated, Literal

from annotated_types import Ge
from pydantic import BeforeValidator, Field, model_validator

from resque_sim.scenario.base import Model
from resque_sim.scenario.errors import FieldProblem
from resque_sim.scenario.units import (
    Fraction,
    Megabytes,
    Name,
    PositiveMegabytes,
    PositiveSeconds,
    Seconds,
    parse_interval,
    split_queue_list,
)

__all__ = ["RestartPolicy", "WorkerMemory", "WorkerPool"]


class WorkerMemory(Model):
    """Worker process memory: ``base_mb`` at boot (default 50), the share of each job's working set it keeps
    when jobs run in-process (``retention``, default 0) and the size at which it is OOM-killed
    (``oom_limit_mb``, default none).
    """

    base_mb: Megabytes = 50.0
    retention: Fraction = 0.0
    oom_limit_mb: PositiveMegabytes | None = None

    @model_validator(mode="after")
    def _limit_above_base(self) -> WorkerMemory:
        if self.oom_limit_mb is not None and self.oom_limit_mb <= self.base_mb:
            raise FieldProblem(f"must be above base_mb ({self.base_mb})", loc=("oom_limit_mb",))
        return self


class RestartPolicy(Model):
    """When a worker replaces itself, and how long the replacement takes to boot.

    A worker restarts after ``max_jobs`` jobs (plus a per-worker uniform 0..``max_jobs_jitter`` so a pool
    does not restart in lockstep), above ``max_rss_mb``, or after ``max_age`` seconds; each limit defaults
    to none.  ``boot_time`` (default 0 s) is the time before a replacement reserves its first job.
    """

    max_jobs: Annotated[int, Ge(1)] | None = None
    max_jobs_jitter: Annotated[int, Ge(0)] = 0
    max_rss_mb: PositiveMegabytes | None = None
    max_age: PositiveSeconds | None = None
    boot_time: Seconds = 0.0

    @model_validator(mode="after")
    def _jitter_needs_max_jobs(self) -> RestartPolicy:
        if self.max_jobs_jitter and self.max_jobs is None:
            raise FieldProblem("needs max_jobs", loc=("max_jobs_jitter",))
        return self


class WorkerPool(Model):
    """``count`` identical workers reserving from ``queues`` in strict priority (Resque patterns allowed).

    ``queues`` is a list or a comma-separated string like Resque's QUEUES.
    Defaults: ``pool`` "default", ``count`` 1, ``queues`` ["*"], ``interval`` 5 s (Resque's default;
    ``"instant"`` = woken at once on enqueue), ``fork_per_job`` true, ``fork_overhead`` 0 s (added to every
    forked job), default ``memory`` and no ``restart`` limits.  What a real worker spends besides perform,
    each 0 s unless set here or by a calibration (docs/calibration.md): ``job_overhead`` (added to every
    job, forked or not: the fetch and acknowledge round trips), ``wake_latency`` (an instant worker's delay
    between a push and its reserve) and ``poll_cost`` (added to a polling worker's interval).
    ``fork_start`` (unset by default): the part of ``fork_overhead`` before perform; the rest follows the job's
    finish, holding the worker but not the job (unset: all of ``fork_overhead`` precedes perform).

    ``concurrency`` (default 1) is ``resque-impl work --concurrency``: each of the ``count`` processes runs
    that many job slots, so the pool serves ``count * concurrency`` jobs at once. Slots never fork (an
    explicit ``fork_per_job: true`` with ``concurrency`` above 1 is refused, as the CLI refuses it); each
    slot is simulated as a worker of its own (its own memory, restarts and overheads); the slots of one
    process overlap their jobs' waiting but take turns at their computing (a job class's ``cpu_fraction``).
    """

    pool: Name = "default"
    count: Annotated[int, Ge(1)] = 1
    concurrency: Annotated[int, Ge(1)] = 1
    queues: Annotated[tuple[Name, ...], BeforeValidator(split_queue_list), Field(min_length=1)] = ("*",)
    interval: Annotated[float | Literal["instant"], BeforeValidator(parse_interval)] = 5.0
    fork_per_job: bool = True
    fork_overhead: Seconds = 0.0
    fork_start: Seconds | None = None
    job_overhead: Seconds = 0.0
    wake_latency: Seconds = 0.0
    poll_cost: Seconds = 0.0
    memory: WorkerMemory = Field(default_factory=WorkerMemory)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)

    @model_validator(mode="after")
    def _slots_do_not_fork(self) -> WorkerPool:
        if self.concurrency > 1 and self.fork_per_job and "fork_per_job" in self.model_fields_set:
            raise FieldProblem(
                "cannot be true with concurrency above 1 (job slots run in threads of one process); "
                "set fork_per_job: false or leave it out",
                loc=("fork_per_job",),
            )
        return self

    @property
    def forks(self) -> bool:
        """Whether the pool's workers fork a child per job (never with job slots)."""
        return self.fork_per_job and self.concurrency == 1

    @model_validator(mode="after")
    def _restart_above_base(self) -> WorkerPool:
        max_rss = self.restart.max_rss_mb
        if max_rss is not None and max_rss <= self.memory.base_mb:
            raise FieldProblem(
                f"must be above memory.base_mb ({self.memory.base_mb}), or every job would restart the worker",
                loc=("restart", "max_rss_mb"),
            )
        return self

    def serves(self, queue: str) -> bool:
        """Whether one of ``queues`` matches ``queue`` (fnmatch patterns, minus ``!name`` exclusions)."""
        patterns = [p for p in self.queues if not p.startswith("!")]
        excluded = [p[1:] for p in self.queues if p.startswith("!")]
        return any(fnmatchcase(queue, p) for p in patterns) and not any(fnmatchcase(queue, p) for p in excluded)
