"""Sizes the reliability tests run at (each overridable by an environment variable), and where their
figures go: one JSON file per test under ``test-artifacts/chaos/``, plus a one-line summary on stdout.

====================================  =======  ===================================================================
variable                              default  meaning
====================================  =======  ===================================================================
``CHAOS_SEED``                        random   seed of every random choice (printed in each artifact)
``CHAOS_SIGKILL_JOBS``                5000     jobs in the SIGKILL test (sleeping 10-200 ms each)
``CHAOS_SIGKILL_KILLS``               150      SIGKILLs sent to workers and their children
``CHAOS_SIGKILL_CONCURRENCY_JOBS``    12000    jobs in its ``--concurrency 8`` run
``CHAOS_SIGKILL_CONCURRENCY_KILLS``   40       SIGKILLs sent to those workers (each cuts 8 jobs short)
``CHAOS_RESTART_JOBS``                2000     jobs enqueued while Redis restarts
``CHAOS_RESTARTS``                    10       Redis restarts (half SHUTDOWN, half SIGKILL)
``CHAOS_DROP_SECONDS``                60       seconds of CLIENT KILL and CLIENT PAUSE
``CHAOS_FUZZ_PAYLOADS``               2000     fuzzed payloads (plus a 64 MB one)
``CHAOS_DELAYED_JOBS``                10000    delayed jobs coming due while the scheduler is killed
``CHAOS_SCHEDULER_KILLS``             20       SIGKILLs of the scheduler
====================================  =======  ===================================================================
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from tests.chaos.procs import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "chaos"


def knob(name: str, default: int) -> int:
    """``$CHAOS_<name>`` as an integer, else ``default``."""
    text = os.environ.get(f"CHAOS_{name}", "").strip()
    return int(text) if text else default


def seeded_random(test: str) -> tuple[random.Random, int]:
    """A random source for one test, seeded from ``$CHAOS_SEED`` if set; returns it and the seed."""
    seed = knob("SEED", random.SystemRandom().randrange(1 << 32))
    return random.Random(f"{seed}:{test}"), seed


def publish(test: str, figures: dict[str, Any], summary: str) -> Path:
    """Write ``figures`` to ``test-artifacts/chaos/<test>.json`` and print ``summary`` on one line."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{test}.json"
    path.write_text(json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n")
    print(f"\n[chaos] {test}: {summary} ({path.relative_to(ROOT)})")
    return path
