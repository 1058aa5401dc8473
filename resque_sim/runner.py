"""Running a scenario: every replication of the scenario and of each sweep point, in parallel processes.

What a caller (the CLI, a notebook, a benchmark) needs::

    result = run_scenario(scenario, processes=2, progress=lambda done: ...)   # sweeps scenario.sweep
    result.base.slo          # SloResult per SLO, over the replications (with 95% CIs when > 1)
    result.base.record       # the first replication's RunRecord (for jobs.csv, timeseries and charts)
    result.sweep, result.recommended

Replication ``r`` of any point uses seed ``scenario.seed + r``, so every sweep point sees the same jobs
(common random numbers).  The scenario as configured is the *base* point: its SLOs decide ``ok`` (and the
exit status); when its own value of the swept parameter is one of the sweep's values, that point's runs
are reused rather than run twice.

Runs go to a pool of ``processes`` worker processes (spawned, so nothing is inherited but the task),
except on the redis backend, which has one database and so runs one replication at a time here.  Each
process returns only statistics, the per-replication SLO values and, for the base point's first
replication, the full record.

With an ``executor`` naming a dask scheduler (:mod:`resque_sim.executor`) the runs go to that cluster
instead, one task each; their results are the same as here, since a run depends only on its scenario and
seed.  The redis backend always runs here.

On the ``fake`` backend only that first replication runs on fakeredis; every other run (the sweep's
points, further replications) runs on the in-memory twin, which gives byte-identical results for the
same seed (a contract the tests hold on every shipped scenario) about twenty times faster.
"""

from __future__ import annotations

import dataclasses
import functools
import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from resque_sim.engine import Backend, simulate
from resque_sim.estimates import SloResult, SweepPoint, evaluate_slos, recommended, slo_value
from resque_sim.executor import Executor, run_on_dask
from resque_sim.metrics import RunStats, run_stats
from resque_sim.records import RunRecord
from resque_sim.scenario import Scenario

__all__ = ["PointResult", "RunOutcome", "SimulationResult", "run_scenario"]

Progress = Callable[[float], None]
"""Called now and then with the fraction of all the work done (0..1)."""


@dataclass(frozen=True)
class RunOutcome:
    """What one replication sends back: its statistics (without per-job arrays), the value of each SLO,
    and its full record when asked for."""

    stats: RunStats
    slo_values: tuple[float, ...]
    record: RunRecord | None


@dataclass(frozen=True)
class PointResult:
    """One scenario variant (the base, or one sweep value) over all its replications."""

    value: Any
    scenario: Scenario
    runs: tuple[RunStats, ...]
    slo: tuple[SloResult, ...]
    record: RunRecord | None = None

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.slo)

    def as_sweep_point(self) -> SweepPoint:
        return SweepPoint(self.value, self.runs, self.slo)


@dataclass(frozen=True)
class SimulationResult:
    """Everything a run of ``resque-sim`` produced; ``extra`` holds further top-level summary.json
    sections (a live run's ``live``)."""

    scenario: Scenario
    base: PointResult
    sweep: tuple[PointResult, ...]
    sweep_param: str | None
    recommended: Any
    wall_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.base.ok


@dataclass(frozen=True)
class _Task:
    point: int
    replication: int
    scenario: Scenario
    keep_record: bool


def _run_task(task: _Task, backend: Backend, progress: Progress | None) -> RunOutcome:
    """One run, and what it sends back."""
    record = simulate(task.scenario, replication=task.replication, backend=backend, progress=progress)
    stats = run_stats(record)
    values = tuple(slo_value(stats, slo) for slo in task.scenario.slo)
    light = dataclasses.replace(stats, waits={}, latencies={})
    return RunOutcome(light, values, record if task.keep_record else None)


# Set in each pool process by its initializer: the shared array where tasks report their progress.
_progress_slots: Any = None


def _init_pool_process(slots: Any) -> None:
    global _progress_slots  # noqa: PLW0603 - per-process handle to shared memory, set once at start
    _progress_slots = slots


def _run_in_pool(task: _Task, backend: Backend, slot: int) -> RunOutcome:
    slots = _progress_slots

    def report(done: float) -> None:
        slots[slot] = done

    return _run_task(task, backend, report)


def _points(scenario: Scenario, sweep_values: Sequence[Any], param: str | None) -> tuple[list[Scenario], int]:
    """The scenarios to run (the sweep's, then the base unless it is one of them) and the base's index."""
    variants = [scenario.with_value(param, value) for value in sweep_values] if param is not None else []
    base_dump = scenario.model_dump()
    for index, variant in enumerate(variants):
        if variant.model_dump() == base_dump:
            return variants, index
    return [*variants, scenario], len(variants)


def run_scenario(
    scenario: Scenario,
    *,
    processes: int | None = None,
    allow_flush: bool = False,
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> SimulationResult:
    """Run ``scenario``: its replications, and those of each value of its ``sweep``.

    ``processes`` defaults to the number of CPUs; ``allow_flush`` lets the redis backend empty a database
    that holds data; ``executor`` (default local) may send the runs to a dask cluster instead of local
    processes.  Raises :class:`resque_sim.engine.BackendError` when the backend cannot be used, and
    :class:`resque_sim.executor.ExecutorError` when the executor cannot.
    """
    started = time.perf_counter()
    param, values = (scenario.sweep.param, scenario.sweep.values) if scenario.sweep is not None else (None, ())
    variants, base_index = _points(scenario, values, param)
    tasks = [
        _Task(point, replication, variant, keep_record=point == base_index and replication == 0)
        for point, variant in enumerate(variants)
        for replication in range(variant.replications)
    ]
    backend = Backend.for_scenario(scenario, allow_flush=allow_flush).claim()
    backends = [backend if task.keep_record else backend.twin() for task in tasks]
    workers = 1 if scenario.backend == "redis" else max(1, min(processes or os.cpu_count() or 1, len(tasks)))
    run: Callable[[Sequence[_Task], Sequence[Backend], Progress | None], list[RunOutcome]]
    if scenario.backend != "redis" and executor is not None and executor.kind == "dask":
        run = functools.partial(_run_on_dask, executor=executor)
    else:
        run = _run_here if workers == 1 else functools.partial(_run_parallel, workers=workers)
    outcomes = run(tasks, backends, progress)

    results: list[PointResult] = []
    for point, variant in enumerate(variants):
        mine = [(task, outcome) for task, outcome in zip(tasks, outcomes, strict=True) if task.point == point]
        runs = tuple(outcome.stats for _, outcome in mine)
        slo = tuple(evaluate_slos(variant.slo, [outcome.slo_values for _, outcome in mine]))
        record = next((outcome.record for _, outcome in mine if outcome.record is not None), None)
        value = values[point] if point < len(values) else None
        results.append(PointResult(value, variant, runs, slo, record))
    swept = tuple(results[: len(values)])
    return SimulationResult(
        scenario=scenario,
        base=results[base_index],
        sweep=swept,
        sweep_param=param,
        recommended=recommended([point.as_sweep_point() for point in swept]) if swept else None,
        wall_seconds=time.perf_counter() - started,
    )


def _run_here(tasks: Sequence[_Task], backends: Sequence[Backend], progress: Progress | None) -> list[RunOutcome]:
    outcomes = []
    for index, (task, backend) in enumerate(zip(tasks, backends, strict=True)):

        def report(done: float, index: int = index) -> None:
            if progress is not None:
                progress((index + done) / len(tasks))

        outcomes.append(_run_task(task, backend, report))
    if progress is not None:
        progress(1.0)
    return outcomes


def _run_parallel(
    tasks: Sequence[_Task], backends: Sequence[Backend], progress: Progress | None, *, workers: int
) -> list[RunOutcome]:
    context = multiprocessing.get_context("spawn")
    slots = context.Array("d", len(tasks), lock=False)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_pool_process, initargs=(slots,)) as pool:
        futures: list[Future[RunOutcome]] = [
            pool.submit(_run_in_pool, task, backend, slot)
            for slot, (task, backend) in enumerate(zip(tasks, backends, strict=True))
        ]
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                slots[futures.index(future)] = 1.0
                future.result()  # a failed replication stops the run here, with its own traceback
            if progress is not None:
                progress(sum(slots[:]) / len(tasks))
        return [future.result() for future in futures]


def _run_pair(pair: tuple[_Task, Backend]) -> RunOutcome:
    return _run_task(pair[0], pair[1], None)


def _run_on_dask(
    tasks: Sequence[_Task], backends: Sequence[Backend], progress: Progress | None, *, executor: Executor
) -> list[RunOutcome]:
    outcomes = run_on_dask(executor, _run_pair, list(zip(tasks, backends, strict=True)), progress)
    if progress is not None:
        progress(1.0)
    return outcomes
