"""Reliability 9: Sentinel and Redis Cluster failovers under load (issue #19).

A primary with 2 replicas and 3 sentinels (``SentinelTopology``); two ``resque-impl work`` processes and
a producer thread, all on the ``redis+sentinel://`` URL, work through ``CHAOS_FAILOVER_JOBS`` jobs while
the deployment fails over ``CHAOS_FAILOVERS`` times, by ``SENTINEL FAILOVER`` (the old primary stays up,
and keeps taking writes until the sentinels demote it, up to 10 s later) or by SIGKILL of the primary.

Each scenario runs once. Promised (asserted):

* durable enqueue with every replica (``wait_replicas=2``), both kinds of failover: no acknowledged
  enqueue lost, every duplicate explained;
* durable enqueue with one replica (``wait_replicas=1``), SIGKILL failovers: the same, and workers
  running jobs again within 5 s of each new primary being named by the sentinels.
* the same on a Redis Cluster (3 primaries with a replica each, the deployment in ``{resque}``) with
  ``wait_replicas=1`` through ``CLUSTER FAILOVER`` and SIGKILL of the slot's primary: no acknowledged
  enqueue lost, every duplicate explained.

Measured only (figures in test-artifacts/chaos/, and in docs/ha-redis.md): ``wait_replicas=1`` through
``SENTINEL FAILOVER`` (a replica still following the old primary confirms writes the new primary never
gets), and no durable enqueue at all.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from resque_impl import Resque
from resque_impl.testing import RedisServer
from resque_impl.testing.cluster import ClusterTopology
from resque_impl.testing.sentinel import SentinelTopology
from tests.chaos import ledger
from tests.chaos.chaos_jobs import LEDGER_ENV
from tests.chaos.figures import knob, publish, seeded_random
from tests.chaos.procs import Procs, wait_for
from tests.chaos.producer import Producer

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1200)]

JOBS = knob("FAILOVER_JOBS", 2000)
FAILOVERS = knob("FAILOVERS", 5)
WORKERS = 2
QUEUE = "failover"
#: Seconds after the sentinels name a new primary within which workers must run jobs again.
SERVING_LIMIT = 5.0
#: The cluster scenario's namespace: hash-tagged, so the deployment sits in one slot.
NAMESPACE = "{resque}"


@dataclass(frozen=True)
class Scenario:
    name: str
    wait_replicas: int
    kinds: tuple[str, ...]
    #: ``sentinel``, or ``cluster``: 3 primaries with a replica each, the deployment in ``{resque}``,
    #: failed over by ``CLUSTER FAILOVER`` or SIGKILL of the slot's primary.
    topology: str = "sentinel"


@dataclass
class Outcome:
    scenario: Scenario
    analysis: ledger.Analysis
    failovers: list[dict[str, Any]] = field(default_factory=list)
    producer_error: str | None = None
    unknown_jobs: list[str] = field(default_factory=list)
    workers_running_to_the_end: bool = False

    def serving_again(self) -> list[float]:
        """Seconds to the first job begun after each failover that happened under load."""
        return [entry["serving_again_s"] for entry in self.failovers if entry["serving_again_s"] is not None]


MIXED = tuple(("failover", "sigkill")[n % 2] for n in range(FAILOVERS))
KILLED_PRIMARIES = Scenario("durable_one_replica_sigkill", 1, ("sigkill",) * FAILOVERS)
PROMISED = [
    Scenario("durable_all_replicas", 2, MIXED),
    KILLED_PRIMARIES,
    Scenario("cluster_durable", 1, MIXED, "cluster"),
]
MEASURED = [
    Scenario("durable_one_replica_sentinel_failover", 1, ("failover",) * FAILOVERS),
    Scenario("not_durable", 0, MIXED),
]


def _fail_over(topology: SentinelTopology | ClusterTopology, kind: str) -> None:
    if isinstance(topology, ClusterTopology):
        topology.failover_slot_of(NAMESPACE) if kind == "failover" else topology.kill_slot_owner(NAMESPACE)
    else:
        topology.failover() if kind == "failover" else topology.kill_primary()


def _drain(resque: Resque, timeout: float) -> bool:
    """Wait until the queue and every worker's in-flight jobs are empty; ``False`` after ``timeout``
    seconds (the ledger then shows what was lost)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if resque.size(QUEUE) == 0 and not any(resque.store.inflight(worker) for worker in resque.store.worker_ids()):
            return True
        time.sleep(0.2)
    return False


def _run(scenario: Scenario, tmp: Any) -> Outcome:
    rng, seed = seeded_random(f"sentinel-failover-{scenario.name}")
    path = tmp / "ledger"
    started = time.monotonic()
    topology: Any = SentinelTopology() if scenario.topology == "sentinel" else ClusterTopology()
    with topology, Procs(tmp, {LEDGER_ENV: str(path)}) as procs:
        parameters = {"namespace": NAMESPACE} if scenario.topology == "cluster" else {}
        if scenario.wait_replicas:
            parameters["wait_replicas"] = str(scenario.wait_replicas)
        url = topology.url + (f"?{urlencode(parameters)}" if parameters else "")
        workers = [procs.worker(f"failover-worker-{n}", url, QUEUE, "--interval", "0.5") for n in range(WORKERS)]
        resque = Resque(url)
        wait_for(lambda: len(resque.workers()) == WORKERS, "the workers to register", 30)
        producer = Producer(url, [(f"job-{n}", rng.randint(0, 5)) for n in range(JOBS)], QUEUE, 0.005)
        producer.start()
        kinds = list(scenario.kinds)
        rng.shuffle(kinds)
        marks: list[tuple[str, float, float, bool]] = []
        for kind in kinds:
            time.sleep(rng.uniform(0.5, 1.5))
            began = time.time()
            _fail_over(topology, kind)
            marks.append((kind, began, topology.named_at, producer.is_alive()))
        producer.join(600)
        _drain(resque, 120)
        running = all(worker.running() for worker in workers)
        for worker in workers:
            worker.signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
    runs = ledger.read(path)
    analysis = ledger.analyse(runs, producer.acked, pushed_twice=producer.retried)
    failovers = []
    for kind, began, named, under_load in marks:
        first = min((run.begin for run in runs if run.begin > named), default=None)
        failovers.append(
            {
                "kind": kind,
                "sentinels_named_new_primary_after_s": round(named - began, 3),
                "serving_again_s": round(first - named, 3) if under_load and first is not None else None,
            }
        )
    acked = set(producer.acked)
    outcome = Outcome(
        scenario,
        analysis,
        failovers,
        repr(producer.error) if producer.error else None,
        sorted({run.job for run in runs} - acked - set(producer.retried)),
        running,
    )
    serving = outcome.serving_again()
    figures = {
        "seed": seed,
        "scenario": scenario.name,
        "wait_replicas": scenario.wait_replicas,
        "jobs": JOBS,
        "seconds": round(time.monotonic() - started, 1),
        "failovers": failovers,
        "serving_again_max_s": max(serving, default=None),
        "enqueue_attempts_failed": producer.attempts_failed,
        "enqueues_retried": len(producer.retried),
        **analysis.figures(),
    }
    publish(
        f"sentinel_failover_{scenario.name}",
        figures,
        f"{JOBS} jobs, {len(failovers)} failovers ({', '.join(kinds)}), wait_replicas={scenario.wait_replicas}: "
        f"lost {len(analysis.lost)}, duplicated {len(analysis.duplicated)} "
        f"(unexplained reruns: {len(analysis.unexplained_reruns)}), serving again max "
        f"{figures['serving_again_max_s']} s",
    )
    return outcome


@pytest.fixture(scope="module")
def run(redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory) -> Callable[[Scenario], Outcome]:
    """Runs a scenario once per module, however many tests read it. (``redis_server`` only to skip or
    fail as every real-server test does without a ``redis-server``.)"""
    outcomes: dict[Scenario, Outcome] = {}

    def outcome(scenario: Scenario) -> Outcome:
        if scenario not in outcomes:
            outcomes[scenario] = _run(scenario, tmp_path_factory.mktemp(scenario.name))
        return outcomes[scenario]

    return outcome


@pytest.fixture(params=PROMISED, ids=[s.name for s in PROMISED])
def promised(request: pytest.FixtureRequest, run: Callable[[Scenario], Outcome]) -> Outcome:
    return run(request.param)


@pytest.fixture
def killed_primaries(run: Callable[[Scenario], Outcome]) -> Outcome:
    return run(KILLED_PRIMARIES)


@pytest.fixture(params=MEASURED, ids=[s.name for s in MEASURED])
def measured(request: pytest.FixtureRequest, run: Callable[[Scenario], Outcome]) -> Outcome:
    return run(request.param)


def test_the_producer_got_every_enqueue_acknowledged(promised: Outcome) -> None:
    assert promised.producer_error is None
    assert promised.analysis.acknowledged == JOBS


def test_no_acknowledged_enqueue_is_lost(promised: Outcome) -> None:
    assert promised.analysis.lost == []


def test_every_duplicate_is_explained(promised: Outcome) -> None:
    assert promised.analysis.unexplained_reruns == []


def test_every_worker_process_runs_to_the_end(promised: Outcome) -> None:
    assert promised.workers_running_to_the_end


def test_workers_serve_again_within_5_s_of_each_primary_killed_under_durable_enqueue(
    killed_primaries: Outcome,
) -> None:
    assert killed_primaries.serving_again()
    assert max(killed_primaries.serving_again()) <= SERVING_LIMIT


def test_without_the_promise_workers_only_ever_run_enqueued_jobs(measured: Outcome) -> None:
    assert measured.producer_error is None
    assert measured.analysis.acknowledged == JOBS
    assert measured.unknown_jobs == []
