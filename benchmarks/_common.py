"""Helpers shared by the benchmark scripts: medians over interleaved runs, and a result table."""

from __future__ import annotations

import importlib.metadata
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Measurement", "installed_version", "median_rates", "per_second", "print_table"]


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


def median_rates(runs: int, candidates: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Run each candidate ``runs`` times, interleaved so machine noise hits all alike; medians."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(runs):
        for name, measure in candidates.items():
            samples[name].append(measure())
    return {name: statistics.median(values) for name, values in samples.items()}


def print_table(title: str, rows: list[Measurement]) -> None:
    print(f"\n{title}")
    for row in rows:
        verdict = "" if row.ok is None else ("  PASS" if row.ok else "  MISS")
        target = f"  (target {row.target})" if row.target else ""
        print(f"  {row.name:<52} {row.value:>14,.2f} {row.unit:<8}{target}{verdict}")


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
