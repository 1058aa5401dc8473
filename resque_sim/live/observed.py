"""What a live run observed, as the simulator's :class:`~resque_sim.records.RunRecord`, so the report
writer, the metrics and ``jobs.csv`` treat a live run exactly as they treat a simulated one.

Times are scenario seconds: server-clock seconds since the run began, times the speed-up, so a live run
at ``--speed 10`` lines up with its simulation job by job.  As at the end of a simulation, a job that had
not started by the end of the observed time is ``pending`` and one that had not finished is ``running``.
The probe sees the start of ``perform``, not the reserve before it, so a live job's ``reserved_at`` is its
``started_at`` (the fork of a forking worker, which the simulation counts as busy time, is not).  Each
probe's resident memory while it held the job's memory is the job's peak RSS sample (a forked child's,
for a forking worker, as in the simulation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from resque_sim.live.plan import PlannedJob
from resque_sim.records import COMPLETED, FAILED, Recorder, RunRecord
from resque_sim.scenario import Scenario

__all__ = ["Enqueued", "Timeline", "attached_worker_names", "observed_record"]


class Enqueued(NamedTuple):
    """A planned job and when it was really enqueued (scenario seconds)."""

    job: PlannedJob
    at: float


class Timeline(NamedTuple):
    """How server-clock epoch seconds map to scenario seconds, and where observation ended."""

    origin: float  # server clock at scenario time 0
    speed: float
    end: float  # scenario seconds observed

    def at(self, server_time: float) -> float:
        return (server_time - self.origin) * self.speed


def attached_worker_names(worker_ids: Sequence[str], records: Sequence[Mapping[str, Any]]) -> list[str]:
    """Names (``host:pid``) of the workers that ran ``records``: the registered worker whose pid is the
    probe's own (in-process) or its parent's (a forked child), else the probe's process itself."""
    registered = {tuple(worker_id.split(":")[:2]) for worker_id in worker_ids}
    names = {attached_worker_name(registered, record) for record in records}
    return sorted(names)


def attached_worker_name(registered: set[tuple[str, ...]], record: Mapping[str, Any]) -> str:
    host, pid, ppid = str(record["host"]), str(record["pid"]), str(record["ppid"])
    if (host, pid) not in registered and (host, ppid) in registered:
        pid = ppid
    return f"{host}:{pid}"


def observed_record(
    scenario: Scenario,
    *,
    seed: int,
    timeline: Timeline,
    enqueued: Sequence[Enqueued],
    records: Sequence[Mapping[str, Any]],
    workers: Sequence[str],
    worker_of: Callable[[Mapping[str, Any]], int],
    downs: Sequence[tuple[int, float, int]] = (),
    ups: Sequence[tuple[int, float]] = (),
    wall_seconds: float = 0.0,
) -> RunRecord:
    """The run's record: one row per enqueued job, in id order, filled in from its probe record if any."""
    queues = list(scenario.queues)
    classes = list(scenario.jobs)
    recorder = Recorder(classes, queues, workers)
    class_codes = {name: code for code, name in enumerate(classes)}
    queue_codes = {name: code for code, name in enumerate(queues)}
    by_job = {int(record["job"]): record for record in records}
    end = timeline.end
    for job, at in enqueued:
        row = recorder.enqueued(job.job_id, class_codes[job.job_class], queue_codes[job.queue], 1, at)
        record = by_job.get(job.job_id)
        if record is None:
            continue
        started = timeline.at(float(record["started"]))
        if started >= end:
            continue
        worker = worker_of(record)
        recorder.started(row, worker, started, started)
        rss_mb = record.get("rss_mb")
        if rss_mb is not None and worker >= 0:
            recorder.rss(worker, started, float(rss_mb), peak=True)
        finished = timeline.at(float(record["finished"]))
        if finished <= end and math.isfinite(finished):
            raised = record.get("raised")
            recorder.finished(row, finished, FAILED if raised else COMPLETED, raised or None)
    for worker, at, reason in downs:
        recorder.worker_down(worker, at, reason)
    for worker, at in ups:
        recorder.worker_up(worker, at)
    return recorder.freeze(
        scenario=scenario.name,
        replication=0,
        seed=seed,
        backend="live",
        duration=end,
        warmup=min(scenario.warmup, end),
        wall_seconds=wall_seconds,
    )
