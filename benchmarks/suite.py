"""The whole benchmark suite: every section on private redis-servers, each figure beside the baseline it
is judged against (measured in the same run), python-rq beside ours where it is installed; the results
with the machine they were measured on, as ``results.json`` and a Markdown table (``results.md``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import agreement, concurrency_peers, enqueue, peers, ruby_peer, scheduler, sim, tracing, web, worker
from benchmarks._common import Measurement, installed_version, print_table

__all__ = ["FULL", "QUICK", "SECTIONS", "SectionFailed", "Sizes", "machine", "markdown", "measure", "run", "summary"]


class SectionFailed(RuntimeError):
    """A section's process ended with an error; the sections before it are already written out."""


@dataclass(frozen=True)
class Sizes:
    """How much each section measures; :data:`FULL` are the sizes the issues' targets are stated for."""

    runs: int
    enqueue_jobs: int
    bulk_jobs: int
    drain_jobs: int
    fork_jobs: int
    memory_jobs: int
    latency_samples: int
    sim_runs: int
    sim_duration: str | None
    sim_sweeps: bool
    sim_million: bool
    scheduler_jobs: int
    web_jobs: int
    web_failures: int
    web_delayed: int
    web_timestamps: int
    web_repeat: int
    agreement_seconds: float
    agreement_scenarios: tuple[str, ...]
    slot_jobs: int = 100  # jobs per slot in each concurrency-peers run


FULL = Sizes(
    runs=3,
    enqueue_jobs=20_000,
    bulk_jobs=200_000,
    drain_jobs=20_000,
    fork_jobs=2_000,
    memory_jobs=100_000,
    latency_samples=50,
    sim_runs=3,
    sim_duration=None,
    sim_sweeps=True,
    sim_million=True,
    scheduler_jobs=50_000,
    web_jobs=1_000_000,
    web_failures=100_000,
    web_delayed=100_000,
    web_timestamps=10_000,
    web_repeat=20,
    agreement_seconds=90,
    agreement_scenarios=agreement.SCENARIOS,
)

#: A smoke run of every section in about 30 s; its figures are too small to judge targets by.
QUICK = Sizes(
    runs=1,
    enqueue_jobs=2_000,
    bulk_jobs=20_000,
    drain_jobs=2_000,
    fork_jobs=200,
    memory_jobs=5_000,
    latency_samples=10,
    sim_runs=1,
    sim_duration="2m",
    sim_sweeps=False,
    sim_million=False,
    scheduler_jobs=5_000,
    web_jobs=20_000,
    web_failures=2_000,
    web_delayed=2_000,
    web_timestamps=200,
    web_repeat=3,
    agreement_seconds=20,
    agreement_scenarios=("nofork",),
    slot_jobs=10,
)


@dataclass(frozen=True)
class _Section:
    title: str
    minutes: float  # at FULL sizes on two cores, for the progress line
    measure: Callable[[Sizes, bool], list[Measurement]]


SECTIONS: dict[str, _Section] = {
    "enqueue": _Section(
        "enqueue: single and bulk, vs a bare redis-py RPUSH loop",
        1,
        lambda s, p: enqueue.run(s.enqueue_jobs, s.bulk_jobs, s.runs, p),
    ),
    "worker": _Section(
        "worker drain of no-op jobs: jobs/s and Redis round trips per job",
        5,
        lambda s, p: worker.drain(s.drain_jobs, s.fork_jobs, s.runs, p),
    ),
    "latency": _Section(
        "latency: enqueue to start of perform, idle worker",
        0.5,
        lambda s, p: worker.latency(s.latency_samples, p),
    ),
    "memory": _Section(
        "memory: worker RSS over a long run",
        0.2,
        lambda s, p: worker.memory(s.memory_jobs),
    ),
    "concurrency": _Section(
        "concurrency: --concurrency 1 against no flag, and jobs waiting 50 ms with 1 and 10 slots",
        0.5,
        lambda s, p: worker.concurrency(s.drain_jobs, runs=s.runs),
    ),
    "concurrency-peers": _Section(
        "concurrency-peers: N jobs at once per process, jobs waiting 20 ms, beside Dramatiq, Celery and arq",
        4,
        lambda s, p: concurrency_peers.run(s.slot_jobs, s.runs, p),
    ),
    "simulator": _Section(
        "simulator: simulated jobs per wall-second, sweeps, a 1,000,000-job run",
        2,
        lambda s, p: sim.run(s.sim_runs, million=s.sim_million, sweeps=s.sim_sweeps, duration=s.sim_duration),
    ),
    "agreement": _Section(
        "agreement: the simulator beside real workers on the validation scenarios",
        5,
        lambda s, p: agreement.run(
            s.agreement_seconds, Path(tempfile.mkdtemp(prefix="agreement-")), s.agreement_scenarios
        ),
    ),
    "scheduler": _Section(
        "scheduler: moving due delayed jobs",
        0.2,
        lambda s, p: scheduler.run(s.scheduler_jobs, s.runs),
    ),
    "web": _Section(
        "dashboard: page times on a large deployment",
        0.2,
        lambda s, p: web.run(s.web_jobs, s.web_failures, s.web_delayed, s.web_timestamps, s.web_repeat, False),
    ),
    "tracing": _Section(
        "tracing: the no-fork worker traced (always on and 1 in 10 sampled) beside untraced and a bare SDK span",
        2,
        lambda s, p: tracing.run(s.drain_jobs, s.runs),
    ),
}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _redis_server_version() -> str | None:
    try:
        printed = subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(r"v=(\S+)", printed)
    return found.group(1) if found else printed.strip()


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def machine() -> dict[str, Any]:
    """What the figures were measured on and with."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "redis_server": _redis_server_version(),
        "versions": {
            name: version
            for name in (
                "resque-impl",
                "redis",
                "hiredis",
                "fakeredis",
                "simpy",
                "flask",
                "rq",
                "dramatiq",
                "celery",
                "arq",
            )
            if (version := installed_version(name)) is not None
        },
        "git_commit": _git_commit(),
    }


def measure(name: str, sizes: Sizes, with_peers: bool) -> list[Measurement]:
    """Measure one section in this process."""
    return SECTIONS[name].measure(sizes, with_peers)


def _measure_apart(name: str, sizes: Sizes, with_peers: bool) -> list[Measurement]:
    """Measure one section in a fresh interpreter, so no section inherits another's heap (a process
    grown by a bulk enqueue forks several times slower) or imports (rq's, the simulator's)."""
    with tempfile.TemporaryDirectory() as scratch:
        rows_file = Path(scratch) / "rows.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks",
            "section",
            name,
            "--sizes",
            json.dumps(dataclasses.asdict(sizes)),
            "--rows",
            str(rows_file),
        ]
        if not with_peers:
            command.append("--no-peers")
        status = subprocess.run(command, check=False, cwd=Path(__file__).resolve().parents[1]).returncode
        if status != 0:
            raise SectionFailed(f"section {name} failed (exit status {status}; its error is printed above)")
        return [Measurement(**row) for row in json.loads(rows_file.read_text())]


def _peers(with_peers: bool) -> dict[str, str]:
    found: dict[str, str | None] = {}
    if with_peers:
        found = {"rq": peers.version(), "ruby_resque": ruby_peer.version()}
        found |= {name: installed_version(name) for name in concurrency_peers.PEERS}
    return {name: version for name, version in found.items() if version is not None}


def run(
    sections: Sequence[str],
    sizes: Sizes,
    out: Path,
    *,
    with_peers: bool = True,
    command: str = "",
) -> dict[str, Any]:
    """Measure ``sections`` in order, each in a process of its own, printing each table as it completes;
    write ``out/results.json`` and ``out/results.md``; return the results document."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    document: dict[str, Any] = {
        "version": 1,
        "command": command,
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        # Quick sizes smoke-test the sections; their verdicts say nothing about the targets.
        "quick": sizes == QUICK,
        "sizes": dataclasses.asdict(sizes),
        "peers": _peers(with_peers),
        "sections": {},
    }
    scale = 1.0 if sizes == FULL else 0.1
    for position, name in enumerate(sections, 1):
        section = SECTIONS[name]
        print(
            f"\n[{position}/{len(sections)}] {section.title} (about {max(0.1, section.minutes * scale):.1f} min)",
            flush=True,
        )
        section_started = time.perf_counter()
        rows = _measure_apart(name, sizes, with_peers)
        seconds = time.perf_counter() - section_started
        print_table(f"{name} ({seconds:.0f} s)", rows)
        document["sections"][name] = {"seconds": round(seconds, 1), "rows": [row.as_dict() for row in rows]}
        # Written after every section, so an interrupted run keeps what it measured.
        _write(out, document, started)
    return document


def _write(out: Path, document: dict[str, Any], started: float) -> None:
    rows = [row for section in document["sections"].values() for row in section["rows"]]
    document["wall_seconds"] = round(time.perf_counter() - started, 1)
    document["targets"] = {
        "met": sum(1 for row in rows if row["ok"] is True),
        "missed": [row["name"].strip() for row in rows if row["ok"] is False],
    }
    (out / "results.json").write_text(json.dumps(document, indent=2) + "\n")
    (out / "results.md").write_text(markdown(document))


def _figure(value: float, unit: str) -> str:
    if unit == "x" or abs(value) < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _headlines(document: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, ours, what it is judged against or compared with, ratio) names of the rows the summary table
    shows; rows a run did not measure are left out."""
    rq = f"rq {document['peers']['rq']}" if document["peers"].get("rq") else "rq"
    sizes = document["sizes"]
    return [
        ("enqueue, one job", "Resque.enqueue", "bare redis-py rpush loop", "enqueue / bare rpush"),
        ("", "Resque.enqueue", f"{rq} Queue.enqueue", "Resque.enqueue / rq Queue.enqueue"),
        (
            "enqueue_many",
            "Resque.enqueue_many",
            f"{rq} Queue.enqueue_many",
            "Resque.enqueue_many / rq Queue.enqueue_many",
        ),
        (
            "worker, no fork",
            "ours, no fork (reliable fetch)",
            "bare loop, one redis-py LPOP per job",
            "ours no fork / bare LPOP loop",
        ),
        ("", "ours, no fork (reliable fetch)", f"{rq} SimpleWorker (no fork)", "ours no fork / rq SimpleWorker"),
        (
            "",
            "ours, no fork (reliable fetch)",
            "bare loop, one redis-py LPOP + json.loads per job",
            "ours no fork / bare LPOP + json.loads loop",
        ),
        (
            "worker process, no fork",
            "ours, resque-impl work --burst --no-fork",
            "Ruby Resque, FORK_PER_JOB=false",
            "ours no fork / Ruby Resque no fork",
        ),
        ("worker, fork per job", "ours, fork per job", "bare fork/_exit/waitpid loop", "ours fork / bare fork loop"),
        ("", "ours, fork per job", f"{rq} Worker (fork per job)", "ours fork / rq Worker"),
        (
            "worker process, fork per job",
            "ours, resque-impl work --burst, fork per job",
            "Ruby Resque, fork per job",
            "ours fork / Ruby Resque fork",
        ),
        (
            "round trips per job, no fork",
            "round trips per job, ours no fork",
            "round trips per job, rq SimpleWorker",
            "",
        ),
        ("round trips per job, fork", "round trips per job, ours fork", "round trips per job, rq Worker", ""),
        ("idle pickup p50", "idle pickup, ours (fork, default options) p50", "idle pickup, rq Worker (fork) p50", ""),
        ("idle pickup p99", "idle pickup, ours p99", "idle pickup, rq Worker p99", ""),
        (
            f"worker RSS after {sizes['memory_jobs']:,} jobs",
            f"worker RSS after {sizes['memory_jobs']:,} jobs",
            "",
            "",
        ),
        ("  growth", f"growth over the last {sizes['memory_jobs'] - 2_000:,} jobs", "", ""),
        ("simulator, spike on fake", "spike on fake", "baseline: library steps in a bare loop, fake", ""),
        ("", "spike on fake", "yardstick: Ruby's naive sequence on fakeredis", "simulator / yardstick"),
        ("simulator, spike on memory", "spike on memory", "baseline: library steps in a bare loop, memory", ""),
        ("", "spike on memory", "SimPy-only loop of the same events per job", "simulator / SimPy-only loop"),
        ("sweep 7 x 5 x 50k, spike", "sweep 7 x 5 x 50k of spike on memory", "", ""),
        ("sweep 7 x 5 x 50k, steady", "sweep 7 x 5 x 50k of steady on memory", "", ""),
        ("1,000,000-job run, peak RSS", "peak RSS, ", "", ""),
        (
            "scheduler, moving due jobs",
            "Resque.release_due (Lua batch)",
            "resque-scheduler-style WATCH/MULTI move",
            "release_due / WATCH-MULTI move",
        ),
        ("dashboard, slowest page p95", "worst page p95", "", ""),
    ]


def _cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    unit = "" if row["unit"] in ("", "x") else f" {row['unit']}"
    return f"{_figure(row['value'], row['unit'])}{unit}"


def summary(document: dict[str, Any]) -> str:
    """The headline figures as one Markdown table: ours, what it stands beside, the ratio, the target."""
    rows: dict[str, dict[str, Any]] = {}
    for section in document["sections"].values():
        for row in section["rows"]:
            rows.setdefault(row["name"].strip(), row)

    def find(name: str) -> dict[str, Any] | None:
        if not name:
            return None
        # The million-job run's name carries its exact job count.
        return rows.get(name) or next((row for key, row in rows.items() if key.startswith(name)), None)

    lines = ["| | ours | beside it | ratio | target |", "|---|---:|---|---:|---|"]
    for what, ours_name, other_name, ratio_name in _headlines(document):
        ours, other, ratio = find(ours_name), find(other_name), find(ratio_name)
        if ours is None:
            continue
        judged = ratio if ratio is not None and ratio["target"] else ours
        verdict = {True: "pass", False: "**miss**", None: ""}[judged["ok"]]
        target = f"{judged['target']}: {verdict}" if judged["target"] else ""
        beside = f"{other['name'].strip()}: {_cell(other)}" if other is not None else ""
        ratio_text = f"{ratio['value']:.2f}x" if ratio is not None else ""
        lines.append(f"| {what} | {_cell(ours)} | {beside} | {ratio_text} | {target} |")
    return "\n".join(lines) + "\n"


def _machine_line(document: dict[str, Any]) -> str:
    info = document["machine"]
    versions = ", ".join(f"{name} {version}" for name, version in info["versions"].items())
    return (
        f"Measured {document['started_at'][:10]} on {info['cpu_count']} x {info['cpu_model']}"
        f" ({info['memory_gb']} GB), {info['platform']}; {info['python']}, redis-server {info['redis_server']};"
        f" {versions}."
    )


def markdown(document: dict[str, Any]) -> str:
    """The results as Markdown: the machine, the headline table, then one table per section."""
    lines = [_machine_line(document), "", summary(document)]
    for name, section in document["sections"].items():
        lines += [f"**{name}**", "", "| figure | value | unit | target | |", "|---|---:|---|---|---|"]
        for row in section["rows"]:
            verdict = {True: "pass", False: "**miss**", None: ""}[row["ok"]]
            label = row["name"].strip().replace("|", "\\|")
            lines.append(
                f"| {label} | {_figure(row['value'], row['unit'])} | {row['unit']} | {row['target']} | {verdict} |"
            )
        lines.append("")
    return "\n".join(lines)
