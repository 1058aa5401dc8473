"""Worker process memory and the restart policies that act on it.

One :class:`WorkerMemoryModel` follows one simulated worker process through its jobs::

    model = WorkerMemoryModel(pool.memory, pool.restart, fork_per_job=pool.fork_per_job)
    model.boot(now, max_jobs=policy_max_jobs)       # a fresh process: base_mb, no jobs yet
    plan = model.start_job(working_set_mb)          # the peak this job reaches, and whether it is OOM-killed
    ...                                             # the engine runs the job, or kills it at plan.oom_at
    model.finish_job(working_set_mb, leak_mb)       # memory left behind
    reason = model.restart_reason(now)              # "max_rss", "max_jobs", "max_age" or None

The model (all sizes in MB):

- A process boots at ``base_mb``.  Its *live* memory is ``base_mb`` plus every leak so far.
- **In-process jobs** (``fork_per_job: false``): during a job the process holds ``live + working_set`` (the
  job first reuses memory the process kept from earlier jobs, so its size is the larger of that and what it
  already had).  Afterwards ``leak_mb`` stays live for good, and of the heap's high-water mark (the largest
  ``live + working_set`` so far) the process keeps the share ``retention`` above its live memory: allocators
  rarely give freed memory back, so RSS ends at ``live + retention * (high_water - live)``.
- **Forked jobs** (``fork_per_job: true``, Resque's default): the job runs in a child that starts as a copy
  of the parent and reaches ``parent + working_set``; leaks and retained memory leave with the child, so the
  parent stays at ``base_mb`` and the child's size is what the OOM limit applies to.
- **OOM**: a job whose size would pass ``oom_limit_mb`` is killed when it gets there, assuming it grows
  evenly over its run (:attr:`JobMemoryPlan.oom_fraction`).  The job fails with ``DirtyExit``; an
  in-process worker dies with it and is replaced (the ``oom`` restart); a forking worker only loses its child.
- **Restart policies**, checked after every job: RSS above ``max_rss_mb``, ``max_jobs`` jobs done (plus a
  per-process jitter the engine draws), or ``max_age`` seconds since boot.  The replacement boots for
  ``boot_time`` seconds before it serves anything.
"""

from __future__ import annotations

from typing import NamedTuple

from resque_sim.scenario import RestartPolicy, WorkerMemory

__all__ = ["JobMemoryPlan", "RestartReason", "WorkerMemoryModel"]

RestartReason = str
"""``"max_rss"``, ``"max_jobs"``, ``"max_age"`` or ``"oom"`` (see :data:`resque_sim.records.DOWN_REASONS`)."""


class JobMemoryPlan(NamedTuple):
    """How big one job gets: ``peak_mb`` (the process, or the forked child, at its largest) and, when that
    passes the OOM limit, the fraction of the job's run after which it is killed (else ``None``)."""

    peak_mb: float
    oom_fraction: float | None = None


class WorkerMemoryModel:
    """The memory of one worker process and its restart policy (see the module docstring)."""

    __slots__ = (
        "_fork",
        "_high_water",
        "_limits",
        "_live",
        "_max_jobs",
        "_memory",
        "born_at",
        "jobs",
        "rss_mb",
    )

    def __init__(self, memory: WorkerMemory, restart: RestartPolicy, *, fork_per_job: bool) -> None:
        self._memory = memory
        self._limits = restart
        self._fork = fork_per_job
        self._max_jobs: int | None = restart.max_jobs
        self._live = self._high_water = self.rss_mb = memory.base_mb
        self.born_at = 0.0
        #: Jobs this process has finished (or lost to the OOM killer).
        self.jobs = 0

    def boot(self, now: float, max_jobs: int | None = None) -> None:
        """Start a fresh process at ``now``; ``max_jobs`` replaces the policy's (e.g. with jitter added)."""
        self._live = self._high_water = self.rss_mb = self._memory.base_mb
        self._max_jobs = max_jobs if max_jobs is not None else self._limits.max_jobs
        self.born_at = now
        self.jobs = 0

    def start_job(self, working_set_mb: float) -> JobMemoryPlan:
        """The plan for a job needing ``working_set_mb`` (a forked child's, or this process's, peak)."""
        base = self.rss_mb if self._fork else self._live
        needed = base + working_set_mb
        peak = needed if self._fork else max(self.rss_mb, needed)
        limit = self._memory.oom_limit_mb
        if limit is None or needed <= limit:
            return JobMemoryPlan(peak)
        # the job grows evenly from `base` to `needed`, and dies where it crosses the limit
        fraction = (limit - base) / working_set_mb if working_set_mb > 0 else 0.0
        return JobMemoryPlan(limit, max(0.0, min(1.0, fraction)))

    def finish_job(self, working_set_mb: float, leak_mb: float) -> float:
        """Account for a job that ran to its end (either outcome); returns the process's RSS after it."""
        self.jobs += 1
        if self._fork:
            return self.rss_mb  # the child, with its leak and its working set, is gone
        self._high_water = max(self._high_water, self._live + working_set_mb)
        self._live += leak_mb
        kept = self._memory.retention * max(0.0, self._high_water - self._live)
        self.rss_mb = self._live + kept
        return self.rss_mb

    def killed_job(self) -> None:
        """Account for a forked job whose child the OOM killer took (the parent is unchanged)."""
        self.jobs += 1

    def restart_reason(self, now: float) -> RestartReason | None:
        """Which restart policy, if any, replaces this process now (checked between jobs)."""
        limits = self._limits
        if limits.max_rss_mb is not None and self.rss_mb > limits.max_rss_mb:
            return "max_rss"
        if self._max_jobs is not None and self.jobs >= self._max_jobs:
            return "max_jobs"
        if limits.max_age is not None and now - self.born_at >= limits.max_age:
            return "max_age"
        return None

    def age_deadline(self) -> float | None:
        """When ``max_age`` expires for this process (``None`` without that policy)."""
        return None if self._limits.max_age is None else self.born_at + self._limits.max_age
