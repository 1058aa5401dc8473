"""AsyncResque's enqueue throughput against a local redis-server, beside a bare ``redis.asyncio`` RPUSH
loop and the synchronous ``Resque.enqueue`` measured in the same run.

Targets: one ``await enqueue`` at a time at >= 0.9x the rate of a bare ``redis.asyncio`` ``rpush`` loop
(the client adds no round trip and little work), and ``concurrency`` enqueues in flight at once (as a
web app's concurrent requests make them) faster than one at a time.

    python -m benchmarks.enqueue_async [--jobs 20000] [--concurrency 50] [--runs 5] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import redis.asyncio

from benchmarks._common import REGISTRY, EmailJob, Measurement, median_rates, per_second, report
from resque_impl import Resque
from resque_impl.aio import AsyncResque
from resque_impl.testing import RedisServer

__all__ = ["run"]


def run(jobs: int = 20_000, concurrency: int = 50, runs: int = 5) -> list[Measurement]:
    """Measure on a private redis-server; returns the figures with their targets."""
    with RedisServer() as server:
        client = server.client()
        sync = Resque(client, registry=REGISTRY)
        key = sync.keys.queue("email")
        payload = sync.encode(EmailJob, (42, "Welcome"))

        def on_a_loop(body: Any) -> float:
            async def timed() -> None:
                async with AsyncResque(server.url, registry=REGISTRY) as resque:
                    await body(resque)

            return per_second(jobs, lambda: asyncio.run(timed()), client.flushdb)

        async def bare(resque: AsyncResque) -> None:
            plain: Any = redis.asyncio.Redis.from_url(server.url)
            for _ in range(jobs):
                await plain.rpush(key, payload)
            await plain.aclose()

        async def one_at_a_time(resque: AsyncResque) -> None:
            for _ in range(jobs):
                await resque.enqueue(EmailJob, 42, "Welcome")

        async def concurrently(resque: AsyncResque) -> None:
            async def requests(count: int) -> None:
                for _ in range(count):
                    await resque.enqueue(EmailJob, 42, "Welcome")

            await asyncio.gather(*(requests(jobs // concurrency) for _ in range(concurrency)))

        def sync_enqueue() -> float:
            def body() -> None:
                for _ in range(jobs):
                    sync.enqueue(EmailJob, 42, "Welcome")

            return per_second(jobs, body, client.flushdb)

        rates = median_rates(
            runs,
            {
                "rpush": lambda: on_a_loop(bare),
                "enqueue": lambda: on_a_loop(one_at_a_time),
                "concurrent": lambda: on_a_loop(concurrently),
                "sync": sync_enqueue,
            },
        )
        client.close()
    ratio = rates["enqueue"] / rates["rpush"]
    gain = rates["concurrent"] / rates["enqueue"]
    return [
        Measurement("bare redis.asyncio rpush loop", rates["rpush"], "ops/s"),
        Measurement("AsyncResque.enqueue, one at a time", rates["enqueue"], "jobs/s"),
        Measurement("  / bare redis.asyncio rpush", ratio, "x", ">= 0.9x", ratio >= 0.9),
        Measurement(f"AsyncResque.enqueue, {concurrency} in flight", rates["concurrent"], "jobs/s"),
        Measurement("  / one at a time", gain, "x", "> 1x", gain > 1),
        Measurement("Resque.enqueue (sync, for reference)", rates["sync"], "jobs/s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per run")
    parser.add_argument("--concurrency", type=int, default=50, help="enqueues in flight at once")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs; medians are reported")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    rows = run(options.jobs, options.concurrency, options.runs)
    return report(f"async enqueue benchmark (median of {options.runs} interleaved runs)", rows, options.json_path)


if __name__ == "__main__":
    sys.exit(main())
