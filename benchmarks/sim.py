"""Simulator throughput and memory: the ratios of issue 22 (and the sweep target of issue 5).

Targets, each a ratio to a baseline measured in the same run (issue 22 replaced issue 5's absolute
5,000 and 50,000 jobs/s):

- the spike scenario on the ``fake`` backend (fakeredis, really: ``simulate`` on ``Backend("fake")``) at
  least as fast as the yardstick, Ruby Resque's naive command sequence per job on the same fakeredis
  (push: SADD + RPUSH; work: GET pause-all-workers, SMEMBERS for the wildcard, LPOP per queue, SET
  working-on, then DEL + INCRBY x2);
- the spike scenario on the ``memory`` twin at least half as fast as a SimPy-only loop of the same events
  per job (arrival, reserve, timeout, done) with no library code (:mod:`benchmarks.sim_baselines`);
- a 7 x 5 x 50,000-job sweep on memory within 60 s (spike, and steady, whose jobs cost the library less);
- a 1,000,000-job CLI run (outputs and charts included) under 500 MB peak RSS.

Also reported: what the simulator sends fakeredis per simulated job (round trips, commands, Lua scripts,
counted on a connection class of the benchmark's own), the library's own steps in a bare loop (the ceiling
any simulator driving the library can reach), and where a simulated job's time goes (each library step
the engine calls, timed around the call; the rest is the engine and SimPy).  ``--memory`` measures peak
RSS at 100k, 300k and 1M jobs; ``--dask`` a sweep on dask clusters of 1 and 2 workers
(:mod:`benchmarks.sim_scale`); ``python -m benchmarks.sim_baselines`` the fakeredis costs behind it all.

    python -m benchmarks.sim [--runs 3] [--skip-million] [--memory] [--dask] [--json out.json]
    python -m benchmarks.sim --cpu [--runs 3]     # the ratios in CPU seconds, which load moves less
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import fakeredis
import simpy

from benchmarks._common import Measurement, median_rates, print_table
from benchmarks.sim_baselines import (
    CountingConnection,
    command_counts,
    default_store_backend,
    default_store_rate,
    fakeredis_costs,
    fetch_script_costs,
    simpy_only_loop,
)
from benchmarks.sim_scale import MEMORY_TARGET_MB, cli_run_peak, dask_scaling, memory_growth
from resque_impl import Keys, Registry, Resque, job
from resque_impl.clock import format_run_at
from resque_impl.codec import dumps, loads
from resque_impl.scheduler import Scheduler
from resque_impl.worker import Worker
from resque_sim.engine import Backend, SimClock, simulate
from resque_sim.runner import run_scenario
from resque_sim.scenario import Scenario, load_scenario

__all__ = ["run"]

REPO = Path(__file__).resolve().parents[1]
SPIKE = REPO / "scenarios" / "spike.yaml"
STEADY = REPO / "scenarios" / "steady.yaml"
#: scenario, duration giving about 50,000 jobs, and the 7 worker counts swept
SWEEPS = {
    "spike": (SPIKE, "3886s", [8, 12, 16, 20, 24, 28, 32]),  # polling workers, wildcards, failures, retries
    "steady": (STEADY, "6250s", [9, 10, 11, 12, 14, 16, 20]),  # instant workers, one queue, no failures
}
MILLION_DURATION = "125000s"  # steady: 8 jobs/s


def _spike(backend: str, **overrides: Any) -> Scenario:
    scenario = load_scenario(SPIKE).with_value("sweep", None).with_value("backend", backend)
    for path, value in overrides.items():
        scenario = scenario.with_value(path, value)
    return scenario


def jobs_per_second(scenario: Scenario) -> float:
    """Simulated jobs (attempts) per wall-second of one replication."""
    started = time.perf_counter()
    record = simulate(scenario, backend=Backend(scenario.backend))
    return record.attempts / (time.perf_counter() - started)


def _cpu_seconds() -> float:
    """User and system CPU seconds of this process and of its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def sweep_seconds(name: str) -> tuple[float, float, int]:
    """A 7 x 5 x ~50,000-job sweep of worker counts on memory: its wall seconds, the CPU seconds it used
    (divided by the CPUs, a lower bound for its wall time on an otherwise idle machine), and its jobs."""
    path, duration, counts = SWEEPS[name]
    scenario = load_scenario(path, ["backend=memory", f"duration={duration}", "replications=5", "warmup=0s"])
    scenario = scenario.with_value("sweep", {"param": "workers.default.count", "values": counts})
    cpu, started = _cpu_seconds(), time.perf_counter()
    result = run_scenario(scenario)
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
    return elapsed, cpu / (os.cpu_count() or 1), sum(stats.enqueued for point in result.sweep for stats in point.runs)


def million_job_run() -> tuple[float, float, int]:
    """Peak RSS (MB), wall seconds and jobs of a 1,000,000-job CLI run in a child process."""
    return cli_run_peak(MILLION_DURATION)


@contextmanager
def _timed_steps(totals: dict[str, float]) -> Iterator[None]:
    """Time every call of the library steps the engine makes, the scheduler's poll included (patched for the
    measurement only)."""
    targets: list[tuple[type, str]] = [
        (Resque, "enqueue"),
        (Resque, "enqueue_many"),
        (Worker, "reserve"),
        (Worker, "perform"),
        (Worker, "done"),
        (Worker, "fail"),
        (Worker, "register"),
        (Worker, "unregister"),
        (Worker, "heartbeat"),
        (Worker, "prune_dead_workers"),
        (Scheduler, "poll"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name in targets]

    def timed(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - started

        return call

    for owner, name, method in originals:
        setattr(owner, name, timed(name, method))
    try:
        yield
    finally:
        for owner, name, method in originals:
            setattr(owner, name, method)


def breakdown(backend: str) -> dict[str, float]:
    """Microseconds per simulated job spent in each library step, and in the engine and SimPy."""
    totals: dict[str, float] = {}
    scenario = _spike(backend, duration="10m" if backend == "fake" else "30m")
    with _timed_steps(totals):
        started = time.perf_counter()
        record = simulate(scenario, backend=Backend(backend))
        elapsed = time.perf_counter() - started
    per_job = {name: seconds / record.attempts * 1e6 for name, seconds in sorted(totals.items(), key=lambda i: -i[1])}
    per_job["engine + SimPy (the rest)"] = (elapsed - sum(totals.values())) / record.attempts * 1e6
    per_job["total"] = elapsed / record.attempts * 1e6
    return per_job


_registry = Registry()


@job(queue="email", registry=_registry)
class BaselineJob:
    @staticmethod
    def perform(job_id: int) -> None: ...


def library_ceiling(backend: str, jobs: int = 20_000) -> float:
    """The baseline: jobs per second of the library's own steps in a bare loop, no simulator at all, on
    a fresh store of the same kind: enqueue a job, then acknowledge the one before and reserve this one
    in one step (``done(..., reserve_next=True)``, a busy worker's round trip), and perform it."""
    store = Backend(backend).open(SimClock(simpy.Environment()))
    resque = Resque(store=store, registry=_registry)
    worker = Worker(["critical", "email", "*"], resque=resque, hostname="bench", pid=1)
    worker.register()
    started = time.perf_counter()
    resque.enqueue(BaselineJob, 0)
    reserved = worker.reserve()
    for job_id in range(1, jobs + 1):
        assert reserved is not None
        outcome = worker.perform(reserved)
        resque.enqueue(BaselineJob, job_id)
        reserved = worker.done(reserved, outcome, reserve_next=True)
    return jobs / (time.perf_counter() - started)


#: Issue 22's targets: the simulator on fake / the naive sequence, and on memory / the SimPy-only loop.
FAKE_RATIO, MEMORY_RATIO = 1.0, 0.5


def naive_resque_sequence(jobs: int = 5_000, connection_class: type = fakeredis.FakeRedisConnection) -> float:
    """The issue's yardstick: jobs per second of Ruby Resque's own command sequence per job, sent naively
    with redis-py to a fresh fakeredis server (no scripts, no batching, a poll per job), for a worker on
    ``critical, email, *`` whose jobs all come from ``email``."""
    # Any: redis-py's stubs type replies loosely
    client: Any = fakeredis.FakeRedis(server=fakeredis.FakeServer(), connection_class=connection_class)
    keys = Keys()
    worker_id = "bench:1:critical,email,*"
    client.sadd(keys.workers, worker_id)
    started = time.perf_counter()
    for job_id in range(jobs):
        payload = dumps({"class": "BaselineJob", "args": [job_id]})
        with client.pipeline(transaction=False) as push:
            push.sadd(keys.queues, "email")
            push.rpush(keys.queue("email"), payload)
            push.execute()
        client.get(keys.pause_all)
        others = sorted(name.decode() for name in client.smembers(keys.queues))
        for queue in ["critical", "email", *(name for name in others if name not in ("critical", "email"))]:
            taken = client.lpop(keys.queue(queue))
            if taken is not None:
                break
        assert taken is not None
        record = {"queue": queue, "run_at": format_run_at(time.time()), "payload": loads(taken)}
        client.set(keys.worker(worker_id), dumps(record))
        with client.pipeline(transaction=False) as finish:
            finish.delete(keys.worker(worker_id))
            finish.incrby(keys.stat("processed"), 1)
            finish.incrby(keys.worker_stat("processed", worker_id), 1)
            finish.execute()
    return jobs / (time.perf_counter() - started)


def _naive_counts(jobs: int = 1_000) -> dict[str, float]:
    """Round trips and commands per job of the yardstick, counted as the simulator's are."""
    CountingConnection.counts.clear()
    naive_resque_sequence(jobs, CountingConnection)
    counts = dict(CountingConnection.counts)
    trips = counts.pop(b"(round trips)")
    setup = 1 + counts.pop(b"HELLO", 0) + counts.pop(b"CLIENT", 0)  # the worker's SADD, the handshake
    return {"round trips": (trips - setup) / jobs, "commands": (sum(counts.values()) - 1) / jobs}


def run(runs: int = 3, million: bool = True, sweeps: bool = True, duration: str | None = None) -> list[Measurement]:
    """Measure everything (``sweeps`` and the ``million``-job run optional; ``duration`` shortens the spike
    scenario's 30 simulated minutes); returns the figures with their targets."""
    overrides = {} if duration is None else {"duration": duration}
    # interleaved, so that other load on the machine hits the simulator and its yardstick alike
    rates = median_rates(
        max(1, runs // 2),
        {
            "fake": lambda: jobs_per_second(_spike("fake", **overrides)),
            "defaults": lambda: default_store_rate(_spike("fake", **overrides)),
            "naive": naive_resque_sequence,
        },
    )
    fake, defaults, naive = rates["fake"], rates["defaults"], rates["naive"]
    fake_ceiling = library_ceiling("fake", 5_000)
    _, counts = command_counts(_spike("fake", duration=duration or "10m"))
    naive_counts = _naive_counts()
    rates = median_rates(
        runs,
        {
            "memory": lambda: jobs_per_second(_spike("memory", **overrides)),
            "ceiling": lambda: library_ceiling("memory"),
            "simpy": simpy_only_loop,
        },
    )
    memory, memory_ceiling, bare_simpy = rates["memory"], rates["ceiling"], rates["simpy"]
    timed_sweeps = {name: sweep_seconds(name) for name in SWEEPS} if sweeps else {}
    rows = [
        Measurement("spike on fake", fake, "jobs/s"),
        Measurement("  baseline: library steps in a bare loop, fake", fake_ceiling, "jobs/s"),
        Measurement("  simulator / baseline", fake / fake_ceiling, "x"),
        Measurement("  yardstick: Ruby's naive sequence on fakeredis", naive, "jobs/s"),
        Measurement("  simulator / yardstick", fake / naive, "x", f">= {FAKE_RATIO}", fake / naive >= FAKE_RATIO),
        Measurement("  the same on a default Store (EVALSHA fetch, PUBLISH per push)", defaults, "jobs/s"),
        *(
            Measurement(f"  per simulated job: {name.strip()}", value, "/job")
            for name, value in counts.items()
            if value >= 0.005
        ),
        *(Measurement(f"  the yardstick's {name} per job", value, "/job") for name, value in naive_counts.items()),
        Measurement("spike on memory", memory, "jobs/s"),
        Measurement("  baseline: library steps in a bare loop, memory", memory_ceiling, "jobs/s"),
        Measurement("  simulator / baseline", memory / memory_ceiling, "x"),
        Measurement("  SimPy-only loop of the same events per job", bare_simpy, "jobs/s"),
        Measurement(
            "  simulator / SimPy-only loop",
            memory / bare_simpy,
            "x",
            f">= {MEMORY_RATIO}",
            memory / bare_simpy >= MEMORY_RATIO,
        ),
    ]
    for name, (wall, cpu, jobs) in timed_sweeps.items():
        rows += [
            Measurement(f"sweep 7 x 5 x 50k of {name} on memory", wall, "s", "<= 60", wall <= 60),
            Measurement(f"  its {jobs:,} jobs per wall-second", jobs / wall, "jobs/s"),
            Measurement("  its CPU seconds / CPUs (wall time if idle)", cpu, "s"),
        ]
    if million:
        peak_mb, wall, jobs = million_job_run()
        rows += [
            Measurement(
                f"peak RSS, {jobs:,}-job CLI run",
                peak_mb,
                "MB",
                f"< {MEMORY_TARGET_MB:,.0f}",
                peak_mb < MEMORY_TARGET_MB,
            ),
            Measurement("  its wall time (simulate, stats, CSVs, charts)", wall, "s"),
        ]
    return rows


def _cpu_rate(measure: Callable[[], object], jobs: Callable[[object], int]) -> float:
    """Jobs per CPU second of this process (``jobs`` reads the count from what ``measure`` returned)."""
    started = time.process_time()
    result = measure()
    return jobs(result) / (time.process_time() - started)


def cpu_ratios(runs: int = 3) -> list[Measurement]:
    """Issue 22's ratios with every rate in CPU seconds of this process rather than wall seconds, which
    other load on a shared machine moves far less (the fake spike shortened to its first 15 minutes):
    the simulator on fake, the same through a store with the library's defaults, the naive sequence;
    the twin, the library's bare loop and the SimPy-only loop."""
    fake = _spike("fake", duration="15m")
    memory = _spike("memory")

    def attempts(result: object) -> int:
        return int(getattr(result, "attempts", 0))

    rates = median_rates(
        runs,
        {
            "fake": lambda: _cpu_rate(lambda: simulate(fake, backend=Backend("fake")), attempts),
            "defaults": lambda: _cpu_rate(lambda: simulate(fake, backend=default_store_backend()), attempts),
            "naive": lambda: _cpu_rate(lambda: naive_resque_sequence(3_000), lambda _: 3_000),
            "memory": lambda: _cpu_rate(lambda: simulate(memory, backend=Backend("memory")), attempts),
            "ceiling": lambda: _cpu_rate(lambda: library_ceiling("memory"), lambda _: 20_000),
            "simpy": lambda: _cpu_rate(simpy_only_loop, lambda _: 50_000),
        },
    )
    fake_rate, naive, simpy_rate = rates["fake"], rates["naive"], rates["simpy"]
    return [
        Measurement("spike (15 min) on fake, per CPU second", fake_rate, "jobs/s"),
        Measurement("  the same on a default Store", rates["defaults"], "jobs/s"),
        Measurement("  Ruby's naive sequence on fakeredis", naive, "jobs/s"),
        Measurement("  simulator / naive", fake_rate / naive, "x", f">= {FAKE_RATIO}", fake_rate / naive >= FAKE_RATIO),
        Measurement("  default Store / naive", rates["defaults"] / naive, "x"),
        Measurement("spike on memory, per CPU second", rates["memory"], "jobs/s"),
        Measurement("  library steps in a bare loop", rates["ceiling"], "jobs/s"),
        Measurement("  SimPy-only loop", simpy_rate, "jobs/s"),
        Measurement(
            "  simulator / SimPy-only loop",
            rates["memory"] / simpy_rate,
            "x",
            f">= {MEMORY_RATIO}",
            rates["memory"] / simpy_rate >= MEMORY_RATIO,
        ),
        Measurement("  bare loop / SimPy-only loop", rates["ceiling"] / simpy_rate, "x"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="runs of each throughput figure (median)")
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-job run")
    parser.add_argument("--memory", action="store_true", help="also peak RSS at 100k, 300k and 1M jobs")
    parser.add_argument("--dask", action="store_true", help="also a sweep on dask clusters of 1 and 2 workers")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--cpu", action="store_true", help="only the ratios in CPU seconds (see cpu_ratios)")
    args = parser.parse_args(argv)
    if args.cpu:
        print_table("resque-sim (issue 22 ratios, CPU seconds)", cpu_ratios(args.runs))
        return 0
    rows = run(args.runs, million=not args.skip_million and not args.memory)
    print_table("resque-sim (issue 22 ratios)", rows)
    if args.memory:
        growth = memory_growth()
        print_table("resque-sim: peak RSS against jobs (steady, memory backend, CLI with outputs)", growth)
        rows += growth
    if args.dask:
        scaling = dask_scaling()
        print_table("resque-sim: spike sweep (5 points x 2 replications, memory) by executor", scaling)
        rows += scaling
    for backend in ("memory", "fake"):
        steps = breakdown(backend)
        print_table(
            f"where a simulated job's time goes on {backend} (spike; microseconds per job)",
            [Measurement(name, value, "us") for name, value in steps.items()],
        )
    print_table(
        "where fakeredis is the wall (microseconds per call; python -m benchmarks.sim_baselines)",
        [Measurement(name, value, "us") for name, value in (fakeredis_costs() | fetch_script_costs()).items()],
    )
    if args.json is not None:
        args.json.write_text(json.dumps([row.as_dict() for row in rows], indent=2) + "\n")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
