"""``resque-sim``: replay a scenario file in simulated time (the engine lands with the simulator)."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Entry point; exits 2 until the simulator engine is built."""
    sys.stderr.write("resque-sim: the simulator engine is not built yet\n")
    raise SystemExit(2)
