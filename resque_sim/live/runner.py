"""A live run: the scenario replayed in wall-clock time into a real Redis and worked by real workers.

What a caller needs::

    outcome = run_live(scenario, LiveOptions("redis://localhost:6379/0?namespace=sim", speed=10))
    outcome.result        # a SimulationResult, backend "live": write_outputs() and the SLOs as for a simulation
    outcome.interrupted, outcome.deaths

Raises :class:`~resque_sim.live.probe_store.LiveError`, before anything is enqueued, when the scenario
cannot be replayed or the Redis cannot be used (unreachable, queued jobs or another run's probe keys in
the namespace, workers registered without ``attach`` or none with it).

The run: start the pools (unless ``attach``) and wait until they are registered; push each planned job
(:mod:`~resque_sim.live.plan`) as a probe job at ``time / speed`` seconds after the start, with its
drawn duration divided by ``speed``; poll the pools meanwhile.  At the end of the scenario's duration, or
at Ctrl-C (SIGINT, which asks the run to stop), arrivals stop, probe jobs still queued are taken back, the pools
finish their current jobs and stop (attached workers are waited for), the probe records are read and the
run's keys deleted.  Time ``t`` is measured on the Redis server's clock, the one the probes read.
"""

from __future__ import annotations

import signal
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Literal, NamedTuple

from resque_sim.estimates import evaluate_slos, slo_value
from resque_sim.live.observed import Enqueued, Timeline, attached_worker_name, attached_worker_names, observed_record
from resque_sim.live.plan import check_replayable, plan_jobs
from resque_sim.live.pools import Death, WorkerPools
from resque_sim.live.probe import PROBE_CLASS
from resque_sim.live.probe_store import LiveError, LiveStore
from resque_sim.metrics import run_stats
from resque_sim.records import RunRecord
from resque_sim.runner import PointResult, SimulationResult
from resque_sim.scenario import Scenario

__all__ = ["LiveOptions", "LiveOutcome", "LiveProgress", "run_live"]

_TICK = 0.05  # seconds between looks at the pools and the progress while waiting for the next arrival
_PROGRESS_EVERY = 0.5
_REGISTER_TIMEOUT = 30.0
_STOP_GRACE = 10.0  # seconds beyond the longest job for workers to finish theirs at the end


@dataclass(frozen=True)
class LiveOptions:
    """How to run live: the Redis ``url`` (with its namespace), ``attach`` to workers already running
    instead of starting the scenario's, ``speed`` (durations and gaps divided by it), ``work`` (probe
    jobs ``sleep`` or burn ``cpu``), ``allow_flush`` (empty the namespace's queues and stale probe keys)."""

    url: str
    attach: bool = False
    speed: float = 1.0
    work: Literal["sleep", "cpu"] = "sleep"
    allow_flush: bool = False


class LiveProgress(NamedTuple):
    """Scenario seconds done of ``total``, jobs enqueued and jobs finished so far."""

    elapsed: float
    total: float
    enqueued: int
    finished: int


@dataclass(frozen=True)
class LiveOutcome:
    """A live run's result (as a simulation's), whether Ctrl-C cut it short, and the workers that died."""

    result: SimulationResult
    interrupted: bool
    deaths: tuple[Death, ...]


class _Clock:
    """Scenario time from the host clock, anchored to the Redis clock at the start (one round trip)."""

    def __init__(self, target: LiveStore, speed: float) -> None:
        self.speed = speed
        before = time.time()
        server = target.server_time()
        after = time.time()
        self.origin = server  # scenario time 0 on the server clock
        self.offset = server - (before + after) / 2  # server clock minus host clock

    def server_now(self) -> float:
        return time.time() + self.offset

    def now(self) -> float:
        """Scenario seconds since the start."""
        return (self.server_now() - self.origin) * self.speed

    def wall_until(self, scenario_time: float) -> float:
        """Wall seconds from now until ``scenario_time``."""
        return scenario_time / self.speed - (self.server_now() - self.origin)


@contextmanager
def _interrupts_request_a_stop(run: _Run) -> Iterator[None]:
    """While a run lasts, Ctrl-C (SIGINT) asks it to stop rather than raising ``KeyboardInterrupt``, so
    no Redis command is cut in half, and a second Ctrl-C during the clean-up cannot leave probe keys
    behind.  (Only the main thread can handle signals; elsewhere Ctrl-C keeps its usual effect.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        run.interrupted = True

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_live(
    scenario: Scenario, options: LiveOptions, progress: Callable[[LiveProgress], None] | None = None
) -> LiveOutcome:
    """Replay ``scenario`` (its seed, replication 0) live as ``options`` say; see the module docstring."""
    problem = check_replayable(scenario)
    if problem is not None:
        raise LiveError(problem)
    if options.speed <= 0:
        raise LiveError(f"--speed must be positive, not {options.speed:g}")
    # one run of the scenario as configured: a live run has no replications and no sweep
    if scenario.replications != 1:
        scenario = scenario.with_value("replications", 1)
    if scenario.sweep is not None:
        scenario = scenario.with_value("sweep", None)
    target = LiveStore.open(options.url)
    try:
        problem = target.refusal(attach=options.attach, allow_flush=options.allow_flush)
        if problem is not None:
            raise LiveError(problem)
        with tempfile.TemporaryDirectory(prefix="resque-sim-live-") as logs:
            run = _Run(scenario, options, target, Path(logs), progress)
            with _interrupts_request_a_stop(run):
                return run.execute()
    finally:
        target.close()


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        options: LiveOptions,
        target: LiveStore,
        logs: Path,
        progress: Callable[[LiveProgress], None] | None,
    ) -> None:
        self.scenario = scenario
        self.options = options
        self.target = target
        self.progress = progress
        self.run_id = uuid.uuid4().hex[:16]
        self.enqueued: list[Enqueued] = []
        self.interrupted = False
        self.reported_at = 0.0
        self.clock = _Clock(target, options.speed)
        self.pools: WorkerPools | None = None
        self.unrecorded = 0
        if not options.attach:
            target.classes |= set(scenario.jobs)
            self.pools = WorkerPools(
                scenario, target, speed=options.speed, seed=scenario.seed, clock=self._now, log_dir=logs
            )

    def _now(self) -> float:
        return self.clock.now()

    def execute(self) -> LiveOutcome:
        started = time.perf_counter()
        worker_ids = self.target.worker_ids()
        self.target.begin(self.run_id)
        try:
            if self.pools is not None:
                self.pools.start()
                self._await_registration()
            self.clock = _Clock(self.target, self.options.speed)
            self._replay()
            end = min(self.scenario.duration, self.clock.now())
            records = self._wind_down()
            worker_ids = sorted({*worker_ids, *self.target.worker_ids()})
        finally:
            # also after an error: no worker left running, no probe job left queued, no probe key left
            if self.pools is not None:
                self.pools.stop(grace=0.0)
            self.target.remove_queued(self.run_id, self.scenario.queues)
            self.target.end(self.run_id)
        interrupted = self.interrupted
        record = self._record(records, worker_ids, end, time.perf_counter() - started)
        deaths = tuple(self.pools.deaths) if self.pools is not None else ()
        return LiveOutcome(self._result(record, interrupted, deaths), interrupted, deaths)

    def _await_registration(self) -> None:
        assert self.pools is not None
        pools = self.pools
        deadline = time.monotonic() + _REGISTER_TIMEOUT

        def registered() -> bool:
            pids = {worker_id.split(":")[1] for worker_id in self.target.worker_ids() if worker_id.count(":") >= 2}
            return {str(pid) for pid in pools.pids} <= pids

        while not registered() and not self.interrupted:
            if pools.poll() or time.monotonic() > deadline:
                pools.stop(grace=0.0)
                death = pools.deaths[0] if pools.deaths else None
                detail = f"; {death.worker} {death.status}: {death.log_tail}" if death else ""
                raise LiveError(f"the scenario's workers did not all start within {_REGISTER_TIMEOUT:g}s{detail}")
            time.sleep(_TICK)

    def _wait_until(self, scenario_time: float) -> None:
        while (left := self.clock.wall_until(scenario_time)) > 0 and not self.interrupted:
            time.sleep(min(left, _TICK))
            self._tick()

    def _tick(self) -> None:
        if self.pools is not None:
            self.pools.poll()
        if self.progress is not None and time.monotonic() - self.reported_at >= _PROGRESS_EVERY:
            self.reported_at = time.monotonic()
            finished = self.target.finished_count(self.run_id)
            elapsed = min(self.clock.now(), self.scenario.duration)
            self.progress(LiveProgress(elapsed, self.scenario.duration, len(self.enqueued), finished))

    def _replay(self) -> None:
        speed, run = self.options.speed, self.run_id
        # Sleeping probes of a class that computes part of its time wait, then compute, as the model has it.
        plain = self.options.work
        works = {
            name: f"mix:{spec.cpu_fraction:g}" if plain == "sleep" and spec.cpu_fraction else plain
            for name, spec in self.scenario.jobs.items()
        }
        for job in plan_jobs(self.scenario, self.scenario.seed):
            self._wait_until(job.time)
            if self.interrupted:
                return
            draws = job.draws
            at = self.clock.now()
            self.target.push(
                job.queue,
                [run, job.job_id, draws.duration / speed, works[job.job_class], draws.exception, draws.working_set_mb],
                job.job_class if self.pools is not None else PROBE_CLASS,
            )
            self.enqueued.append(Enqueued(job, at))
        self._wait_until(self.scenario.duration)

    def _wind_down(self) -> list[dict[str, Any]]:
        """Stop arrivals' effects: take back queued probes, let running jobs finish, read the records."""
        removed = self.target.remove_queued(self.run_id, self.scenario.queues)
        longest = max((item.job.draws.duration for item in self.enqueued), default=0.0) / self.options.speed
        grace = longest + _STOP_GRACE
        if self.pools is not None:
            self.pools.stop(grace=grace)
        else:
            # attached workers finish what they hold; once none holds a probe of this run, no record is to come
            expected = len(self.enqueued) - removed
            deadline = time.monotonic() + grace
            while (
                self.target.finished_count(self.run_id) < expected
                and self.target.busy_with(self.run_id)
                and time.monotonic() < deadline
            ):
                time.sleep(_TICK)
        records = self.target.records(self.run_id)
        self.unrecorded = len(self.enqueued) - removed - len({record["job"] for record in records})
        return records

    def _record(self, records: list[dict[str, Any]], worker_ids: list[str], end: float, wall: float) -> RunRecord:
        timeline = Timeline(self.clock.origin, self.options.speed, end)
        if self.pools is not None:
            pools = self.pools
            names = pools.names

            def worker_of(record: Mapping[str, Any]) -> int:
                found = pools.owner(int(record["pid"]), int(record["ppid"]), int(record["job"]))
                return -1 if found is None else found

            downs, ups = pools.downs, pools.ups
        else:
            names = attached_worker_names(worker_ids, records)
            registered = {tuple(worker_id.split(":")[:2]) for worker_id in worker_ids}
            index = {name: code for code, name in enumerate(names)}

            def worker_of(record: Mapping[str, Any]) -> int:
                return index[attached_worker_name(registered, record)]

            downs, ups = [], []
        return observed_record(
            self.scenario,
            seed=self.scenario.seed,
            timeline=timeline,
            enqueued=self.enqueued,
            records=records,
            workers=names,
            worker_of=worker_of,
            downs=downs,
            ups=ups,
            wall_seconds=wall,
        )

    def _result(self, record: RunRecord, interrupted: bool, deaths: tuple[Death, ...]) -> SimulationResult:
        scenario = self.scenario
        stats = run_stats(record)
        slo = tuple(evaluate_slos(scenario.slo, [tuple(slo_value(stats, item) for item in scenario.slo)]))
        lags = [item.at - item.job.time for item in self.enqueued]
        live = {
            "redis": self.target.resque.store.description,
            "namespace": self.target.namespace,
            "speed": self.options.speed,
            "work": self.options.work,
            "attached": self.options.attach,
            "interrupted": interrupted,
            "observed_seconds": record.duration,
            "enqueue_lag_max_s": max(lags, default=0.0),
            "worker_deaths": [death._asdict() for death in deaths],
            # taken by a worker but never recorded: killed with its worker, or run by a worker without the probe
            "unrecorded_jobs": self.unrecorded,
        }
        return SimulationResult(
            scenario=scenario,
            base=PointResult(None, scenario, (stats,), slo, record),
            sweep=(),
            sweep_param=None,
            recommended=None,
            wall_seconds=record.wall_seconds,
            extra={"live": live},
        )
