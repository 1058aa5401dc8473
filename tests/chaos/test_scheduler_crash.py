"""Reliability 7: the scheduler SIGKILLed again and again while delayed jobs come due.

Delayed jobs fall due over about twenty seconds; meanwhile the ``resque-impl scheduler`` process is
killed (SIGKILL) every 0.5-1.5 s and started again at once, as systemd would. Each delayed job must
reach its queue exactly once: the moves are atomic batches, and a restarted scheduler takes over
from its dead predecessor without waiting for the master lock to expire.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from resque_impl import Resque
from tests.chaos import ledger
from tests.chaos.chaos_jobs import ChaosWork
from tests.chaos.figures import knob, publish, seeded_random
from tests.chaos.procs import JOBS_MODULE, Proc, Procs, durable_redis, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

DELAYED = knob("DELAYED_JOBS", 10_000)
KILLS = knob("SCHEDULER_KILLS", 20)
QUEUE = "delayed"
WINDOW = 20


@dataclass
class Outcome:
    expected: set[str]
    counts: Counter[str]
    left_delayed: int
    failover_seconds: list[float]


class QueueLength(threading.Thread):
    """Samples the queue's length every 20 ms, to see when moves resume after each kill."""

    def __init__(self, url: str) -> None:
        super().__init__(name="queue-length", daemon=True)
        self.client = Resque(url).store.client
        self.samples: list[tuple[float, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.02):
            self.samples.append((time.time(), int(self.client.llen(f"resque:queue:{QUEUE}"))))

    def resumed_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` until the queue next grew."""
        before = [length for at, length in self.samples if at <= moment]
        base = before[-1] if before else 0
        return next((at - moment for at, length in self.samples if at > moment and length > base), None)


def _scheduler(procs: Procs, url: str, number: int) -> Proc:
    return procs.cli(f"scheduler-{number}", "--redis", url, "scheduler", "--interval", "0.2", "--jobs", JOBS_MODULE)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    rng, seed = seeded_random("scheduler-crash")
    tmp = tmp_path_factory.mktemp("scheduler")
    started = time.monotonic()
    with durable_redis() as server, Procs(tmp, {}) as procs:
        resque = Resque(server.url)
        first_due = int(time.time()) + 3 + DELAYED // 2000
        expected = {f"delayed-{n}" for n in range(DELAYED)}
        for n in range(DELAYED):
            resque.enqueue_at_with_queue(QUEUE, first_due + n * WINDOW // DELAYED, ChaosWork, f"delayed-{n}", 0)
        sampler = QueueLength(server.url)
        sampler.start()
        scheduler = _scheduler(procs, server.url, 0)
        wait_for(lambda: time.time() >= first_due, "the first jobs to fall due", 60)
        kills: list[float] = []
        for number in range(1, KILLS + 1):
            time.sleep(rng.uniform(0.5, 1.5))
            assert scheduler.running(), f"the scheduler exited:\n{scheduler.tail()}"
            scheduler.kill()
            kills.append(time.time())
            scheduler = _scheduler(procs, server.url, number)
        wait_for(lambda: resque.delayed_queue_schedule_size() == 0, "every delayed job to be moved", 120)
        sampler.stopping.set()
        sampler.join(10)
        queued = [job.args[0] for job in resque.peek(QUEUE, 0, DELAYED * 2)]
        result = Outcome(expected, Counter(queued), resque.count_all_scheduled_jobs(), [])
    result.failover_seconds = [value for kill in kills if (value := sampler.resumed_after(kill)) is not None]
    duplicates = {job: count for job, count in result.counts.items() if count > 1}
    missing = sorted(expected - set(result.counts))
    figures = {
        "seed": seed,
        "delayed_jobs": DELAYED,
        "due_over_s": WINDOW,
        "scheduler_kills": len(kills),
        "seconds": round(time.monotonic() - started, 1),
        "enqueued": sum(result.counts.values()),
        "duplicated": len(duplicates),
        "duplicates": dict(list(duplicates.items())[:20]),
        "missing": len(missing),
        "missing_jobs": missing[:20],
        "left_in_the_schedule": result.left_delayed,
        "moves_resumed_after_kill_p50_s": round(ledger.percentile(result.failover_seconds, 0.5) or 0.0, 3),
        "moves_resumed_after_kill_max_s": round(max(result.failover_seconds, default=0.0), 3),
    }
    publish(
        "scheduler_crash",
        figures,
        f"{DELAYED} delayed jobs, {len(kills)} kills: enqueued {figures['enqueued']}, duplicated "
        f"{len(duplicates)}, missing {len(missing)}, moves resumed within "
        f"{figures['moves_resumed_after_kill_max_s']} s of a kill",
    )
    return result


def test_every_delayed_job_is_enqueued(outcome: Outcome) -> None:
    assert set(outcome.counts) == outcome.expected
    assert outcome.left_delayed == 0


def test_no_delayed_job_is_enqueued_twice(outcome: Outcome) -> None:
    assert [job for job, count in outcome.counts.items() if count > 1] == []


def test_a_restarted_scheduler_takes_over_at_once(outcome: Outcome) -> None:
    # Without the take-over, the dead master's lock would hold moves back for LOCK_TIMEOUT (180 s).
    assert outcome.failover_seconds
    assert max(outcome.failover_seconds) < 10
