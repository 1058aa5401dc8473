"""Reliability 6: jobs that hang, leak memory, or raise exceptions that fight back, forking and not.

* A job that never returns is stopped at its timeout (``--job-timeout``), give or take a second.
* A job that allocates past ``--max-memory`` is stopped: forking, the worker kills its child and goes
  on; without forking, the job is interrupted and the worker exits for the supervisor to start a fresh
  one (``--count``).
* Exceptions whose ``__str__`` raises (even ``SystemExit``) or returns no text, a 10 MB message, text
  UTF-8 cannot carry and control characters are all recorded: class name and safe, cut text.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from resque_impl import Resque
from resque_impl.errors import MAX_MESSAGE_CHARS
from tests.chaos import ledger
from tests.chaos.chaos_jobs import HOSTILE, LEDGER_ENV, ChaosHang, ChaosHostile, ChaosLeak, ChaosWork
from tests.chaos.figures import publish
from tests.chaos.procs import Procs, durable_redis, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

MODES = ["--fork", "--no-fork"]
TIMEOUT = 2.0
MEMORY_LIMIT_MB = 200
results: dict[str, Any] = {}


def _record(name: str, mode: str, figures: dict[str, Any], summary: str) -> None:
    results.setdefault(name, {})[mode] = figures
    publish("hostile_jobs", results, f"{name} {mode}: {summary}")


@pytest.mark.parametrize("mode", MODES)
def test_a_job_that_never_returns_is_stopped_at_its_timeout(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with durable_redis() as server, Procs(tmp_path, {LEDGER_ENV: str(path)}) as procs:
        resque = Resque(server.url)
        resque.enqueue(ChaosHang, "hang")
        resque.enqueue(ChaosWork, "after", 0)
        worker = procs.worker("worker", server.url, "chaos", "--interval", "0.2", "--job-timeout", str(TIMEOUT), mode)
        [record] = wait_for(resque.failures.all, "the timeout's failure record", 30, poll=0.01)
        stopped = time.time()
        wait_for(lambda: any(run.job == "after" and run.finished for run in ledger.read(path)), "the next job", 30)
        assert worker.running()
    [hang] = [run for run in ledger.read(path) if run.job == "hang"]
    ran_for = stopped - hang.begin
    _record(
        "timeout", mode, {"timeout_s": TIMEOUT, "stopped_after_s": round(ran_for, 3)}, f"stopped after {ran_for:.2f} s"
    )
    assert record.data["exception"] == "Resque::JobTimeoutError"
    assert abs(ran_for - TIMEOUT) <= 1.0


@pytest.mark.parametrize("mode", MODES)
def test_a_job_allocating_past_max_memory_is_stopped(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with durable_redis() as server, Procs(tmp_path, {LEDGER_ENV: str(path)}) as procs:
        resque = Resque(server.url)
        resque.enqueue(ChaosLeak, "leak", 8 * MEMORY_LIMIT_MB)
        resque.enqueue(ChaosWork, "after", 0)
        options = ("--count", "2", "--interval", "0.2", "--max-memory", str(MEMORY_LIMIT_MB), mode)
        supervisor = procs.worker("workers", server.url, "chaos", *options)
        wait_for(lambda: len(resque.workers()) == 2, "two workers", 30)
        first_workers = set(resque.workers())
        [record] = wait_for(resque.failures.all, "the leak's failure record", 60, poll=0.02)
        wait_for(lambda: any(run.job == "after" and run.finished for run in ledger.read(path)), "the next job", 30)
        if mode == "--no-fork":
            wait_for(
                lambda: len(resque.workers()) == 2 and first_workers - set(resque.workers()),
                "a fresh worker in place of the one that went over the limit",
                30,
            )
        else:
            time.sleep(1)  # a worker leaving after its job would be gone by now
        replaced = first_workers - set(resque.workers())
        assert supervisor.running()
    _record(
        "memory",
        mode,
        {"limit_mb": MEMORY_LIMIT_MB, "error": record.data["error"], "workers_replaced": len(replaced)},
        f"{record.data['exception']}: {record.data['error']}; {len(replaced)} worker(s) replaced",
    )
    assert record.data["exception"] == "Resque::MemoryLimitError"
    # Forking, the child went over the limit and was killed: its worker is fine and carries on.
    assert len(replaced) == (1 if mode == "--no-fork" else 0)


@pytest.mark.parametrize("mode", MODES)
def test_hostile_exceptions_are_recorded_as_class_name_and_safe_text(mode: str, tmp_path: Path) -> None:
    path = tmp_path / "ledger"
    with durable_redis() as server, Procs(tmp_path, {LEDGER_ENV: str(path)}) as procs:
        resque = Resque(server.url)
        for kind in HOSTILE:
            resque.enqueue(ChaosHostile, kind, kind)
        resque.enqueue(ChaosWork, "after", 0)
        worker = procs.worker("worker", server.url, "chaos", "--burst", mode)
        assert worker.wait(60) == 0
        records = {record.data["payload"]["args"][1]: record.data for record in resque.failures.all()}
    assert [run.job for run in ledger.read(path) if run.finished] == ["after"]
    recorded = {kind: (data["exception"], data["error"][:120]) for kind, data in records.items()}
    _record("exceptions", mode, recorded, f"{len(records)} of {len(HOSTILE)} recorded")
    assert recorded == {
        "str-raises": ("StrRaises", "<unprintable StrRaises: str() raised ValueError>"),
        "str-raises-system-exit": ("StrRaisesSystemExit", "<unprintable StrRaisesSystemExit: str() raised SystemExit>"),
        "str-not-text": ("StrNotText", "<unprintable StrNotText: str() raised TypeError>"),
        "ten-megabyte-message": ("ValueError", "x" * 120),
        "lone-surrogate": ("ValueError", "bad text \\ud800 here"),
        "nul-and-controls": ("ValueError", "nul \x00 bell \x07 escape \x1b[31m"),
    }
    cut = records["ten-megabyte-message"]["error"]
    assert cut == "x" * MAX_MESSAGE_CHARS + f"... [{(10 << 20) - MAX_MESSAGE_CHARS:,} more characters cut]"
