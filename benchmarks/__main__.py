"""``python -m benchmarks``: the benchmark suite.

    python -m benchmarks run [--out bench-out] [--only worker,latency] [--quick] [--runs N] [--no-peers]
                             [--ruby-lib DIR] [--fail-on-miss]
    python -m benchmarks list

Every section starts its own redis-server on a free loopback port (``redis-server`` must be installed)
and measures each figure beside its baseline in the same run; python-rq is measured beside ours when it
is installed (``pip install -e '.[bench]'``), and Ruby Resque 3.0's workers when ``ruby`` is installed and
``--ruby-lib`` (or ``RESQUE_RUBY_LIB``) names Resque's ``lib/`` (see ``benchmarks/ruby_peer.py``). A full
run takes about 10 minutes on two cores; ``--quick`` runs every section small, in about 30 s, to check
that it works. The sections are also scripts of their own with more options:
``python -m benchmarks.worker --help``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys
from pathlib import Path

from benchmarks import peers, ruby_peer, suite
from resque_impl.testing import RedisServer


def _sections(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in suite.SECTIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown section {', '.join(unknown) or '(none)'}; choose from {', '.join(suite.SECTIONS)}"
        )
    return names


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="measure, print the tables, write results.json and results.md")
    run.add_argument("--out", type=Path, default=Path("bench-out"), help="directory for the results")
    run.add_argument("--only", type=_sections, default=list(suite.SECTIONS), help="comma-separated sections")
    run.add_argument("--quick", action="store_true", help="every section small: a smoke test, not figures")
    run.add_argument("--runs", type=_positive, help="interleaved runs per figure (median reported); default 3")
    run.add_argument("--no-peers", action="store_true", help="leave python-rq and Ruby Resque out")
    run.add_argument(
        "--ruby-lib", help=f"Ruby Resque 3.0's lib/, for its workers beside ours (default: ${ruby_peer.LIB_VARIABLE})."
    )
    run.add_argument("--fail-on-miss", action="store_true", help="exit 1 when a target is missed")
    commands.add_parser("list", help="the sections, in the order they run")
    # What `run` starts for each section, in a fresh interpreter.
    one = commands.add_parser("section", help=argparse.SUPPRESS)
    one.add_argument("name", choices=list(suite.SECTIONS))
    one.add_argument("--sizes", type=json.loads, required=True)
    one.add_argument("--rows", type=Path, required=True)
    one.add_argument("--no-peers", action="store_true")
    options = parser.parse_args(argv)

    if options.command == "section":
        rows = suite.measure(options.name, suite.Sizes(**options.sizes), not options.no_peers)
        options.rows.write_text(json.dumps([row.as_dict() for row in rows]))
        return 0

    if options.command == "list":
        for name, section in suite.SECTIONS.items():
            print(f"{name:<10} {section.title} (about {section.minutes:g} min)")
        return 0

    if not RedisServer.available():
        parser.error(
            "redis-server is not on PATH: install it (e.g. apt-get install redis-server); every section starts its own"
        )
    sizes = suite.QUICK if options.quick else suite.FULL
    if options.runs is not None:
        sizes = dataclasses.replace(sizes, runs=options.runs, sim_runs=options.runs)
    with_peers = not options.no_peers
    if with_peers and not peers.installed():
        print("python-rq is not installed: measuring ours alone (pip install -e '.[bench]' to compare)")
    if options.ruby_lib:
        os.environ[ruby_peer.LIB_VARIABLE] = options.ruby_lib  # read by the sections' processes
    if with_peers and (reason := ruby_peer.missing()) is not None:
        print(f"Ruby Resque's workers are left out: {reason}")
    command = shlex.join(["python", "-m", "benchmarks", *(sys.argv[1:] if argv is None else argv)])
    try:
        document = suite.run(options.only, sizes, options.out, with_peers=with_peers, command=command)
    except suite.SectionFailed as failure:
        print(f"\n{failure}; what was measured before it is in {options.out}/results.json", file=sys.stderr)
        return 1
    missed = document["targets"]["missed"]
    print(
        f"\n{document['targets']['met']} targets met, {len(missed)} missed"
        + (f" ({'; '.join(missed)})" if missed else "")
        + f"; {document['wall_seconds']:.0f} s; results in {options.out}/results.json and results.md"
    )
    if document["quick"]:
        print("(--quick: sizes too small for the verdicts to mean anything; run without it for figures)")
    return 1 if options.fail_on_miss and missed else 0


if __name__ == "__main__":
    sys.exit(main())
