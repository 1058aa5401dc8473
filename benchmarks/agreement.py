"""The simulator held to real workers: each validation scenario (``scenarios/validation/``) run live on a
private redis-server with real ``resque-impl work`` processes, and simulated with a calibration measured
just before on the same machine (``resque_sim.agreement``), side by side.

Targets (issue #16): simulated mean wait and p95 latency within max(10 %, 5 ms) of live, completed
counts within 2 %.

    python -m benchmarks.agreement [--seconds 90] [--out bench-out/agreement] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks._common import Measurement, print_table
from resque_impl.testing import RedisServer
from resque_sim.agreement import Agreement, check_agreement
from resque_sim.scenario import load_scenario

__all__ = ["SCENARIOS", "run"]

VALIDATION = Path(__file__).resolve().parents[1] / "scenarios" / "validation"
SCENARIOS = ("nofork", "fork", "polling", "concurrent")
_UNITS = {"mean wait": "ms", "p95 latency": "ms", "completed": "jobs"}


def _rows(agreement: Agreement) -> list[Measurement]:
    rows = []
    for target in agreement.targets:
        scale = 1000.0 if _UNITS[target.figure] == "ms" else 1.0
        unit = _UNITS[target.figure]
        limit = "max(10 %, 5 ms)" if unit == "ms" else "2 %"
        label = f"{agreement.scenario} {target.figure}"
        rows.append(Measurement(f"{label}, live", target.live * scale, unit))
        rows.append(Measurement(f"{label}, simulated", target.simulated * scale, unit, f"within {limit}", target.ok))
    return rows


def run(seconds: float, out: Path, names: tuple[str, ...] = SCENARIOS) -> list[Measurement]:
    """Each scenario for ``seconds`` of arrivals (10 s of them warm-up), live beside simulated."""
    measurements: list[Measurement] = []
    for name in names:
        scenario = load_scenario(VALIDATION / f"{name}.yaml", [f"duration={seconds:g}s"])
        with RedisServer() as server:
            agreement = check_agreement(scenario, server.url, out=out / name, charts=True)
        rows = _rows(agreement)
        print_table(f"agreement: {scenario.name} ({seconds:g} s live and simulated)", rows)
        measurements += rows
    return measurements


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90.0, help="seconds of arrivals per scenario [90]")
    parser.add_argument("--out", type=Path, default=Path("bench-out/agreement"), help="run outputs go here")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"scenarios, of {', '.join(SCENARIOS)}")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    options = parser.parse_args(argv)
    names = tuple(name for name in options.only.split(",") if name)
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown or options.seconds < 20:
        parser.error(f"unknown scenarios {unknown}" if unknown else "--seconds must be at least 20 (10 s warm-up)")
    rows = run(options.seconds, options.out, names)
    if options.json is not None:
        options.json.write_text(json.dumps([row.as_dict() for row in rows], indent=2) + "\n")
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
