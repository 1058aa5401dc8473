"""Enqueue throughput against a local redis-server, beside a bare redis-py RPUSH loop, and beside
python-rq's ``Queue.enqueue`` and ``Queue.enqueue_many`` when it is installed.

Targets (issue 2): a single ``enqueue`` at >= 0.9x the rate of a bare ``rpush`` loop measured in the
same run, and ``enqueue_many`` >= 100,000 jobs/s.

    python -m benchmarks.enqueue [--jobs 20000] [--bulk-jobs 200000] [--runs 5] [--no-peers] [--json F]
"""

from __future__ import annotations

import argparse
import sys

from benchmarks import peers
from benchmarks._common import REGISTRY, EmailJob, Measurement, median_rates, per_second, report
from resque_impl import Resque
from resque_impl.testing import RedisServer

__all__ = ["run"]


def run(jobs: int = 20_000, bulk_jobs: int = 200_000, runs: int = 5, with_peers: bool = True) -> list[Measurement]:
    """Measure on a private redis-server; returns the figures with their targets."""
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client, registry=REGISTRY)
        payload = resque.encode(EmailJob, (42, "Welcome"))
        key = resque.keys.queue("email")

        def bare_rpush() -> float:
            def body() -> None:
                for _ in range(jobs):
                    client.rpush(key, payload)

            return per_second(jobs, body, client.flushdb)

        def enqueue() -> float:
            def body() -> None:
                for _ in range(jobs):
                    resque.enqueue(EmailJob, 42, "Welcome")

            return per_second(jobs, body, client.flushdb)

        def enqueue_many() -> float:
            batch = [(n, "Welcome") for n in range(bulk_jobs)]
            return per_second(bulk_jobs, lambda: resque.enqueue_many(EmailJob, batch), client.flushdb)

        candidates = {"rpush": bare_rpush, "enqueue": enqueue, "enqueue_many": enqueue_many}
        if with_peers and peers.installed():
            candidates["rq"] = lambda: per_second(jobs, lambda: peers.enqueue(client, jobs), client.flushdb)
            candidates["rq_many"] = lambda: per_second(
                bulk_jobs, lambda: peers.enqueue_many(client, bulk_jobs), client.flushdb
            )
        rates = median_rates(runs, candidates)
        client.close()
    ratio = rates["enqueue"] / rates["rpush"]
    return [
        Measurement("bare redis-py rpush loop", rates["rpush"], "ops/s"),
        Measurement("Resque.enqueue", rates["enqueue"], "jobs/s"),
        Measurement("enqueue / bare rpush", ratio, "x", ">= 0.9x", ratio >= 0.9),
        Measurement(
            "Resque.enqueue_many",
            rates["enqueue_many"],
            "jobs/s",
            ">= 100,000",
            rates["enqueue_many"] >= 100_000,
        ),
        *_peer_rows(rates),
    ]


def _peer_rows(rates: dict[str, float]) -> list[Measurement]:
    if "rq" not in rates:
        return []
    return [
        Measurement(f"rq {peers.version()} Queue.enqueue", rates["rq"], "jobs/s"),
        Measurement("  Resque.enqueue / rq Queue.enqueue", rates["enqueue"] / rates["rq"], "x"),
        Measurement(f"rq {peers.version()} Queue.enqueue_many", rates["rq_many"], "jobs/s"),
        Measurement("  Resque.enqueue_many / rq Queue.enqueue_many", rates["enqueue_many"] / rates["rq_many"], "x"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per single-enqueue run")
    parser.add_argument("--bulk-jobs", type=int, default=200_000, help="jobs per enqueue_many run")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs; medians are reported")
    parser.add_argument("--no-peers", action="store_true", help="leave python-rq out even if installed")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    rows = run(options.jobs, options.bulk_jobs, options.runs, not options.no_peers)
    return report(f"enqueue benchmark (median of {options.runs} interleaved runs)", rows, options.json_path)


if __name__ == "__main__":
    sys.exit(main())
