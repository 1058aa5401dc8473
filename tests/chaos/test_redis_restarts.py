"""Reliability 3: Redis restarts under load, half by ``SHUTDOWN`` and half by SIGKILL of redis-server.

Three forking workers (each its own ``resque-impl work`` process, its connections named so ``CLIENT
LIST`` shows them) and a producer enqueuing jobs run while Redis goes down and comes back from its
append-only file (``--appendfsync always``: an acknowledged write is on disk). The scenario runs once;
the tests check its promises.
"""

from __future__ import annotations

import contextlib
import signal
import time
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from resque_impl import Resque
from resque_impl.testing import RedisServer
from tests.chaos import ledger
from tests.chaos.chaos_jobs import LEDGER_ENV
from tests.chaos.figures import knob, publish, seeded_random
from tests.chaos.procs import Proc, Procs, durable_redis, settle, wait_for
from tests.chaos.producer import Producer

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]

JOBS = knob("RESTART_JOBS", 2000)
RESTARTS = knob("RESTARTS", 10)
WORKERS = 3
QUEUE = "restarts"
#: Seconds after Redis answers again within which every worker must have reconnected.
RECONNECT_LIMIT = 5.0


@dataclass
class Outcome:
    analysis: ledger.Analysis
    restarts: list[dict[str, Any]]
    reconnect_seconds: list[float]
    workers_running_to_the_end: bool
    exit_codes: list[int]
    producer_error: str | None


def _restart(server: RedisServer, kind: str, down: float) -> float:
    """Take Redis down (``shutdown`` or ``sigkill``), keep it down ``down`` seconds, start it again;
    returns when it went down."""
    went_down = time.time()
    if kind == "shutdown":
        admin = server.client(socket_timeout=10)
        with contextlib.suppress(redis.ConnectionError):  # the server closes the connection as it goes
            admin.shutdown()
        assert server.process is not None
        server.process.wait(30)
        server.stop()  # forgets the exited process
    else:
        server.kill()
    time.sleep(down)
    server.start()
    return went_down


def _reconnected(server: RedisServer, names: list[str], came_back: float) -> dict[str, float]:
    """Seconds from Redis answering again to each worker's first connection, by worker name."""
    admin = server.client(socket_timeout=5)
    seen: dict[str, float] = {}
    deadline = came_back + 3 * RECONNECT_LIMIT
    while len(seen) < len(names) and time.time() < deadline:
        now = time.time()
        for entry in admin.client_list():
            name = entry.get("name", "")
            if name in names and name not in seen:
                seen[name] = now - came_back
        time.sleep(0.02)
    admin.close()
    return {name: seen.get(name, float("inf")) for name in names}


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    rng, seed = seeded_random("redis-restarts")
    tmp = tmp_path_factory.mktemp("restarts")
    path = tmp / "ledger"
    started = time.monotonic()
    with durable_redis() as server, Procs(tmp, {LEDGER_ENV: str(path)}) as procs:
        names = [f"chaos-worker-{n}" for n in range(WORKERS)]
        workers: list[Proc] = [
            procs.worker(name, f"{server.url}?client_name={name}", QUEUE, "--interval", "0.5") for name in names
        ]
        resque = Resque(server.url)
        wait_for(lambda: len(resque.workers()) == WORKERS, "the workers to register", 30)
        producer = Producer(server.url, [(f"job-{n}", rng.randint(0, 20)) for n in range(JOBS)], QUEUE, 0.01)
        producer.start()
        kinds = ["shutdown"] * (RESTARTS // 2) + ["sigkill"] * (RESTARTS - RESTARTS // 2)
        rng.shuffle(kinds)
        restarts: list[dict[str, Any]] = []
        reconnects: list[float] = []
        for kind in kinds:
            time.sleep(rng.uniform(0.5, 2.0))
            went_down = _restart(server, kind, rng.uniform(0.2, 1.5))
            came_back = time.time()
            back = _reconnected(server, names, came_back)
            reconnects += back.values()
            restarts.append(
                {
                    "kind": kind,
                    "down_s": round(came_back - went_down, 3),
                    "reconnect_s": {name: round(value, 3) for name, value in back.items()},
                }
            )
        producer.join(300)
        client = server.client()
        settle(client, QUEUE, 120)
        running = all(worker.running() for worker in workers)
        for worker in workers:
            worker.signal(signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers]
    analysis = ledger.analyse(ledger.read(path), producer.acked, pushed_twice=producer.retried)
    result = Outcome(analysis, restarts, reconnects, running, codes, producer.error_text())
    figures = {
        "seed": seed,
        "jobs": JOBS,
        "seconds": round(time.monotonic() - started, 1),
        "restarts": restarts,
        "reconnect_p50_s": round(ledger.percentile(reconnects, 0.5) or 0.0, 3),
        "reconnect_max_s": round(max(reconnects, default=0.0), 3),
        "enqueue_attempts_failed": producer.attempts_failed,
        "enqueues_retried": len(producer.retried),
        "workers_running_to_the_end": running,
        "worker_exit_codes": codes,
        **analysis.figures(),
    }
    publish(
        "redis_restarts",
        figures,
        f"{JOBS} jobs, {len(restarts)} restarts: lost {len(analysis.lost)}, duplicated {len(analysis.duplicated)} "
        f"(all explained: {not analysis.unexplained_reruns}), reconnect max {figures['reconnect_max_s']} s",
    )
    return result


def test_the_producer_got_every_enqueue_acknowledged(outcome: Outcome) -> None:
    assert outcome.producer_error is None
    assert outcome.analysis.acknowledged == JOBS


def test_no_acknowledged_enqueue_is_lost(outcome: Outcome) -> None:
    assert outcome.analysis.lost == []


def test_every_duplicate_is_explained(outcome: Outcome) -> None:
    assert outcome.analysis.unexplained_reruns == []


def test_workers_reconnect_within_5_seconds_of_redis_coming_back(outcome: Outcome) -> None:
    assert len(outcome.restarts) == RESTARTS
    assert max(outcome.reconnect_seconds) <= RECONNECT_LIMIT


def test_no_worker_process_exits(outcome: Outcome) -> None:
    assert outcome.workers_running_to_the_end
    assert outcome.exit_codes == [0] * WORKERS
