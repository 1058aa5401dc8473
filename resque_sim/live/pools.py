"""The worker processes a live run starts: one ``resque-impl work`` process per worker of each pool,
supervised as the scenario says, and stopped at the end.

What a caller needs::

    pools = WorkerPools(scenario, target, speed=10, seed=42, clock=lambda: scenario_seconds_now)
    pools.start()
    while running: pools.poll()          # restarts by the scenario's rules; reports deaths
    pools.stop(grace=30)                 # QUIT (finish the current job), then TERM, then KILL
    pools.names, pools.owner(pid, ppid, job), pools.downs, pools.ups, pools.deaths

Each worker runs with its pool's queues, knows the probe under the scenario's class names (so its job
metrics are recorded under them), ``fork_per_job``, ``concurrency`` and interval (divided by ``speed``;
``instant`` = woken by the push notifications). A process with N job slots is N workers, named as the
simulation names them (``<pool>-<number>.<slot>``); which slot ran a job is not observable from outside
the process, so a job is put down to slot ``job % N`` of the process that ran it.
Restart limits: ``max_jobs`` (plus the engine's own
jitter draw, so a pool restarts where the simulation's does) and ``max_rss_mb`` are the worker's
``--max-jobs`` and ``--max-memory``: it exits 0 and a replacement starts after ``boot_time / speed``;
``max_age`` is a QUIT sent here.  A worker that exits any other way (a crash, a signal) is *not*
replaced: it is a death, reported with the end of its log, so a pool that dies is never hidden.

Workers run in their own session, so a Ctrl-C at the terminal reaches only ``resque-sim``, which then
stops them by the rules above.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, NamedTuple

import numpy as np

from resque_sim.distributions import random_stream
from resque_sim.live.probe_store import LiveStore
from resque_sim.records import DOWN_REASONS
from resque_sim.scenario import Scenario, WorkerPool

__all__ = ["Death", "WorkerPools"]

_PROBE_MODULE = "resque_sim.live.probe"
_NAMES_MODULE = "resque_sim_probe_names"
_TAIL_LINES = 5
_INSTANT_POLL = 5.0  # an "instant" worker is woken by notifications; it polls only as a safety net


class Death(NamedTuple):
    """A worker that ended other than by its restart policy: when (scenario seconds), how, its log's end."""

    worker: str
    pid: int
    at: float
    status: str
    log_tail: str


@dataclass(eq=False)
class _Slot:
    index: int
    name: str
    pool: WorkerPool
    number: int
    log_path: Path
    first: int  # index into WorkerPools.names of this process's first job slot
    log: IO[bytes] | None = None
    process: subprocess.Popen[bytes] | None = None
    booted: float = 0.0  # monotonic
    quit_reason: str | None = None
    restart_at: float | None = None  # monotonic
    pids: list[int] = field(default_factory=list)


class WorkerPools:
    """The scenario's worker pools as real processes on the Redis behind ``target``."""

    def __init__(
        self,
        scenario: Scenario,
        target: LiveStore,
        *,
        speed: float,
        seed: int,
        clock: Callable[[], float],
        log_dir: Path,
    ) -> None:
        self._target = target
        self._speed = speed
        self._seed = seed
        self._clock = clock
        self._stopping = False
        self._jitter: dict[int, np.random.Generator] = {}
        self._slots: list[_Slot] = []
        # A module naming the scenario's classes, so the workers run (and record) jobs under those names.
        self._names_dir = log_dir / "probe-names"
        self._names_dir.mkdir(exist_ok=True)
        names = sorted(scenario.jobs)
        source = f"from resque_sim.live.probe import register_probe_names\n\nregister_probe_names({names!r})\n"
        (self._names_dir / f"{_NAMES_MODULE}.py").write_text(source)
        self._names: list[str] = []
        for pool in scenario.workers:
            for number in range(pool.count):
                name = f"{pool.pool}-{number}"
                slot = _Slot(len(self._slots), name, pool, number, log_dir / f"{name}.log", len(self._names))
                self._slots.append(slot)
                self._names += [f"{name}.{k}" for k in range(pool.concurrency)] if pool.concurrency > 1 else [name]
                self._jitter[slot.index] = random_stream(seed, f"worker/{pool.pool}/{number}/max_jobs_jitter")
        self.downs: list[tuple[int, float, int]] = []
        self.ups: list[tuple[int, float]] = []
        self.deaths: list[Death] = []

    @property
    def names(self) -> list[str]:
        """Worker names as in a simulation's jobs.csv: ``<pool>-<number>``, ``<pool>-<number>.<slot>`` with job
        slots."""
        return list(self._names)

    @property
    def pids(self) -> set[int]:
        """Process ids of the workers running now."""
        return {slot.process.pid for slot in self._slots if slot.process is not None}

    def owner(self, pid: int, ppid: int, job: int = 0) -> int | None:
        """The worker (index into :attr:`names`) that ran job ``job`` in process ``pid`` (its forked
        child's parent is ``ppid``), or ``None``."""
        for slot in self._slots:
            if pid in slot.pids or ppid in slot.pids:
                return slot.first + job % slot.pool.concurrency
        return None

    @staticmethod
    def _workers(slot: _Slot) -> range:
        """The indices into :attr:`names` of one process's job slots."""
        return range(slot.first, slot.first + slot.pool.concurrency)

    def _command(self, slot: _Slot) -> tuple[list[str], dict[str, str]]:
        pool = slot.pool
        restart = pool.restart
        instant = pool.interval == "instant"
        interval = _INSTANT_POLL if instant else float(pool.interval) / self._speed
        command = [
            sys.executable, "-m", "resque_impl.cli", "work",
            "--queues", ",".join(pool.queues),
            "--jobs", f"{_PROBE_MODULE},{_NAMES_MODULE}",
            "--redis", self._target.url,
            "--namespace", self._target.namespace,
            "--interval", f"{interval:g}",
            "--fork" if pool.forks else "--no-fork",
            "--concurrency", str(pool.concurrency),
        ]  # fmt: skip
        if restart.max_jobs is not None:
            jitter = int(self._jitter[slot.index].integers(0, restart.max_jobs_jitter + 1))
            command += ["--max-jobs", str(restart.max_jobs + jitter)]
        if restart.max_rss_mb is not None:
            command += ["--max-memory", f"{restart.max_rss_mb:g}"]
        path = os.pathsep.join(filter(None, [str(self._names_dir), os.environ.get("PYTHONPATH")]))
        env = {
            **os.environ,
            "RESQUE_NOTIFY": "true" if instant else "false",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": path,
        }
        return command, env

    def _launch(self, slot: _Slot) -> None:
        command, env = self._command(slot)
        if slot.log is None:
            slot.log = slot.log_path.open("ab")
        slot.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=slot.log, stderr=slot.log, env=env, start_new_session=True
        )
        slot.pids.append(slot.process.pid)
        slot.booted = time.monotonic()
        slot.quit_reason = None
        slot.restart_at = None

    def start(self) -> None:
        """Start every worker."""
        for slot in self._slots:
            self._launch(slot)

    def poll(self) -> list[Death]:
        """Apply the restart rules (age limits, replacements due) and return the deaths found now."""
        now = time.monotonic()
        found: list[Death] = []
        for slot in self._slots:
            process = slot.process
            if process is None:
                if slot.restart_at is not None and now >= slot.restart_at and not self._stopping:
                    self._launch(slot)
                    self.ups += [(worker, self._clock()) for worker in self._workers(slot)]
                continue
            code = process.poll()
            if code is None:
                max_age = slot.pool.restart.max_age
                if max_age is not None and slot.quit_reason is None and now - slot.booted >= max_age / self._speed:
                    slot.quit_reason = "max_age"
                    process.send_signal(signal.SIGQUIT)
                continue
            slot.process = None
            if self._stopping:
                continue
            reason = self._restart_reason(slot, code)
            if reason is None:
                found.append(self._death(slot, process.pid, code))
                continue
            self.downs += [(worker, self._clock(), DOWN_REASONS.index(reason)) for worker in self._workers(slot)]
            slot.restart_at = now + slot.pool.restart.boot_time / self._speed
        self.deaths += found
        return found

    @staticmethod
    def _restart_reason(slot: _Slot, code: int) -> str | None:
        if code != 0:
            return None
        restart = slot.pool.restart
        if slot.quit_reason is not None:
            return slot.quit_reason
        if restart.max_jobs is not None:
            return "max_jobs"
        if restart.max_rss_mb is not None:
            return "max_rss"
        return None

    def _death(self, slot: _Slot, pid: int, code: int) -> Death:
        status = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        if slot.log is not None:
            slot.log.flush()
        lines = slot.log_path.read_text(errors="replace").splitlines() if slot.log_path.exists() else []
        return Death(slot.name, pid, self._clock(), status, "\n".join(lines[-_TAIL_LINES:]))

    @property
    def alive(self) -> int:
        """Workers running now."""
        return sum(1 for slot in self._slots if slot.process is not None and slot.process.poll() is None)

    def stop(self, grace: float) -> None:
        """Ask every worker to finish its current job and exit (QUIT); after ``grace`` seconds TERM, then KILL.

        Deaths found before the stop are kept in :attr:`deaths`; exits caused by the stop are not deaths.
        """
        self.poll()
        self._stopping = True
        running = [slot.process for slot in self._slots if slot.process is not None]
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGQUIT)
        for stop_signal, wait in ((None, grace), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            deadline = time.monotonic() + wait
            if stop_signal is not None:
                for process in running:
                    if process.poll() is None:
                        process.send_signal(stop_signal)
            while any(process.poll() is None for process in running) and time.monotonic() < deadline:
                time.sleep(0.05)
            if all(process.poll() is not None for process in running):
                break
        for slot in self._slots:
            slot.process = None
            if slot.log is not None:
                slot.log.close()
                slot.log = None
