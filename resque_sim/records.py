"""What one simulated run leaves behind, stored as columns (never an object per job).

The engine writes a :class:`Recorder` while it runs; :meth:`Recorder.freeze` turns it into a
:class:`RunRecord` of numpy arrays, which pickles cheaply (replications run in other processes) and is all
that :mod:`resque_sim.metrics` reads.  A job attempt costs 53 bytes in the job table, so a 1,000,000-job run's records
stay well under 100 MB.

Rows of the job table are *attempts*: every attempt is a Resque job of its own (a retry is enqueued again),
and shares its ``job_id`` with the job's other attempts.  Times are simulated seconds from the start of the
run; a time that has not happened (a job never started) is NaN.

Outcomes (:data:`OUTCOMES`): ``pending`` (still queued at the end), ``running`` (started, unfinished at the
end), ``completed``, ``failed`` (and not retried) and ``retried`` (failed, and enqueued again as the next
attempt).
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "COMPLETED",
    "DOWN_REASONS",
    "FAILED",
    "OUTCOMES",
    "PENDING",
    "RETRIED",
    "RUNNING",
    "Recorder",
    "RunRecord",
]

OUTCOMES = ("pending", "running", "completed", "failed", "retried")
PENDING, RUNNING, COMPLETED, FAILED, RETRIED = range(len(OUTCOMES))

#: Why a worker went down (the ``reason`` of a worker event): its restart policy, or the OOM killer.
DOWN_REASONS = ("max_jobs", "max_rss", "max_age", "oom")

_NAN = math.nan


class _Names:
    """Interns names as small integer codes, in order of first use (so codes are reproducible)."""

    __slots__ = ("codes", "names")

    def __init__(self, names: Sequence[str] = ()) -> None:
        self.names: list[str] = []
        self.codes: dict[str, int] = {}
        for name in names:
            self.code(name)

    def code(self, name: str) -> int:
        code = self.codes.get(name)
        if code is None:
            code = self.codes[name] = len(self.names)
            self.names.append(name)
        return code


class Recorder:
    """The engine's write side.  Every method is O(1) and appends to typed arrays.

    :param classes: job class names, :param queues: queue names and :param workers: worker names, each
        addressed by its index in later calls.
    """

    def __init__(self, classes: Sequence[str], queues: Sequence[str], workers: Sequence[str]) -> None:
        self.classes = tuple(classes)
        self.queues = tuple(queues)
        self.workers = tuple(workers)
        self._exceptions = _Names()
        # one row per attempt
        self.job_id = array("q")
        self.job_class = array("h")
        self.queue = array("h")
        self.attempt = array("h")
        self.enqueued_at = array("d")
        self.reserved_at = array("d")
        self.started_at = array("d")
        self.finished_at = array("d")
        self.worker = array("i")
        self.outcome = array("b")
        self.exception = array("h")
        # worker events: a worker going down (with a reason) and coming back up after booting
        self.down_at = array("d")
        self.down_worker = array("i")
        self.down_reason = array("b")
        self.up_at = array("d")
        self.up_worker = array("i")
        # worker memory: RSS samples (at job start, its peak, and after each job)
        self.rss_at = array("d")
        self.rss_worker = array("i")
        self.rss_mb = array("f")
        self.rss_peak = array("b")
        # the store's own memory (redis backend), sampled over time
        self.store_memory_at = array("d")
        self.store_memory_bytes = array("q")

    # -- jobs ---------------------------------------------------------------------------------------
    def enqueued(self, job_id: int, job_class: int, queue: int, attempt: int, now: float) -> int:
        """A new attempt was pushed at ``now``; returns its row."""
        row = len(self.job_id)
        self.job_id.append(job_id)
        self.job_class.append(job_class)
        self.queue.append(queue)
        self.attempt.append(attempt)
        self.enqueued_at.append(now)
        self.reserved_at.append(_NAN)
        self.started_at.append(_NAN)
        self.finished_at.append(_NAN)
        self.worker.append(-1)
        self.outcome.append(PENDING)
        self.exception.append(-1)
        return row

    def started(self, row: int, worker: int, reserved_at: float, started_at: float) -> None:
        """Attempt ``row`` was reserved by ``worker`` at ``reserved_at``; ``perform`` began at ``started_at``."""
        self.worker[row] = worker
        self.reserved_at[row] = reserved_at
        self.started_at[row] = started_at
        self.outcome[row] = RUNNING

    def finished(self, row: int, now: float, outcome: int, exception: str | None = None) -> None:
        """Attempt ``row`` ended at ``now`` with ``outcome`` (and the exception's class name if it failed)."""
        self.finished_at[row] = now
        self.outcome[row] = outcome
        if exception is not None:
            self.exception[row] = self._exceptions.code(exception)

    def retried(self, row: int) -> None:
        """The failed attempt ``row`` was followed by another attempt."""
        self.outcome[row] = RETRIED

    # -- workers ------------------------------------------------------------------------------------
    def worker_down(self, worker: int, now: float, reason: int) -> None:
        """``worker`` stopped serving at ``now`` (an index into :data:`DOWN_REASONS`)."""
        self.down_at.append(now)
        self.down_worker.append(worker)
        self.down_reason.append(reason)

    def worker_up(self, worker: int, now: float) -> None:
        """``worker``'s replacement finished booting at ``now``."""
        self.up_at.append(now)
        self.up_worker.append(worker)

    def rss(self, worker: int, now: float, megabytes: float, *, peak: bool = False) -> None:
        """``worker``'s resident memory was ``megabytes`` at ``now``; ``peak`` marks the largest size a job
        reached (the forked child's, for a forking worker), recorded at the job's start."""
        self.rss_at.append(now)
        self.rss_worker.append(worker)
        self.rss_mb.append(megabytes)
        self.rss_peak.append(peak)

    def store_memory(self, now: float, used_bytes: int) -> None:
        self.store_memory_at.append(now)
        self.store_memory_bytes.append(used_bytes)

    @property
    def rows(self) -> int:
        return len(self.job_id)

    def freeze(self, **about: Any) -> RunRecord:
        """The finished record, sharing this recorder's buffers; ``about`` fills :class:`RunRecord`'s
        descriptive fields."""
        return RunRecord(
            classes=self.classes,
            queues=self.queues,
            workers=self.workers,
            exceptions=tuple(self._exceptions.names),
            jobs={
                "job_id": _numpy(self.job_id),
                "job_class": _numpy(self.job_class),
                "queue": _numpy(self.queue),
                "attempt": _numpy(self.attempt),
                "enqueued_at": _numpy(self.enqueued_at),
                "reserved_at": _numpy(self.reserved_at),
                "started_at": _numpy(self.started_at),
                "finished_at": _numpy(self.finished_at),
                "worker": _numpy(self.worker),
                "outcome": _numpy(self.outcome),
                "exception": _numpy(self.exception),
            },
            downs={
                "at": _numpy(self.down_at),
                "worker": _numpy(self.down_worker),
                "reason": _numpy(self.down_reason),
            },
            ups={"at": _numpy(self.up_at), "worker": _numpy(self.up_worker)},
            rss={
                "at": _numpy(self.rss_at),
                "worker": _numpy(self.rss_worker),
                "mb": _numpy(self.rss_mb),
                "peak": _numpy(self.rss_peak).astype(bool),
            },
            store_memory={"at": _numpy(self.store_memory_at), "bytes": _numpy(self.store_memory_bytes)},
            **about,
        )


def _numpy(column: array[Any]) -> npt.NDArray[Any]:
    """A column as a numpy array sharing the recorder's buffer: no copy, so a million-job run's records are
    never held twice.  (The recorder must not be appended to afterwards, which ``array`` itself enforces
    while the buffer is shared.)"""
    return np.frombuffer(column, dtype=column.typecode) if len(column) else np.array([], column.typecode)


@dataclass(frozen=True)
class RunRecord:
    """Everything one replication produced, as numpy columns plus the names their codes refer to.

    ``jobs`` columns: ``job_id``, ``job_class`` / ``queue`` (codes into ``classes`` / ``queues``),
    ``attempt``, ``enqueued_at``, ``reserved_at``, ``started_at`` (after any fork overhead),
    ``finished_at``, ``worker`` (code into ``workers``, -1 if never started), ``outcome`` (code into
    :data:`OUTCOMES`), ``exception`` (code into ``exceptions``, -1 if none).  ``downs`` / ``ups``: worker
    restarts (``at``, ``worker``, and the ``reason`` code into :data:`DOWN_REASONS`) and the moments their
    replacements were ready.  ``rss``: worker memory samples (``at``, ``worker``, ``mb``, and ``peak``: a
    job's largest size rather than the resident size between jobs).  ``store_memory``: Redis ``used_memory``
    samples (redis backend only).
    """

    classes: tuple[str, ...]
    queues: tuple[str, ...]
    workers: tuple[str, ...]
    exceptions: tuple[str, ...]
    jobs: dict[str, npt.NDArray[Any]]
    downs: dict[str, npt.NDArray[Any]]
    ups: dict[str, npt.NDArray[Any]]
    rss: dict[str, npt.NDArray[Any]]
    store_memory: dict[str, npt.NDArray[Any]]
    scenario: str = ""
    replication: int = 0
    seed: int = 0
    backend: str = "memory"
    duration: float = 0.0
    warmup: float = 0.0
    wall_seconds: float = 0.0

    @property
    def attempts(self) -> int:
        """Rows in the job table."""
        return len(self.jobs["job_id"])
