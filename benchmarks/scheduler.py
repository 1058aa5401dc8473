"""Delayed-job throughput against a local redis-server.

* moving due jobs: ``Resque.release_due`` (one Lua script per batch of 100) beside resque-scheduler
  5.0's own batch move re-enacted with redis-py (LRANGE, then WATCH/MULTI with SREM, SADD and RPUSH per
  item and an LTRIM), measured in the same run;
* scheduling: ``enqueue_in`` beside ``enqueue``.

No targets are set by the issue; the figures are for the record.

    python -m benchmarks.scheduler [--jobs 50000] [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from benchmarks._common import Measurement, median_rates, per_second, report
from resque_impl import Registry, Resque, job
from resque_impl.codec import dumps, loads
from resque_impl.testing import RedisServer

__all__ = ["run"]

_registry = Registry()
_BATCH = 100


@job(queue="email", registry=_registry)
class DelayedEmail:
    @staticmethod
    def perform(user_id: int) -> None: ...


def _fill(client: Any, resque: Resque, jobs: int, timestamp: int) -> None:
    client.flushdb()
    pipe = client.pipeline(transaction=False)
    keys = resque.keys
    for n in range(jobs):
        item = dumps({"class": "DelayedEmail", "args": [n], "queue": "email"})
        pipe.rpush(keys.delayed(timestamp), item)
        pipe.sadd(keys.delayed_timestamps(item.decode()), keys.delayed_bucket(timestamp))
    pipe.zadd(keys.delayed_schedule, {str(timestamp): timestamp})
    pipe.execute()


def _ruby_style_move(client: Any, resque: Resque, timestamp: int) -> None:
    """resque-scheduler 5.0's enqueue_items_in_batch_for_timestamp, batch after batch."""
    keys = resque.keys
    bucket = keys.delayed(timestamp)
    while True:
        items = client.lrange(bucket, 0, _BATCH - 1)
        with client.pipeline(transaction=True) as pipe:
            pipe.watch(bucket)
            pipe.multi()
            for raw in items:
                pipe.srem(keys.delayed_timestamps(raw.decode()), keys.delayed_bucket(timestamp))
                item = loads(raw)
                pipe.sadd(keys.queues, item["queue"])
                pipe.rpush(keys.queue(item["queue"]), dumps({"class": item["class"], "args": item["args"]}))
            pipe.ltrim(bucket, _BATCH, -1)
            pipe.execute()
        if len(items) < _BATCH:
            client.zrem(keys.delayed_schedule, timestamp)
            return


def run(jobs: int = 50_000, runs: int = 3) -> list[Measurement]:
    """Measure on a private redis-server."""
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client, registry=_registry)
        due = int(resque.clock.time()) - 1

        def ruby_style() -> float:
            return per_second(
                jobs, lambda: _ruby_style_move(client, resque, due), lambda: _fill(client, resque, jobs, due)
            )

        def release_due() -> float:
            def body() -> None:
                assert resque.release_due(batch_size=_BATCH) == jobs

            return per_second(jobs, body, lambda: _fill(client, resque, jobs, due))

        def enqueue_in() -> float:
            def body() -> None:
                for n in range(jobs // 5):
                    resque.enqueue_in(3600, DelayedEmail, n)

            return per_second(jobs // 5, body, client.flushdb)

        def enqueue() -> float:
            def body() -> None:
                for n in range(jobs // 5):
                    resque.enqueue(DelayedEmail, n)

            return per_second(jobs // 5, body, client.flushdb)

        rates = median_rates(
            runs, {"ruby": ruby_style, "release": release_due, "enqueue_in": enqueue_in, "enqueue": enqueue}
        )
        client.close()
    return [
        Measurement("resque-scheduler-style WATCH/MULTI move", rates["ruby"], "jobs/s"),
        Measurement("Resque.release_due (Lua batch)", rates["release"], "jobs/s"),
        Measurement("release_due / WATCH-MULTI move", rates["release"] / rates["ruby"], "x"),
        Measurement("Resque.enqueue_in", rates["enqueue_in"], "jobs/s"),
        Measurement("Resque.enqueue", rates["enqueue"], "jobs/s"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=50_000, help="delayed jobs moved per run")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs; medians are reported")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    rows = run(options.jobs, options.runs)
    return report(f"scheduler benchmark (median of {options.runs} interleaved runs)", rows, options.json_path)


if __name__ == "__main__":
    sys.exit(main())
