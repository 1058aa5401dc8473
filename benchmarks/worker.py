"""Worker throughput, Redis round trips per job, memory growth and idle pickup latency, on a private
local redis-server, each beside a baseline measured in the same run.

Targets (issue 3), as ratios because machines are noisy:

* no-fork worker >= 0.8x the rate of a bare loop doing one redis-py call (LPOP) per job;
* fork-per-job worker >= 0.5x a bare ``os.fork()`` / ``os._exit`` / ``os.waitpid`` loop in this process;
* about one Redis round trip per job (acknowledge and reserve together);
* resident memory growth < 5 MB over 100,000 no-fork jobs;
* an idle worker picks up a job pushed by our producers within 50 ms (p99).

    python -m benchmarks.worker [--jobs 20000] [--fork-jobs 2000] [--memory-jobs 100000] [--runs 3] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from typing import Any

import redis

from benchmarks._common import Measurement, median_rates, per_second, print_table
from resque_impl import Registry, Resque, job
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions
from resque_impl.worker.memory import rss_mb

__all__ = ["run"]

_registry = Registry()
_picked_up: list[float] = []


@job(queue="bench", registry=_registry, name="Bench::Noop")
class Noop:
    @staticmethod
    def perform(n: int) -> None:
        return None


@job(queue="latency", registry=_registry, name="Bench::Stamp")
class Stamp:
    @staticmethod
    def perform(pushed_at: float) -> None:
        _picked_up.append(time.perf_counter() - pushed_at)


class CountingConnection(redis.Connection):
    """Counts what the client sends: each send is one network round trip (a pipeline, a script call and a
    packed multi-command send count once)."""

    sends = 0

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        CountingConnection.sends += 1
        super().send_packed_command(command, check_health)


def _fill(resque: Resque, jobs: int) -> None:
    resque.store.client.flushdb()
    resque.enqueue_many(Noop, [(n,) for n in range(jobs)])


def _worker(resque: Resque, fork: bool, reliable: bool = True) -> Worker:
    # No push notifications: burst runs never idle, and the subscription would be one more connection.
    options = WorkerOptions(fork_per_job=fork, burst=True, notify=False, reliable=reliable)
    return Worker(["bench"], resque=resque, options=options, hooks=WorkerHooks())


def _server_commands(client: redis.Redis) -> int:
    stats = client.info("commandstats")
    return sum(int(entry["calls"]) for name, entry in stats.items() if name != "cmdstat_info")


def run(jobs: int = 20_000, fork_jobs: int = 2_000, memory_jobs: int = 100_000, runs: int = 3) -> list[Measurement]:
    """Measure everything on a private redis-server; returns the figures with their targets."""
    with RedisServer() as server:
        pool = redis.ConnectionPool(host="127.0.0.1", port=server.port, connection_class=CountingConnection)
        client = redis.Redis(connection_pool=pool)
        resque = Resque(client, registry=_registry)
        key = resque.keys.queue("bench")

        def bare_lpop() -> float:
            def body() -> None:
                for _ in range(jobs):
                    client.lpop(key)

            return per_second(jobs, body, lambda: _fill(resque, jobs))

        def no_fork() -> float:
            return per_second(jobs, lambda: _worker(resque, False).work(), lambda: _fill(resque, jobs))

        def no_fork_plain() -> float:
            return per_second(jobs, lambda: _worker(resque, False, False).work(), lambda: _fill(resque, jobs))

        def bare_fork() -> float:
            def body() -> None:
                for _ in range(fork_jobs):
                    pid = os.fork()
                    if pid == 0:
                        os._exit(0)
                    os.waitpid(pid, 0)

            return per_second(fork_jobs, body)

        def forked() -> float:
            return per_second(fork_jobs, lambda: _worker(resque, True).work(), lambda: _fill(resque, fork_jobs))

        rates = median_rates(
            runs,
            {
                "lpop": bare_lpop,
                "no_fork": no_fork,
                "no_fork_plain": no_fork_plain,
                "bare_fork": bare_fork,
                "fork": forked,
            },
        )

        # Round trips and server-side commands per job, over one no-fork run.
        _fill(resque, jobs)
        client.config_resetstat()
        CountingConnection.sends = 0
        _worker(resque, False).work()
        round_trips = CountingConnection.sends / jobs
        commands = _server_commands(client) / jobs

        # Memory: warm up, then 100,000 jobs in one worker run.
        _fill(resque, 2_000)
        _worker(resque, False).work()
        _fill(resque, memory_jobs)
        before = rss_mb()
        _worker(resque, False).work()
        growth = rss_mb() - before

        latencies = _idle_latency(resque, samples=50)
        client.close()

    no_fork_ratio = rates["no_fork"] / rates["lpop"]
    fork_ratio = rates["fork"] / rates["bare_fork"]
    p50 = statistics.median(latencies) * 1000
    p99 = sorted(latencies)[max(0, int(len(latencies) * 0.99) - 1)] * 1000
    return [
        Measurement("bare loop, one redis-py LPOP per job", rates["lpop"], "jobs/s"),
        Measurement("worker, no fork (reliable fetch)", rates["no_fork"], "jobs/s"),
        Measurement("no-fork worker / bare LPOP loop", no_fork_ratio, "x", ">= 0.8x", no_fork_ratio >= 0.8),
        Measurement("worker, no fork, --no-reliable (plain LPOP)", rates["no_fork_plain"], "jobs/s"),
        Measurement("  ... / bare LPOP loop", rates["no_fork_plain"] / rates["lpop"], "x"),
        Measurement("bare fork/_exit/waitpid loop", rates["bare_fork"], "forks/s"),
        Measurement("worker, fork per job", rates["fork"], "jobs/s"),
        Measurement("fork worker / bare fork loop", fork_ratio, "x", ">= 0.5x", fork_ratio >= 0.5),
        Measurement("Redis round trips per job (no fork)", round_trips, "", "~1 (<= 1.05)", round_trips <= 1.05),
        Measurement("Redis commands per job, server side", commands, "", "", None),
        Measurement(f"RSS growth over {memory_jobs:,} no-fork jobs", growth, "MB", "< 5 MB", growth < 5),
        Measurement("idle pickup latency p50", p50, "ms", "", None),
        Measurement("idle pickup latency p99", p99, "ms", "<= 50 ms", p99 <= 50),
    ]


def _idle_latency(resque: Resque, samples: int) -> list[float]:
    """Push ``samples`` jobs, one at a time, to an idle worker polling every 5 s; seconds from push to
    perform."""
    _picked_up.clear()
    resque.store.client.flushdb()
    options = WorkerOptions(fork_per_job=False, interval=5.0, max_jobs=samples)
    worker = Worker(["latency"], resque=resque, options=options, hooks=WorkerHooks())
    thread = threading.Thread(target=worker.work, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not resque.workers() and time.monotonic() < deadline:
        time.sleep(0.01)
    for n in range(samples):
        time.sleep(0.2)  # let the worker go idle again
        resque.enqueue(Stamp, time.perf_counter())
        while len(_picked_up) <= n and time.monotonic() < deadline + 60:
            time.sleep(0.001)
    thread.join(10)
    return list(_picked_up)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per no-fork run")
    parser.add_argument("--fork-jobs", type=int, default=2_000, help="jobs per fork-per-job run")
    parser.add_argument("--memory-jobs", type=int, default=100_000, help="jobs for the memory-growth run")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs; medians are reported")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    rows = run(options.jobs, options.fork_jobs, options.memory_jobs, options.runs)
    print_table(f"worker benchmark (median of {options.runs} interleaved runs)", rows)
    if options.json_path:
        with open(options.json_path, "w") as handle:
            json.dump([row.as_dict() for row in rows], handle, indent=2)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
