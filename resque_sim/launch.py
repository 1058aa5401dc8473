"""The ``resque-sim`` entry point: says which extra to install when the simulator's dependencies
(SimPy, pandas, matplotlib, ...) are missing, instead of failing with a traceback."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main() -> None:
    """Run :func:`resque_sim.cli.main`, or exit 2 naming the missing extra."""
    try:
        from resque_sim.cli import main as cli_main  # noqa: PLC0415 - the import is what may fail
    except ModuleNotFoundError as missing:
        sys.stderr.write(
            f"resque-sim needs the 'sim' extra ({missing.name} is missing): pip install 'resque-impl[sim]'\n"
        )
        raise SystemExit(2) from None
    cli_main()
