"""Worker throughput, Redis round trips per job, memory and idle pickup latency, on a private local
redis-server, each beside a baseline measured in the same run, beside python-rq when it is installed, and
beside Ruby Resque 3.0's own workers when Ruby and Resque's ``lib/`` are found (``RESQUE_RUBY_LIB`` or
``--ruby-lib``; see :mod:`benchmarks.ruby_peer`).

Targets (issues 3 and 17), as ratios because machines are noisy:

* no-fork worker >= 0.8x the rate of a bare loop doing one redis-py call (LPOP) per job, and >= 0.8x one
  doing an LPOP and a ``json.loads`` per job;
* fork-per-job worker >= 0.5x a bare ``os.fork()`` / ``os._exit`` / ``os.waitpid`` loop in this process;
* as operators run them (``resque-impl work --burst``, process start included, as is Ruby's):
  fork per job >= 1.5x Ruby Resque's forking worker, no fork >= 2.5x Ruby's with ``FORK_PER_JOB=false``;
* about one Redis round trip per job (acknowledge and reserve together);
* per-class job metrics (on by default) cost the no-fork worker < 5 % of its rate (issue 23);
* resident memory growth < 5 MB over 100,000 no-fork jobs;
* an idle worker picks up a job pushed by our producers within 50 ms (p99);
* ``--concurrency 1`` drains no-op jobs as fast as the worker without the flag (>= 0.95x), and jobs that
  wait 50 ms run about N times as fast with ``--concurrency N`` (N = 10: >= 8x), in threads or on the
  event loop (issue 18).

Round trips are counted by the server (``total_reads_processed``: one per request or pipeline a client
sends), so forked children count too, ours and rq's alike. Memory and latency are measured on workers
started as operators start them (``resque-impl work``, ``rq worker``), in processes of their own.

    python -m benchmarks.worker [--jobs 20000] [--fork-jobs 2000] [--memory-jobs 100000] [--runs 3]
                                [--no-peers] [--ruby-lib DIR] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis

from benchmarks import peers, ruby_peer
from benchmarks._common import Measurement, compile_bytecode, report, run_order
from benchmarks.tasks import LATENCY_KEY, RSS_KEY, AsyncSleep, Noop, Rss, Sleep, Stamp
from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions

__all__ = ["concurrency", "drain", "latency", "memory", "run"]

REPO = Path(__file__).resolve().parents[1]


@dataclass
class _Samples:
    rates: list[float] = field(default_factory=list)
    reads: list[float] = field(default_factory=list)
    commands: list[float] = field(default_factory=list)

    def rate(self) -> float:
        return statistics.median(self.rates)


def _fill(resque: Resque, jobs: int) -> None:
    resque.redis.flushdb()
    resque.enqueue_many(Noop, [(n,) for n in range(jobs)])


def _worker(
    resque: Resque,
    fork: bool,
    reliable: bool = True,
    queues: tuple[str, ...] = ("bench",),
    job_metrics: bool = True,
) -> Worker:
    # No push notifications: burst runs never idle, and the subscription would be one more connection.
    options = WorkerOptions(fork_per_job=fork, burst=True, notify=False, reliable=reliable, job_metrics=job_metrics)
    return Worker(list(queues), resque=resque, options=options, hooks=WorkerHooks())


def _bare_fork(jobs: int) -> None:
    for _ in range(jobs):
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)


def _run_ours(server: RedisServer, *options: str) -> None:
    subprocess.run(_ours(server, "bench", "--burst", *options), env=_environment(server), cwd=REPO, check=True)


def drain(jobs: int = 20_000, fork_jobs: int = 2_000, runs: int = 3, with_peers: bool = True) -> list[Measurement]:
    """Jobs per second and round trips per job draining no-op jobs: ours without and with fork (in this
    process, and as ``resque-impl work --burst`` processes), rq's ``SimpleWorker`` and ``Worker``, Ruby
    Resque's worker with and without fork, and the bare loops they are held to; medians of interleaved
    runs."""
    with_ruby = with_peers and ruby_peer.missing() is None
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client)
        key = resque.keys.queue("bench")

        def bare_lpop() -> None:
            for _ in range(jobs):
                client.lpop(key)

        def bare_lpop_json() -> None:
            for _ in range(jobs):
                json.loads(client.lpop(key))  # type: ignore[arg-type]

        # name: (jobs, fill, body, counts round trips)
        candidates: dict[str, tuple[int, Callable[[], object], Callable[[], object], bool]] = {
            "lpop": (jobs, lambda: _fill(resque, jobs), bare_lpop, False),
            "no_fork": (jobs, lambda: _fill(resque, jobs), lambda: _worker(resque, False).work(), True),
            "no_fork_no_metrics": (
                jobs,
                lambda: _fill(resque, jobs),
                lambda: _worker(resque, False, job_metrics=False).work(),
                True,
            ),
            "no_fork_plain": (jobs, lambda: _fill(resque, jobs), lambda: _worker(resque, False, False).work(), True),
            "no_fork_wild": (
                jobs,
                lambda: _fill(resque, jobs),
                lambda: _worker(resque, False, queues=("critical", "*")).work(),
                True,
            ),
            "lpop_json": (jobs, lambda: _fill(resque, jobs), bare_lpop_json, False),
            "bare_fork": (fork_jobs, lambda: None, lambda: _bare_fork(fork_jobs), False),
            "fork": (fork_jobs, lambda: _fill(resque, fork_jobs), lambda: _worker(resque, True).work(), True),
            "cli_fork": (fork_jobs, lambda: _fill(resque, fork_jobs), lambda: _run_ours(server), True),
            "cli_no_fork": (jobs, lambda: _fill(resque, jobs), lambda: _run_ours(server, "--no-fork"), True),
        }
        if with_ruby:
            candidates["ruby_fork"] = (
                fork_jobs,
                lambda: _fill(resque, fork_jobs),
                lambda: ruby_peer.drain(server.url, "bench", fork=True),
                True,
            )
            candidates["ruby_no_fork"] = (
                jobs,
                lambda: _fill(resque, jobs),
                lambda: ruby_peer.drain(server.url, "bench", fork=False),
                True,
            )
        if with_peers and peers.installed():
            rq_client = server.client()  # a connection pool of its own, as rq has in production
            candidates["rq_simple"] = (
                jobs,
                lambda: peers.fill(rq_client, jobs),
                lambda: peers.drain(rq_client, False),
                True,
            )
            candidates["rq_fork"] = (
                fork_jobs,
                lambda: peers.fill(rq_client, fork_jobs),
                lambda: peers.drain(rq_client, True),
                True,
            )

        samples = {name: _Samples() for name in candidates}
        for run in range(runs):
            # Interleaved, so the machine's noise falls on every candidate alike.
            for name in run_order(candidates, run):
                count, fill, body, counted = candidates[name]
                fill()
                client.config_resetstat()
                started = time.perf_counter()
                body()
                samples[name].rates.append(count / (time.perf_counter() - started))
                if counted:
                    stats = client.info("stats")
                    # Less the INFO request itself.
                    samples[name].reads.append((int(stats["total_reads_processed"]) - 1) / count)
                    samples[name].commands.append((int(stats["total_commands_processed"]) - 1) / count)
        client.close()

    rate = {name: sample.rate() for name, sample in samples.items()}
    no_fork_ratio, fork_ratio = rate["no_fork"] / rate["lpop"], rate["fork"] / rate["bare_fork"]
    decoded = rate["no_fork"] / rate["lpop_json"]
    metrics_ratio = rate["no_fork"] / rate["no_fork_no_metrics"]
    trips = statistics.median(samples["no_fork"].reads)
    rows = [
        Measurement("bare loop, one redis-py LPOP per job", rate["lpop"], "jobs/s"),
        Measurement("bare loop, one redis-py LPOP + json.loads per job", rate["lpop_json"], "jobs/s"),
        Measurement("ours, no fork (reliable fetch)", rate["no_fork"], "jobs/s"),
        Measurement("  ours no fork / bare LPOP loop", no_fork_ratio, "x", ">= 0.8x", no_fork_ratio >= 0.8),
        Measurement("  ours no fork / bare LPOP + json.loads loop", decoded, "x", ">= 0.8x", decoded >= 0.8),
        Measurement("ours, no fork, --no-job-metrics", rate["no_fork_no_metrics"], "jobs/s"),
        Measurement("  with job metrics / without", metrics_ratio, "x", ">= 0.95x", metrics_ratio >= 0.95),
        Measurement("ours, no fork, --no-reliable (Ruby's LPOP)", rate["no_fork_plain"], "jobs/s"),
        Measurement("  ... / bare LPOP loop", rate["no_fork_plain"] / rate["lpop"], "x"),
        Measurement("ours, no fork, queues critical,* (wildcard)", rate["no_fork_wild"], "jobs/s"),
        Measurement("  ... / bare LPOP loop", rate["no_fork_wild"] / rate["lpop"], "x"),
    ]
    if "rq_simple" in rate:
        rows += [
            Measurement(f"rq {peers.version()} SimpleWorker (no fork)", rate["rq_simple"], "jobs/s"),
            Measurement("  ours no fork / rq SimpleWorker", rate["no_fork"] / rate["rq_simple"], "x"),
        ]
    rows += [
        Measurement("bare fork/_exit/waitpid loop", rate["bare_fork"], "forks/s"),
        Measurement("ours, fork per job", rate["fork"], "jobs/s"),
        Measurement("  ours fork / bare fork loop", fork_ratio, "x", ">= 0.5x", fork_ratio >= 0.5),
    ]
    if "rq_fork" in rate:
        rows += [
            Measurement(f"rq {peers.version()} Worker (fork per job)", rate["rq_fork"], "jobs/s"),
            Measurement("  ours fork / rq Worker", rate["fork"] / rate["rq_fork"], "x"),
        ]
    rows += _process_rows(rate)
    rows.append(Measurement("round trips per job, ours no fork", trips, "", "~1 (<= 1.05)", trips <= 1.05))
    labels = {
        "no_fork_no_metrics": "ours no fork, --no-job-metrics",
        "no_fork_plain": "ours no fork, --no-reliable",
        "no_fork_wild": "ours no fork, wildcard",
        "fork": "ours fork",
        "cli_fork": "resque-impl work (fork)",
        "cli_no_fork": "resque-impl work --no-fork",
        "rq_simple": "rq SimpleWorker",
        "rq_fork": "rq Worker",
        "ruby_fork": "Ruby Resque (fork)",
        "ruby_no_fork": "Ruby Resque (no fork)",
    }
    for name, label in labels.items():
        if name in samples:
            rows.append(Measurement(f"round trips per job, {label}", statistics.median(samples[name].reads), ""))
    for name, label in {"no_fork": "ours no fork", **labels}.items():
        if name in samples:
            rows.append(Measurement(f"Redis commands per job, {label}", statistics.median(samples[name].commands), ""))
    return rows


def _process_rows(rate: dict[str, float]) -> list[Measurement]:
    """The workers as operators start them, process start included: ours, and Ruby Resque's when run."""
    rows = [
        Measurement("ours, resque-impl work --burst, fork per job", rate["cli_fork"], "jobs/s"),
        Measurement("ours, resque-impl work --burst --no-fork", rate["cli_no_fork"], "jobs/s"),
    ]
    if "ruby_fork" not in rate:
        return rows
    fork_ratio, no_fork_ratio = rate["cli_fork"] / rate["ruby_fork"], rate["cli_no_fork"] / rate["ruby_no_fork"]
    return [
        *rows,
        Measurement("Ruby Resque, fork per job (work(0), process start included)", rate["ruby_fork"], "jobs/s"),
        Measurement("  ours fork / Ruby Resque fork", fork_ratio, "x", ">= 1.5x", fork_ratio >= 1.5),
        Measurement("Ruby Resque, FORK_PER_JOB=false (work(0))", rate["ruby_no_fork"], "jobs/s"),
        Measurement("  ours no fork / Ruby Resque no fork", no_fork_ratio, "x", ">= 2.5x", no_fork_ratio >= 2.5),
    ]


def concurrency(jobs: int = 20_000, io_jobs: int = 60, runs: int = 3, slots: int = 10) -> list[Measurement]:
    """``resque-impl work --burst --no-fork`` processes: no-op jobs with and without ``--concurrency 1``,
    and jobs waiting 50 ms (``time.sleep`` and ``asyncio.sleep``) with one slot and with ``slots``;
    medians of interleaved runs."""
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client)

        def fill(job_class: type, count: int, *args: int) -> Callable[[], None]:
            def do() -> None:
                client.flushdb()
                resque.enqueue_many(job_class, [args or (n,) for n in range(count)])

            return do

        wide = io_jobs * slots
        # name: (jobs, fill, worker options)
        candidates: dict[str, tuple[int, Callable[[], None], tuple[str, ...]]] = {
            "noop": (jobs, fill(Noop, jobs), ()),
            "noop_c1": (jobs, fill(Noop, jobs), ("--concurrency", "1")),
            "io_c1": (io_jobs, fill(Sleep, io_jobs, 50), ()),
            "io_wide": (wide, fill(Sleep, wide, 50), ("--concurrency", str(slots))),
            "aio_wide": (wide, fill(AsyncSleep, wide, 50), ("--concurrency", str(slots))),
        }
        rates: dict[str, list[float]] = {name: [] for name in candidates}
        for run in range(runs):
            for name in run_order(candidates, run):
                count, do_fill, options = candidates[name]
                do_fill()
                queue = "io" if name.startswith(("io", "aio")) else "bench"
                started = time.perf_counter()
                subprocess.run(
                    _ours(server, queue, "--burst", "--no-fork", *options),
                    env=_environment(server),
                    cwd=REPO,
                    check=True,
                )
                rates[name].append(count / (time.perf_counter() - started))
        client.close()
    rate = {name: statistics.median(values) for name, values in rates.items()}
    same, io, aio = rate["noop_c1"] / rate["noop"], rate["io_wide"] / rate["io_c1"], rate["aio_wide"] / rate["io_c1"]
    return [
        Measurement("ours, resque-impl work --burst --no-fork, no-op jobs", rate["noop"], "jobs/s"),
        Measurement("  ... --concurrency 1", rate["noop_c1"], "jobs/s"),
        Measurement("  --concurrency 1 / without the flag", same, "x", ">= 0.95x", same >= 0.95),
        Measurement("jobs sleeping 50 ms, --concurrency 1", rate["io_c1"], "jobs/s"),
        Measurement(f"jobs sleeping 50 ms, --concurrency {slots} (threads)", rate["io_wide"], "jobs/s"),
        Measurement(f"  --concurrency {slots} / 1", io, "x", f">= {0.8 * slots:g}x", io >= 0.8 * slots),
        Measurement(f"async jobs awaiting 50 ms, --concurrency {slots} (event loop)", rate["aio_wide"], "jobs/s"),
        Measurement(f"  async --concurrency {slots} / sync 1", aio, "x", f">= {0.8 * slots:g}x", aio >= 0.8 * slots),
    ]


def _environment(server: RedisServer) -> dict[str, str]:
    compile_bytecode()
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "BENCH_REDIS_URL": server.url, "PYTHONPATH": path}


@contextmanager
def _process(command: list[str], server: RedisServer) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=_environment(server), cwd=REPO)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ours(server: RedisServer, queue: str, *options: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "resque_impl.cli",
        "work",
        "--redis",
        server.url,
        "--queues",
        queue,
        "--jobs",
        "benchmarks.tasks",
        *options,
    ]


def memory(jobs: int = 100_000, warmup: int = 2_000) -> list[Measurement]:
    """Resident memory of a ``resque-impl work --no-fork`` process after ``warmup`` and after ``jobs``
    no-op jobs, reported by the jobs themselves; a run shorter than twice the warm-up warms up for half
    of its jobs."""
    if jobs < 2:
        raise ValueError(f"the memory run needs at least 2 jobs, not {jobs}")
    warmup = min(warmup, jobs // 2)
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client)
        resque.enqueue_many(Rss, [(n, n in (warmup - 1, jobs - 1)) for n in range(jobs)])
        with _process(_ours(server, "memory", "--no-fork", "--burst"), server) as process:
            if process.wait() != 0:
                raise RuntimeError(f"the worker exited with status {process.returncode}")
        warm, after = (float(value) for value in client.lrange(RSS_KEY, 0, -1))
        client.close()
    growth = after - warm
    return [
        Measurement(f"worker RSS after {warmup:,} jobs (resque-impl work --no-fork)", warm, "MB"),
        Measurement(f"worker RSS after {jobs:,} jobs", after, "MB"),
        Measurement(f"  growth over the last {jobs - warmup:,} jobs", growth, "MB", "< 5 MB", growth < 5),
    ]


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _pickups(client: redis.Redis, samples: int, push: Callable[[float], object]) -> list[float]:
    """Push ``samples`` jobs one at a time, each after the worker has had 0.2 s to go idle again; the
    seconds from each push to the start of its ``perform``."""
    client.delete(LATENCY_KEY)
    waits = []
    for _ in range(samples):
        time.sleep(0.2)
        push(time.time())
        answer = client.blpop([LATENCY_KEY], timeout=30)
        if answer is None:
            raise RuntimeError("the worker did not start a job within 30 s")
        waits.append(float(answer[1]))
    return waits


def _percentiles(waits: list[float]) -> tuple[float, float]:
    ordered = sorted(waits)
    return statistics.median(ordered) * 1000, ordered[max(0, round(0.99 * (len(ordered) - 1)))] * 1000


def latency(samples: int = 50, with_peers: bool = True) -> list[Measurement]:
    """Enqueue-to-start latency, p50 and p99 in ms, of an idle worker run as operators run it: ours with its
    defaults (fork per job, 5 s polling interval, woken by producers' notices), and rq's ``Worker``."""
    rows = []
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client)
        with _process(_ours(server, "latency"), server):
            _wait_for(lambda: bool(resque.workers()), "resque-impl work to register")
            waits = _pickups(client, samples, lambda now: resque.enqueue(Stamp, now))
        p50, p99 = _percentiles(waits)
        rows += [
            Measurement("idle pickup, ours (fork, default options) p50", p50, "ms"),
            Measurement("idle pickup, ours p99", p99, "ms", "<= 50 ms", p99 <= 50),
        ]
        if with_peers and peers.installed():
            client.flushdb()
            command = [sys.executable, "-m", "rq.cli", "worker", "--url", server.url, "--quiet", "latency"]
            with _process(command, server):
                _wait_for(lambda: bool(client.keys("rq:worker:*")), "rq worker to register")
                waits = _pickups(client, samples, lambda now: peers.enqueue_stamp(client, now))
            p50, p99 = _percentiles(waits)
            rows += [
                Measurement("idle pickup, rq Worker (fork) p50", p50, "ms"),
                Measurement("idle pickup, rq Worker p99", p99, "ms"),
            ]
        client.close()
    return rows


def run(
    jobs: int = 20_000,
    fork_jobs: int = 2_000,
    memory_jobs: int = 100_000,
    runs: int = 3,
    with_peers: bool = True,
) -> list[Measurement]:
    """Every worker figure: :func:`drain`, :func:`memory`, :func:`latency` and :func:`concurrency`."""
    measured = drain(jobs, fork_jobs, runs, with_peers) + memory(memory_jobs) + latency(50, with_peers)
    return measured + concurrency(jobs, runs=runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per no-fork run")
    parser.add_argument("--fork-jobs", type=int, default=2_000, help="jobs per fork-per-job run")
    parser.add_argument("--memory-jobs", type=int, default=100_000, help="jobs for the memory run")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs; medians are reported")
    parser.add_argument("--no-peers", action="store_true", help="leave python-rq and Ruby Resque out")
    parser.add_argument("--ruby-lib", help=f"Ruby Resque 3.0's lib/ (default: ${ruby_peer.LIB_VARIABLE})")
    parser.add_argument("--json", dest="json_path", help="also write the figures to this file")
    options = parser.parse_args(argv)
    if options.memory_jobs < 2:
        parser.error(f"--memory-jobs must be at least 2 (a warm-up and a measured part), not {options.memory_jobs}")
    if options.ruby_lib:
        os.environ[ruby_peer.LIB_VARIABLE] = options.ruby_lib
    if not options.no_peers and (reason := ruby_peer.missing()) is not None:
        print(f"Ruby Resque left out: {reason}")
    rows = run(options.jobs, options.fork_jobs, options.memory_jobs, options.runs, not options.no_peers)
    return report(f"worker benchmark (median of {options.runs} interleaved runs)", rows, options.json_path)


if __name__ == "__main__":
    sys.exit(main())
