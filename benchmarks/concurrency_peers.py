"""Job slots beside the peers (issue 18, item 6): one worker process running N jobs at once, ours
(``resque-impl work --concurrency N``) against Dramatiq's threads, Celery's thread pool and arq's event
loop, each started as its CLI starts it, one after another on the same private redis-server.

Every job records its start and end (:mod:`benchmarks.concurrency_tasks`); a system's rate is its jobs
over the seconds from its first job's start to its last job's end, so process start-up is left out for
all alike. The queue is filled before the worker starts. Medians of interleaved runs.

Targets:

* jobs waiting 20 ms in threads, N = 10 and N = 50: >= 0.9 x N / 20 ms per process, and ahead of
  Dramatiq (``--processes 1 --threads N``) and Celery (``--pool threads --concurrency N``);
* ``async def`` jobs awaiting 20 ms, N = 50 and N = 200: ahead of arq (``max_jobs = N``);
* beside each thread figure, the same job run by N bare threads back to back, with no queue at all
  (:mod:`benchmarks.concurrency_bare`): the ceiling on this machine as loaded now, to read ours and the
  peers against when the machine is shared (its own ratio to N / 20 ms says how loaded it was);
* CPU-bound jobs (about 20 ms of pure Python each) with 10 slots: no slower than one slot (>= 0.95x,
  the allowance being run-to-run noise), since threads share one core under the GIL.

Peers are optional (``pip install -e '.[bench]'`` brings Dramatiq and Celery; arq pins redis-py below 6
but runs with redis-py 8, so it is installed by hand without its pins: ``pip install --no-deps arq``); a
peer that is not installed is left out.

    python -m benchmarks.concurrency_peers [--per-slot 100] [--runs 3] [--no-peers] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import redis

from benchmarks._common import Measurement, installed_version, print_table, run_order
from benchmarks.concurrency_tasks import CPU_LOOPS, DONE_KEY, AsyncIoWait, CpuWork, IoWait
from resque_impl import Resque
from resque_impl.testing import RedisServer

__all__ = ["PEERS", "run"]

REPO = Path(__file__).resolve().parents[1]
WAIT_MS = 20
THREADS = (10, 50)
ASYNC = (50, 200)
CPU_SLOTS = 10
#: At most this many jobs in a run (N = 200 at 100 per slot would take half a minute per system and run).
MAX_JOBS = 10_000
#: The peers' distributions, measured when installed.
PEERS = ("dramatiq", "celery", "arq")


@dataclass(frozen=True)
class _Candidate:
    """One worker process to time: how to fill its queue and how its CLI starts it."""

    jobs: int
    fill: Callable[[redis.Redis, int], None]
    command: list[str]
    concurrency: int


def _ours_fill(job_class: type, *args: int) -> Callable[[redis.Redis, int], None]:
    def fill(client: redis.Redis, jobs: int) -> None:
        Resque(client).enqueue_many(job_class, [args] * jobs)

    return fill


def _ours(concurrency: int, *options: str) -> list[str]:
    return [
        *(sys.executable, "-m", "resque_impl.cli", "work", "--queues", "io", "--jobs", "benchmarks.concurrency_tasks"),
        *("--concurrency", str(concurrency), *options),
    ]


def _no_fill(client: redis.Redis, jobs: int) -> None:
    pass


def _dramatiq_fill(client: redis.Redis, jobs: int) -> None:
    actor = importlib.import_module("benchmarks.peer_dramatiq").io_wait
    for _ in range(jobs):
        actor.send(WAIT_MS)


def _celery_fill(client: redis.Redis, jobs: int) -> None:
    task = importlib.import_module("benchmarks.peer_celery").io_wait
    for _ in range(jobs):
        task.delay(WAIT_MS)


def _arq_fill(client: redis.Redis, jobs: int) -> None:
    connections = importlib.import_module("arq.connections")

    async def fill() -> None:
        pool = await connections.create_pool(connections.RedisSettings.from_dsn(os.environ["BENCH_REDIS_URL"]))
        for _ in range(jobs):
            await pool.enqueue_job("io_wait", WAIT_MS)
        await pool.aclose()

    asyncio.run(fill())


def _candidates(per_slot: int, with_peers: bool) -> dict[str, _Candidate]:
    found: dict[str, _Candidate] = {}
    jobs = {n: min(n * per_slot, MAX_JOBS) for n in (*THREADS, *ASYNC)}
    for n in THREADS:
        found[f"ours_threads_{n}"] = _Candidate(jobs[n], _ours_fill(IoWait, WAIT_MS), _ours(n), n)
        bare = [sys.executable, "-m", "benchmarks.concurrency_bare", str(n), str(jobs[n]), str(WAIT_MS)]
        found[f"bare_threads_{n}"] = _Candidate(jobs[n] // n * n, _no_fill, bare, n)
        if with_peers and installed_version("dramatiq"):
            command = [sys.executable, "-m", "dramatiq", "benchmarks.peer_dramatiq", "--processes", "1"]
            found[f"dramatiq_{n}"] = _Candidate(jobs[n], _dramatiq_fill, [*command, "--threads", str(n)], n)
        if with_peers and installed_version("celery"):
            command = [sys.executable, "-m", "celery", "-A", "benchmarks.peer_celery", "worker", "--pool", "threads"]
            command += ["--concurrency", str(n), "--loglevel", "WARNING"]
            found[f"celery_{n}"] = _Candidate(jobs[n], _celery_fill, command, n)
    for n in ASYNC:
        found[f"ours_async_{n}"] = _Candidate(jobs[n], _ours_fill(AsyncIoWait, WAIT_MS), _ours(n), n)
        if with_peers and installed_version("arq"):
            command = [sys.executable, "-m", "arq", "benchmarks.peer_arq.WorkerSettings"]
            found[f"arq_{n}"] = _Candidate(jobs[n], _arq_fill, command, n)
    cpu_jobs = max(20, per_slot * 2)
    for n in (1, CPU_SLOTS):
        found[f"ours_cpu_{n}"] = _Candidate(cpu_jobs, _ours_fill(CpuWork, CPU_LOOPS), _ours(n, "--no-fork"), n)
    return found


def _environment(server: RedisServer, concurrency: int) -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {
        **os.environ,
        "BENCH_REDIS_URL": server.url,
        "REDIS_URL": server.url,  # ours (resque-impl work --redis)
        "BENCH_CONCURRENCY": str(concurrency),
        "PYTHONPATH": path,
    }


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _time(server: RedisServer, client: redis.Redis, candidate: _Candidate) -> float:
    """Jobs per second of one run: fill the queue, start the worker, wait for every job to be recorded."""
    client.flushdb()
    candidate.fill(client, candidate.jobs)
    ideal = candidate.jobs * WAIT_MS / 1000 / candidate.concurrency
    # The peers log every job at their default levels; the log is shown only when a run goes wrong.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            candidate.command, env=_environment(server, candidate.concurrency), cwd=REPO, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 60 + 10 * ideal
            while (done := client.llen(DONE_KEY)) < candidate.jobs:
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.stderr.write(log.read()[-4000:].decode(errors="replace"))
                    raise RuntimeError(f"{shlex.join(candidate.command)}: {done} of {candidate.jobs} jobs done")
                time.sleep(0.05)
        finally:
            _stop(process)
    spans = [tuple(float(part) for part in entry.split()) for entry in client.lrange(DONE_KEY, 0, -1)]
    return len(spans) / (max(end for _, end in spans) - min(start for start, _ in spans))


def _measure(per_slot: int, runs: int, with_peers: bool) -> dict[str, float]:
    candidates = _candidates(per_slot, with_peers)
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    with RedisServer() as server:
        # The peers' producers, imported by the fills in this process, read the server's address here.
        os.environ["BENCH_REDIS_URL"] = server.url
        client = server.client()
        for run in range(runs):
            for name in run_order(candidates, run):
                samples[name].append(_time(server, client, candidates[name]))
        client.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def _ahead(rate: dict[str, float], ours: str, peer: str, label: str) -> list[Measurement]:
    if peer not in rate:
        return []
    ratio = rate[ours] / rate[peer]
    return [
        Measurement(label, rate[peer], "jobs/s"),
        Measurement(
            f"  ours / {label.split(maxsplit=1)[0]} at N = {peer.rsplit('_', 1)[1]}", ratio, "x", "> 1x", ratio > 1
        ),
    ]


def run(per_slot: int = 100, runs: int = 3, with_peers: bool = True) -> list[Measurement]:
    """Every figure of this module; ``per_slot`` jobs for each of a run's N slots."""
    rate = _measure(per_slot, runs, with_peers)
    rows: list[Measurement] = []
    for n in THREADS:
        ideal = n / (WAIT_MS / 1000)
        ours = rate[f"ours_threads_{n}"]
        rows += [
            Measurement(f"jobs waiting {WAIT_MS} ms, ours --concurrency {n} (threads)", ours, "jobs/s"),
            Measurement(f"  / {n} x 1/{WAIT_MS} ms", ours / ideal, "x", ">= 0.9x", ours / ideal >= 0.9),
            Measurement(
                f"  bare threads, no queue (the ceiling) / {n} x 1/{WAIT_MS} ms", rate[f"bare_threads_{n}"] / ideal, "x"
            ),
            Measurement(
                f"  share of the ceiling at N = {n} (ours / bare threads)", ours / rate[f"bare_threads_{n}"], "x"
            ),
            *_ahead(rate, f"ours_threads_{n}", f"dramatiq_{n}", f"  Dramatiq --processes 1 --threads {n}"),
            *_ahead(rate, f"ours_threads_{n}", f"celery_{n}", f"  Celery --pool threads --concurrency {n}"),
        ]
    for n in ASYNC:
        ideal = n / (WAIT_MS / 1000)
        ours = rate[f"ours_async_{n}"]
        rows += [
            Measurement(f"async jobs awaiting {WAIT_MS} ms, ours --concurrency {n} (event loop)", ours, "jobs/s"),
            Measurement(f"  async / {n} x 1/{WAIT_MS} ms", ours / ideal, "x"),
            *_ahead(rate, f"ours_async_{n}", f"arq_{n}", f"  arq max_jobs = {n}"),
        ]
    one, wide = rate["ours_cpu_1"], rate[f"ours_cpu_{CPU_SLOTS}"]
    rows += [
        Measurement("CPU-bound jobs (~20 ms of Python), ours --concurrency 1 --no-fork", one, "jobs/s"),
        Measurement(f"  --concurrency {CPU_SLOTS}", wide, "jobs/s"),
        Measurement(f"  --concurrency {CPU_SLOTS} / 1", wide / one, "x", ">= 0.95x", wide / one >= 0.95),
    ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-slot", type=int, default=100, help="jobs per slot in each run (N x this)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs per figure (median reported)")
    parser.add_argument("--no-peers", action="store_true", help="leave Dramatiq, Celery and arq out")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    options = parser.parse_args(argv)
    rows = run(options.per_slot, options.runs, not options.no_peers)
    print_table("job slots beside the peers", rows)
    if options.json is not None:
        options.json.write_text(json.dumps([row.as_dict() for row in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
