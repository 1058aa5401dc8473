"""Reliability 4 and 8: dropped connections and stalls, with the dashboard polled throughout.

For a minute, every 200 ms ``CLIENT KILL TYPE normal`` cuts every ordinary connection (workers',
producer's, dashboard's), and every few seconds ``CLIENT PAUSE`` stalls every client for up to 1.5 s,
while a producer enqueues jobs and three forking workers run them. The scenario runs once; the tests
check its promises.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from resque_impl import Resque
from tests.chaos import ledger
from tests.chaos.chaos_jobs import LEDGER_ENV
from tests.chaos.dashboard import DashboardPoller, start_dashboard
from tests.chaos.figures import knob, publish, seeded_random
from tests.chaos.procs import Proc, Procs, durable_redis, settle, wait_for
from tests.chaos.producer import Producer

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]

SECONDS = knob("DROP_SECONDS", 60)
WORKERS = 3
QUEUE = "drops"
KILL_EVERY = 0.2


@dataclass
class Chaos:
    """The connection killer: ``CLIENT KILL TYPE normal`` every 200 ms, a ``CLIENT PAUSE`` now and then."""

    url: str
    rng: Any
    kills: int = 0
    connections_killed: int = 0
    pauses: list[float] = field(default_factory=list)
    stranded: list[dict[str, Any]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self, seconds: float) -> None:
        admin = Resque(self.url).store.client
        end = time.monotonic() + seconds
        next_pause = time.monotonic() + self.rng.uniform(2, 6)
        while time.monotonic() < end:
            self.connections_killed += int(admin.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
            self.kills += 1
            if time.monotonic() >= next_pause:
                stall = self.rng.uniform(0.3, 1.5)
                admin.execute_command("CLIENT", "PAUSE", int(stall * 1000), "ALL")
                self.pauses.append(round(stall, 3))
                time.sleep(stall)
                next_pause = time.monotonic() + self.rng.uniform(2, 6)
            self._look_for_stranded(admin)
            time.sleep(KILL_EVERY)

    def _look_for_stranded(self, admin: Any) -> None:
        """A live worker holds at most the one job it is working on."""
        for key in admin.scan_iter("{resque:queue:*}:inflight:*"):
            held = admin.llen(key)
            if held > 1:
                self.stranded.append({"key": key.decode(), "jobs": held, "at": time.time()})


@dataclass
class Outcome:
    analysis: ledger.Analysis
    chaos: Chaos
    workers_running_to_the_end: bool
    exit_codes: list[int]
    inflight_left: list[str]
    dashboard: dict[str, Any]
    producer_error: str | None


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    rng, seed = seeded_random("dropped-connections")
    tmp = tmp_path_factory.mktemp("drops")
    path = tmp / "ledger"
    started = time.monotonic()
    with durable_redis() as server, Procs(tmp, {LEDGER_ENV: str(path)}) as procs:
        workers: list[Proc] = [
            procs.worker(f"worker-{n}", server.url, QUEUE, "--interval", "0.5") for n in range(WORKERS)
        ]
        resque = Resque(server.url)
        wait_for(lambda: len(resque.workers()) == WORKERS, "the workers to register", 30)
        poller = DashboardPoller(start_dashboard(procs, server.url), QUEUE).start()
        jobs = [(f"job-{n}", rng.randint(0, 20)) for n in range(SECONDS * 100)]
        producer = Producer(server.url, jobs, QUEUE, 0.02)
        producer.start()
        chaos = Chaos(server.url, rng)
        chaos.run(SECONDS)
        producer.finish()
        client = server.client()
        settle(client, QUEUE, 120)
        dashboard = poller.stop()
        running = all(worker.running() for worker in workers)
        inflight_left = sorted(key.decode() for key in client.scan_iter("*inflight*"))
        for worker in workers:
            worker.signal(signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers]
    analysis = ledger.analyse(ledger.read(path), producer.acked, pushed_twice=producer.retried)
    error = producer.error_text()
    result = Outcome(analysis, chaos, running, codes, inflight_left, dashboard, error)
    figures = {
        "seed": seed,
        "seconds_of_chaos": SECONDS,
        "seconds": round(time.monotonic() - started, 1),
        "client_kill_commands": chaos.kills,
        "connections_killed": chaos.connections_killed,
        "client_pauses_s": chaos.pauses,
        "enqueue_attempts_failed": producer.attempts_failed,
        "stranded_observed": chaos.stranded[:20],
        "workers_running_to_the_end": running,
        "worker_exit_codes": codes,
        "inflight_keys_left": inflight_left,
        **analysis.figures(),
        "dashboard": dashboard,
    }
    publish(
        "dropped_connections",
        figures,
        f"{SECONDS} s, {chaos.connections_killed} connections killed, {len(chaos.pauses)} pauses: "
        f"{len(producer.acked)} jobs, lost {len(analysis.lost)}, duplicated {len(analysis.duplicated)}, "
        f"dashboard {dashboard['by_status']}",
    )
    return result


def test_no_acknowledged_job_is_lost(outcome: Outcome) -> None:
    assert outcome.producer_error is None
    assert outcome.analysis.lost == []


def test_every_duplicate_is_explained(outcome: Outcome) -> None:
    assert outcome.analysis.unexplained_reruns == []


def test_no_worker_dies(outcome: Outcome) -> None:
    assert outcome.workers_running_to_the_end
    assert outcome.exit_codes == [0] * WORKERS


def test_no_job_is_stranded_in_a_live_workers_in_flight_list(outcome: Outcome) -> None:
    assert outcome.chaos.stranded == []
    assert outcome.inflight_left == []


def test_connections_really_were_dropped(outcome: Outcome) -> None:
    assert outcome.chaos.connections_killed > outcome.chaos.kills  # several clients each time
    assert outcome.chaos.pauses


def test_dashboard_answers_every_page_with_200_throughout(outcome: Outcome) -> None:
    assert outcome.dashboard["non_200"] == []
    assert outcome.dashboard["requests"] > 0
