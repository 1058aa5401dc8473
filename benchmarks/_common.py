"""Helpers shared by the benchmark scripts: the enqueue benchmarks' job class, medians over interleaved
runs, and a result table (printed, and written as JSON when asked)."""

from __future__ import annotations

import compileall
import functools
import importlib.metadata
import json
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from resque_impl import Registry, job

__all__ = [
    "REGISTRY",
    "EmailJob",
    "Measurement",
    "compile_bytecode",
    "installed_version",
    "median_rates",
    "per_second",
    "print_table",
    "report",
    "run_order",
]

_T = TypeVar("_T")

#: The benchmarks' own job classes, kept out of the global registry.
REGISTRY = Registry()


@job(queue="email", registry=REGISTRY)
class EmailJob:
    """The job the enqueue benchmarks enqueue (``perform(user_id, message)``); nothing performs it."""

    @staticmethod
    def perform(user_id: int, message: str) -> None: ...


@dataclass
class Measurement:
    """A named figure with its target; ``ok`` is None where there is no target."""

    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "ok": self.ok,
        }


def per_second(operations: int, body: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    """Operations per second of one timed run of ``body`` (``setup`` runs untimed first)."""
    if setup is not None:
        setup()
    started = time.perf_counter()
    body()
    return operations / (time.perf_counter() - started)


def run_order(names: Iterable[_T], run: int) -> list[_T]:
    """The order to measure ``names`` in on run ``run`` (0-based) of interleaved runs: as given on even
    runs, reversed on odd ones, so that no candidate always follows the same one (a neighbour's
    after-effects, a forking run after a 20,000-job one say, moved figures by up to 1.3x)."""
    order = list(names)
    return order if run % 2 == 0 else order[::-1]


def median_rates(runs: int, candidates: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Run each candidate ``runs`` times, interleaved so machine noise hits all alike (see
    :func:`run_order`); medians."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for run in range(runs):
        for name in run_order(candidates, run):
            samples[name].append(candidates[name]())
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(title: str, rows: list[Measurement]) -> None:
    print(f"\n{title}")
    for row in rows:
        verdict = "" if row.ok is None else ("  PASS" if row.ok else "  MISS")
        target = f"  (target {row.target})" if row.target else ""
        print(f"  {row.name:<52} {row.value:>14,.2f} {row.unit:<8}{target}{verdict}")


def report(title: str, rows: list[Measurement], json_path: str | None) -> int:
    """Print ``rows`` under ``title`` and write them to ``json_path`` when given; the exit status is 1
    when a target was missed, else 0."""
    print_table(title, rows)
    if json_path:
        with open(json_path, "w") as handle:
            json.dump([row.as_dict() for row in rows], handle, indent=2)
    return 0 if all(row.ok is not False for row in rows) else 1


@functools.cache
def compile_bytecode() -> None:
    """Write the bytecode of our packages and the benchmarks' jobs, once per run, so that worker processes
    start as they do from an installed package (pip compiles a package's modules when it installs it). A
    checkout installed in editable mode has none, and where ``PYTHONDONTWRITEBYTECODE`` is set (as on the
    machines these figures come from) every worker start would compile all of our modules again: about
    0.1 s, which a process-start-included rate of a few thousand forked jobs would count against us."""
    root = Path(__file__).resolve().parents[1]
    for package in ("resque_impl", "benchmarks"):
        compileall.compile_dir(root / package, quiet=1)


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
