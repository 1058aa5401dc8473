"""What durable enqueue costs: enqueue rates on a Sentinel deployment (a primary, 2 replicas and 3
sentinels on loopback, :class:`~resque_impl.testing.sentinel.SentinelTopology`) with ``wait_replicas``
0, 1 and 2, beside a plain ``redis://`` connection to the same primary (issue #19).

Each durable enqueue sends ``WAIT`` in the same round trip as its push, so it costs no extra round
trip, but returns only once the replicas confirm; ``enqueue_many`` waits once per 64 commands.

    python -m benchmarks.durable [--jobs 5000] [--bulk-jobs 100000] [--runs 5] [--json F]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from benchmarks._common import REGISTRY, EmailJob, Measurement, median_rates, per_second, report
from resque_impl import Resque
from resque_impl.testing.sentinel import SentinelTopology

__all__ = ["run"]


def run(jobs: int = 5_000, bulk_jobs: int = 100_000, runs: int = 5) -> list[Measurement]:
    """Measure on a private Sentinel deployment; returns the figures (no targets: this is a cost)."""
    with SentinelTopology() as topology:
        primary = f"redis://127.0.0.1:{topology.primary_port()}/0"
        connections = {
            "redis:// to the primary": Resque(primary, registry=REGISTRY),
            "redis+sentinel://, wait_replicas=0": Resque(topology.url, registry=REGISTRY),
            "redis+sentinel://, wait_replicas=1": Resque(topology.url, registry=REGISTRY, wait_replicas=1),
            "redis+sentinel://, wait_replicas=2": Resque(topology.url, registry=REGISTRY, wait_replicas=2),
        }
        flush = connections["redis:// to the primary"].redis.flushdb

        def single(resque: Resque) -> Callable[[], float]:
            def body() -> None:
                for n in range(jobs):
                    resque.enqueue(EmailJob, n, "Welcome")

            return lambda: per_second(jobs, body, flush)

        def bulk(resque: Resque) -> Callable[[], float]:
            batch = [(n, "Welcome") for n in range(bulk_jobs)]
            return lambda: per_second(bulk_jobs, lambda: resque.enqueue_many(EmailJob, batch), flush)

        candidates = {f"enqueue, {name}": single(resque) for name, resque in connections.items()}
        candidates |= {f"enqueue_many, {name}": bulk(resque) for name, resque in connections.items()}
        rates = median_rates(runs, candidates)
    rows = [Measurement(name, rate, "jobs/s") for name, rate in rates.items()]
    base = rates["enqueue, redis:// to the primary"]
    rows.append(Measurement("enqueue wait_replicas=1 / plain redis://", rates[f"enqueue, {_durable(1)}"] / base, "x"))
    rows.append(Measurement("enqueue wait_replicas=2 / plain redis://", rates[f"enqueue, {_durable(2)}"] / base, "x"))
    return rows


def _durable(replicas: int) -> str:
    return f"redis+sentinel://, wait_replicas={replicas}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5_000, help="jobs per single-enqueue run")
    parser.add_argument("--bulk-jobs", type=int, default=100_000, help="jobs per enqueue_many run")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs; medians are reported")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    rows = run(options.jobs, options.bulk_jobs, options.runs)
    return report(f"durable enqueue benchmark (median of {options.runs} interleaved runs)", rows, options.json_path)


if __name__ == "__main__":
    sys.exit(main())
