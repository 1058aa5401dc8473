"""Worker throughput of two source trees of this repository, interleaved, on one redis-server.

For a change to the worker's hot path (the fork path's report framing, say), compare the tree before
it with the tree after it in one run, on a noisy shared machine::

    python -m benchmarks.ab_trees /work/main /work/wt-otel2 --mode fork --jobs 150 --rounds 25

Each round drains ``--jobs`` no-op jobs with a burst worker (``benchmarks.worker``'s, forking per job
or not) once per tree, in a fresh process whose ``PYTHONPATH`` is that tree, alternating which tree
goes first. Load from other processes changes over seconds, so short interleaved runs pair well: the
verdict is the median of the per-round ratios (second tree / first), beside each tree's median rate.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks._common import run_order
from resque_impl.testing import RedisServer

__all__ = ["compare", "main"]

# Run in each tree's own process: its resque_impl, its benchmarks.worker.
_DRAIN = """
import sys, time
import resque_impl
from resque_impl import Resque
from benchmarks.worker import _fill, _worker
url, fork, jobs = sys.argv[1], sys.argv[2] == "fork", int(sys.argv[3])
resque = Resque(url)
_fill(resque, jobs)
worker = _worker(resque, fork)
started = time.perf_counter()
worker.work()
elapsed = time.perf_counter() - started
assert resque.size("bench") == 0
print(resque_impl.__file__, jobs / elapsed)
"""


def _drain(tree: Path, url: str, mode: str, jobs: int) -> float:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    command = [sys.executable, "-c", _DRAIN, url, mode, str(jobs)]
    done = subprocess.run(command, cwd=tree, env=environment, capture_output=True, text=True, check=True)
    module, rate = done.stdout.split()
    if not module.startswith(str(tree)):
        raise RuntimeError(f"{tree} ran {module}: install this repository in editable mode, or run from a tree")
    return float(rate)


def compare(first: Path, second: Path, *, mode: str, jobs: int, rounds: int) -> tuple[list[float], list[float]]:
    """Rates (jobs/s) of ``first`` and ``second``, one per round, interleaved."""
    rates: dict[Path, list[float]] = {first: [], second: []}
    with RedisServer() as server:
        for index in range(rounds):
            for tree in run_order((first, second), index):
                rates[tree].append(_drain(tree, server.url, mode, jobs))
    return rates[first], rates[second]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="the tree before the change")
    parser.add_argument("second", type=Path, help="the tree after it")
    parser.add_argument("--mode", choices=("fork", "nofork"), default="fork")
    parser.add_argument("--jobs", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=25)
    options = parser.parse_args(argv)
    first, second = compare(
        options.first.resolve(), options.second.resolve(), mode=options.mode, jobs=options.jobs, rounds=options.rounds
    )
    ratio = statistics.median(after / before for before, after in zip(first, second, strict=True))
    print(
        f"{options.mode}, {options.jobs} jobs x {options.rounds} interleaved rounds: "
        f"{options.first} median {statistics.median(first):,.0f} jobs/s, "
        f"{options.second} median {statistics.median(second):,.0f} jobs/s; "
        f"median per-round ratio (second / first) {ratio:.3f}"
    )


if __name__ == "__main__":
    main()
