"""Reliability 2: a poison job, one that SIGKILLs the process it runs in, among ordinary jobs.

Forking, the job's child dies and its worker puts the job back; without forking, the worker itself dies
and its replacement (``--count`` restarts it) recovers the job at startup. Either way the job must run
four times (the first run and three recoveries), then land in the failed list as a
``Resque::PoisonJobError``, while two workers keep running the ordinary jobs.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from resque_impl import Resque
from tests.chaos import ledger
from tests.chaos.chaos_jobs import LEDGER_ENV, ChaosSuicide, ChaosWork
from tests.chaos.figures import publish
from tests.chaos.procs import Procs, durable_redis, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(300)]

ORDINARY = 300
QUEUE = "chaos"
results: dict[str, dict[str, Any]] = {}


@pytest.mark.parametrize("mode", ["--fork", "--no-fork"])
def test_a_job_that_kills_its_process_is_poison_after_exactly_three_recoveries(mode: str, tmp_path: Any) -> None:
    path = tmp_path / "ledger"
    with durable_redis() as server, Procs(tmp_path, {LEDGER_ENV: str(path)}) as procs:
        resque = Resque(server.url)
        resque.enqueue_many(ChaosWork, [(f"ordinary-{n}", 20) for n in range(ORDINARY // 2)])
        resque.enqueue(ChaosSuicide, "poison")
        resque.enqueue_many(ChaosWork, [(f"ordinary-{n}", 20) for n in range(ORDINARY // 2, ORDINARY)])
        supervisor = procs.worker("workers", server.url, QUEUE, "--count", "2", "--interval", "0.2", mode)
        records = wait_for(resque.failures.all, "the poison job's failure record", 60)
        failed_at = time.time()
        wait_for(lambda: resque.size(QUEUE) == 0 and not resque.working(), "the ordinary jobs to finish", 60)
        assert supervisor.running()
        client = server.client()
        leftovers = sorted(key.decode() for key in client.scan_iter("*inflight*"))
    runs = ledger.read(path)
    poison_runs = [run for run in runs if run.job == "poison"]
    ordinary_done = {run.job for run in runs if run.finished}
    first_poison = poison_runs[0].begin
    # ordinary jobs at work while the poison job was run and recovered (the recoveries can take less
    # time than one ordinary job, so count runs overlapping that span, not runs ending inside it)
    flowing = sum(
        1
        for run in runs
        if run.job != "poison" and run.begin <= failed_at and (run.end is None or run.end >= first_poison)
    )
    [record] = records
    results[mode] = {
        "poison_runs": len(poison_runs),
        "failure": {"exception": record.data["exception"], "error": record.data["error"]},
        "seconds_to_failed_list": round(failed_at - first_poison, 3),
        "ordinary_jobs_running_meanwhile": flowing,
        "ordinary_jobs_lost": ORDINARY - len(ordinary_done),
        "inflight_keys_left": leftovers,
    }
    publish(
        "poison",
        results,
        f"{mode}: {len(poison_runs)} runs, then {record.data['exception']} after "
        f"{results[mode]['seconds_to_failed_list']} s; {flowing} ordinary jobs ran meanwhile",
    )
    assert len(poison_runs) == 4  # the first run and three recoveries
    assert (record.data["exception"], record.class_name) == ("Resque::PoisonJobError", "ChaosSuicide")
    assert ordinary_done == {f"ordinary-{n}" for n in range(ORDINARY)}
    assert flowing > 0
    assert leftovers == []
