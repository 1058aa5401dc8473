"""Measuring what the simulator cannot know, with real worker processes on a real Redis.

What a caller needs::

    calibration = calibrate("redis://localhost:6379/0", sizes=FULL, allow_flush=False)   # -> Calibration
    Path("calibration.yaml").write_text(dump_calibration(calibration))

Every measurement runs ``python -m resque_impl.cli work`` processes (the production worker) on the given
Redis, in its namespace, which must hold no keys (:class:`CalibrationError`, unless ``allow_flush``:
then they are deleted).  The workers run :class:`resque_sim.calibration_probe.CalibrationProbe` jobs,
which write the time their perform began to a file.  In order (:data:`FULL` sizes; docs/calibration.md
says what each figure means for a simulation):

1. ``job_overhead``: non-forking workers (one by default), started and waiting, are given a queue of
   no-op jobs; each sample is the time between two consecutive performs of one worker, i.e. what a busy
   worker spends per job besides perform.
2. ``fork_overhead``: the same with a forking worker, minus the mean of 1.
3. ``wake_latency``: an idle worker (push notifications on, as by default) is sent one job at a time,
   20-50 ms apart; each sample is push to perform, minus the mean of 1 measured with one worker and
   no-op jobs (the reserve that follows the wake-up, which the simulator adds as ``job_overhead``).
   ``fork_start``: the same with an idle forking worker, minus the mean push to perform of 3's
   non-forking one: what a fork adds before perform (the fork, the child's start and its first round
   trip), the part of 2 a job waits for; the rest of 2 follows perform (the child's report and exit).
4. ``poll_cost``: an idle worker with notifications off and a 50 ms interval; Redis's MONITOR gives the
   server time of each of its polls (the fetch's LPOP), and each sample is the gap between two polls
   minus the interval.
5. ``boot_time``: a worker process started with one job waiting; each sample is process start to that
   job's perform, minus the same mean as in 3.

With ``workers`` > 1, 1 and 2 run that many workers draining together, and with ``job_seconds`` each
probe sleeps that long (subtracted from the gaps): the figures then include the workers' contention for
the CPUs and how late a sleeping job wakes on a busy machine.

Everything is bounded: at :data:`FULL` sizes the whole calibration takes 20 to 25 s on a 2-core machine
(most of it forks and boots), plus about 900 x ``job_seconds`` / ``workers`` for the probes' sleeps; at
:data:`QUICK` sizes a few seconds.
"""

from __future__ import annotations

import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import redis

from resque_impl import Resque, ResqueError, __version__
from resque_impl.connection import connect
from resque_impl.keys import DEFAULT_NAMESPACE
from resque_sim.calibration import Calibration, CalibrationError, Figure, Figures
from resque_sim.calibration_probe import PROBE_QUEUE, CalibrationProbe

__all__ = ["FULL", "QUICK", "Sizes", "calibrate"]


@dataclass(frozen=True)
class Sizes:
    """How much to measure: jobs per per-job figure, wake-ups (non-forking, forking), seconds of polling
    and worker boots."""

    jobs: int
    forked_jobs: int
    wakes: int
    forked_wakes: int
    poll_seconds: float
    boots: int


FULL = Sizes(jobs=600, forked_jobs=300, wakes=150, forked_wakes=100, poll_seconds=2.0, boots=5)
QUICK = Sizes(jobs=40, forked_jobs=15, wakes=8, forked_wakes=5, poll_seconds=0.5, boots=1)

_POLL_INTERVAL = 0.05
_WAKE_GAP = (0.02, 0.05)
_SETTLE_SAMPLES = 2  # the first per-job gaps include the worker's first reserve and lazy imports
_WORKER_TIMEOUT = 60.0
_WAIT_STEP = 0.0005  # while timing a wake-up; the check itself costs a few microseconds
_DRAIN_STEP = 0.02  # while workers drain a queue, checking rarely keeps the CPUs theirs


def _figure(samples: Sequence[float]) -> Figure:
    values = np.asarray(samples, dtype=np.float64)
    if not len(values):
        raise CalibrationError("a measurement produced no samples (is the machine far too busy?)")
    return Figure(
        mean=max(0.0, float(values.mean())),
        p50=max(0.0, float(np.percentile(values, 50))),
        p95=max(0.0, float(np.percentile(values, 95))),
        stdev=float(values.std(ddof=1)) if len(values) > 1 else 0.0,
        samples=len(values),
    )


class _Session:
    """One calibration: the Redis namespace, a scratch folder, and the worker processes it starts."""

    def __init__(self, url: str, *, allow_flush: bool, scratch: Path) -> None:
        self.url = url
        try:
            connection = connect(url)
            self.namespace = connection.namespace or DEFAULT_NAMESPACE
            self.client: redis.Redis = connection.client
            self.description = connection.description
            self.redis_version = str(self.client.info("server").get("redis_version", "?"))
            existing = self._keys()
        except (ResqueError, redis.RedisError) as error:
            raise CalibrationError(f"cannot use Redis at {url}: {error}") from None
        if existing and not allow_flush:
            raise CalibrationError(
                f"the namespace {self.namespace!r} at {self.description} holds {len(existing)} keys; calibration "
                "runs workers there, so point it at an empty namespace (?namespace=...) or pass --allow-flush "
                "to delete them"
            )
        self._delete_keys()
        self.resque = Resque(self.client, namespace=self.namespace)
        self.scratch = scratch
        self.files = 0

    def _keys(self) -> list[bytes]:
        pattern = self.namespace.replace("\\", "\\\\").replace("*", "\\*").replace("?", "\\?").replace("[", "\\[")
        return list(self.client.scan_iter(match=f"{pattern}:*", count=1000))

    def _delete_keys(self) -> None:
        keys = self._keys()
        for start in range(0, len(keys), 500):
            self.client.delete(*keys[start : start + 500])

    def close(self) -> None:
        self._delete_keys()
        self.client.close()

    # -- workers and probes -----------------------------------------------------------------------------
    def new_file(self) -> Path:
        self.files += 1
        return self.scratch / f"performs-{self.files}.txt"

    def worker(self, *options: str, notify: bool = True) -> subprocess.Popen[bytes]:
        """A real worker process on the probe queue (its stderr kept for an error message)."""
        command = [
            sys.executable,
            "-m",
            "resque_impl.cli",
            "work",
            "--queues",
            PROBE_QUEUE,
            "--jobs",
            "resque_sim.calibration_probe",
            "--redis",
            self.url,
            "--namespace",
            self.namespace,
            *options,
        ]
        environment = {**os.environ, "RESQUE_NOTIFY": "true" if notify else "false"}
        log = (self.scratch / f"worker-{time.monotonic_ns()}.log").open("wb")
        with log:
            return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=environment)

    def finish(self, worker: subprocess.Popen[bytes]) -> None:
        """Wait for a ``--burst`` worker to drain the queue and exit; a failure is a CalibrationError."""
        try:
            code = worker.wait(timeout=_WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            _stop(worker)
            raise CalibrationError(f"a worker did not drain the queue within {_WORKER_TIMEOUT:g}s") from None
        if code != 0:
            raise CalibrationError(f"a worker exited with status {code}: {self._last_log_line()}")

    def wait_registered(self, workers: Sequence[subprocess.Popen[bytes]]) -> None:
        """Wait until ``workers`` have registered (and so are about to wait for jobs)."""
        deadline = time.monotonic() + _WORKER_TIMEOUT
        while self.client.scard(f"{self.namespace}:workers") < len(workers):
            for worker in workers:
                if worker.poll() is not None:
                    raise CalibrationError(f"a worker exited with status {worker.returncode}: {self._last_log_line()}")
            if time.monotonic() > deadline:
                raise CalibrationError(f"the workers did not register within {_WORKER_TIMEOUT:g}s")
            time.sleep(_DRAIN_STEP)

    def _last_log_line(self) -> str:
        logs = sorted(self.scratch.glob("worker-*.log"))
        lines = logs[-1].read_text(errors="replace").strip().splitlines() if logs else []
        return lines[-1] if lines else "(nothing on stderr)"

    def enqueue(self, path: Path, count: int = 1, seconds: float = 0.0) -> None:
        now = time.time()
        if count == 1:
            self.resque.enqueue(CalibrationProbe, str(path), now, seconds)
        else:
            self.resque.enqueue_many(CalibrationProbe, [(str(path), now, seconds)] * count)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop a worker this module started (TERM, then KILL) and reap it."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


class _Perform(NamedTuple):
    """One line a probe wrote: when its perform started, when it was enqueued, and its process ids."""

    start: float
    enqueued: float
    pid: int
    parent: int


def _performs(path: Path) -> list[_Perform]:
    """The probes' lines, in file order."""
    if not path.exists():
        return []
    return [
        _Perform(float(start), float(enqueued), int(pid), int(parent))
        for start, enqueued, pid, parent in (line.split() for line in path.read_text().splitlines())
    ]


def _wait_for_lines(
    path: Path,
    lines: int,
    workers: Sequence[subprocess.Popen[bytes]],
    timeout: float = 10.0,
    step: float = _WAIT_STEP,
) -> None:
    """Wait until the probes have written ``lines`` lines; a worker exiting or the timeout is an error."""
    deadline = time.monotonic() + timeout
    while (path.read_bytes().count(b"\n") if path.exists() else 0) < lines:
        for worker in workers:
            if worker.poll() is not None:
                raise CalibrationError(f"a worker exited with status {worker.returncode} while calibrating")
        if time.monotonic() > deadline:
            raise CalibrationError(f"the workers did not perform {lines} probe jobs within {timeout:g}s")
        time.sleep(step)


# -- the measurements ------------------------------------------------------------------------------------


def _job_gaps(session: _Session, jobs: int, *, fork: bool, workers: int, seconds: float) -> list[float]:
    """Per worker, the gaps between its consecutive performs, minus the jobs' ``seconds``, while
    ``workers`` workers, all started and waiting first, drain about ``jobs`` probe jobs together."""
    path = session.new_file()
    total = jobs + workers * (_SETTLE_SAMPLES + 1)
    started = [session.worker("--fork" if fork else "--no-fork", "--interval", "1") for _ in range(workers)]
    try:
        session.wait_registered(started)
        session.enqueue(path, total, seconds)
        timeout = _WORKER_TIMEOUT + total * (seconds + 0.05) / workers
        _wait_for_lines(path, total, started, timeout=timeout, step=_DRAIN_STEP)
    finally:
        for worker in started:
            _stop(worker)
    pids = {worker.pid for worker in started}
    starts: dict[int, list[float]] = {}
    for perform in _performs(path):
        # in a forked child the worker is the parent
        starts.setdefault(perform.pid if perform.pid in pids else perform.parent, []).append(perform.start)
    return [float(gap) - seconds for mine in starts.values() for gap in np.diff(sorted(mine))[_SETTLE_SAMPLES:]]


def _wake_latencies(
    session: _Session, wakes: int, overhead: float, rng: random.Random, *, fork: bool = False
) -> list[float]:
    """Push to perform of jobs sent one at a time to an idle worker, minus ``overhead``."""
    path = session.new_file()
    worker = session.worker("--fork" if fork else "--no-fork", "--interval", "5")
    try:
        session.enqueue(path)  # the first job shows the worker is up and waiting
        _wait_for_lines(path, 1, [worker], timeout=_WORKER_TIMEOUT)
        for done in range(2, wakes + 2):
            time.sleep(rng.uniform(*_WAKE_GAP))
            session.enqueue(path)
            _wait_for_lines(path, done, [worker])
    finally:
        _stop(worker)
    return [perform.start - perform.enqueued - overhead for perform in _performs(path)[1:]]


def _poll_gaps(session: _Session, seconds: float) -> list[float]:
    """Gaps between an idle polling worker's polls, as the server saw them, minus the interval."""
    key = f"{session.namespace}:queue:{PROBE_QUEUE}"
    database = int(session.client.connection_pool.connection_kwargs.get("db", 0))
    monitor_client = redis.Redis(connection_pool=session.client.connection_pool)
    polls: list[float] = []
    worker = session.worker("--no-fork", "--interval", str(_POLL_INTERVAL), notify=False)
    try:
        # redis-py's monitor() has no annotations; it is the one way to see the server's times of commands
        with monitor_client.monitor() as monitor:  # type: ignore[no-untyped-call]
            started: float | None = None
            while started is None or time.monotonic() - started < seconds:
                command = monitor.next_command()
                if command["command"] == f"LPOP {key}" and int(command["db"]) == database:
                    polls.append(float(command["time"]))
                    started = started if started is not None else time.monotonic()
                if worker.poll() is not None:
                    raise CalibrationError(f"a polling worker exited with status {worker.returncode}")
    finally:
        _stop(worker)
    return [gap - _POLL_INTERVAL for gap in np.diff(polls).tolist()]


def _boot_times(session: _Session, boots: int, overhead: float) -> list[float]:
    samples: list[float] = []
    for _ in range(boots):
        path = session.new_file()
        session.enqueue(path)
        spawned = time.time()
        session.finish(session.worker("--no-fork", "--burst"))
        samples.extend(perform.start - spawned - overhead for perform in _performs(path))
    return samples


def _machine(session: _Session, sizes: Sizes, workers: int, job_seconds: float) -> dict[str, Any]:
    return {
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count() or 0,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "resque_impl": __version__,
        "redis": session.description,
        "redis_version": session.redis_version,
        "quick": sizes == QUICK,
        "workers": workers,
        "job_seconds": job_seconds,
    }


def calibrate(
    url: str,
    *,
    sizes: Sizes = FULL,
    workers: int = 1,
    job_seconds: float = 0.0,
    allow_flush: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Calibration:
    """Measure every figure (see the module docstring) with real workers on the Redis at ``url``.

    The per-job figures are measured with ``workers`` workers draining the queue together, each probe
    job sleeping ``job_seconds`` (subtracted again): with the number of workers that will share a
    machine and about their jobs' duration, the contention between them is part of the figures.
    ``progress`` is called with the name of each step as it starts.  Raises :class:`CalibrationError`
    (one line) for an unreachable Redis, a namespace holding keys without ``allow_flush``, or a worker
    that fails.  The namespace is left empty.
    """
    say = progress or (lambda _step: None)
    started = time.monotonic()
    rng = random.Random(0)
    with tempfile.TemporaryDirectory(prefix="resque-sim-calibrate-") as scratch:
        session = _Session(url, allow_flush=allow_flush, scratch=Path(scratch))
        try:
            each = f"{workers} worker(s), jobs of {job_seconds * 1000:g} ms"
            say(f"job_overhead: {sizes.jobs} jobs, non-forking, {each}")
            job = _figure(_job_gaps(session, sizes.jobs, fork=False, workers=workers, seconds=job_seconds))
            say(f"fork_overhead: {sizes.forked_jobs} jobs, forking, {each}")
            forked = _job_gaps(session, sizes.forked_jobs, fork=True, workers=workers, seconds=job_seconds)
            say(f"wake_latency: {sizes.wakes} pushes to an idle worker")
            # the reserve after a wake-up or a boot, which the simulator adds as job_overhead: what one
            # worker on its own spends per job (contention and slept-over sleeps are not in that path)
            alone = job
            if workers > 1 or job_seconds > 0:
                say(f"the reserve on its own: {sizes.jobs} jobs, non-forking, one worker, no-op jobs")
                alone = _figure(_job_gaps(session, sizes.jobs, fork=False, workers=1, seconds=0.0))
            wakes = _wake_latencies(session, sizes.wakes, 0.0, rng)
            say(f"fork_start: {sizes.forked_wakes} pushes to an idle forking worker")
            forked_wakes = _wake_latencies(session, sizes.forked_wakes, float(np.mean(wakes)), rng, fork=True)
            say(f"poll_cost: {sizes.poll_seconds:g}s of an idle worker polling every {_POLL_INTERVAL * 1000:g} ms")
            polls = _poll_gaps(session, sizes.poll_seconds)
            say(f"boot_time: {sizes.boots} worker process start(s)")
            boots = _boot_times(session, sizes.boots, alone.mean)
            figures = Figures(
                job_overhead=job,
                fork_overhead=_figure([gap - job.mean for gap in forked]),
                fork_start=_figure(forked_wakes),
                wake_latency=_figure([wake - alone.mean for wake in wakes]),
                poll_cost=_figure(polls),
                boot_time=_figure(boots),
            )
            machine = _machine(session, sizes, workers, job_seconds)
            machine["wall_seconds"] = round(time.monotonic() - started, 1)
        finally:
            session.close()
    return Calibration(figures=figures, machine=machine)
