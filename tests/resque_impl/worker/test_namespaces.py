"""``resque-impl work --namespace a --namespace b``: one real worker process serving several namespaces,
each with its own job slots registered in it, on a real redis-server and on a Redis Cluster whose
namespaces sit on different primaries.

Each test starts the worker as an operator would and coordinates with its jobs through files (see
tests/worker_jobs.py).
"""

# The fixtures imported from test_processes are taken by name as parameters.
# ruff: noqa: F811

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from resque_impl import Resque
from resque_impl.testing.cluster import ClusterTopology
from resque_impl.worker import Worker, WorkerOptions
from tests.resque_impl.worker.test_concurrency import count, slot_ids
from tests.resque_impl.worker.test_processes import (  # noqa: F401
    WorkerProcess,
    client,
    failures,
    lines,
    server,
    spawn,
    wait_for,
)
from tests.worker_jobs import ProcEnqueue, ProcSteps

NAMESPACES = ("app-a", "app-b")


@pytest.fixture
def deployments(client: redis.Redis) -> dict[str, Resque]:
    return {namespace: Resque(client, namespace=namespace) for namespace in NAMESPACES}


def _recovered_after_kill(worker: WorkerProcess, deployments: dict[str, Resque], slots: int) -> None:
    """SIGKILL the worker; a worker of each namespace then prunes its slots and requeues their jobs."""
    worker.kill_group()
    for namespace, resque in deployments.items():
        assert resque.size("proc") == 0, namespace
        pruner = Worker("proc", resque=resque, options=WorkerOptions(heartbeat_interval=1))
        assert sorted(pruner.prune_dead_workers()) == slot_ids(worker.pid, slots=slots), namespace
        assert (resque.size("proc"), resque.workers(), failures(resque)) == (slots, [], []), namespace


def test_each_namespace_gets_its_own_slots_registered_in_it_and_a_kill_loses_no_job(
    deployments: dict[str, Resque], spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    for namespace, resque in deployments.items():
        for n in range(2):
            resque.enqueue(ProcSteps, str(notes), f"{namespace} {n}", 60)
    worker = spawn(*[arg for namespace in NAMESPACES for arg in ("--namespace", namespace)], "--concurrency", "2")
    wait_for(lambda: count(notes, "start") == 4, "both slots of both namespaces to start a job")
    assert sorted(lines(notes)) == [f"start {namespace} {n}" for namespace in NAMESPACES for n in range(2)]
    for resque in deployments.values():
        # Ruby Resque reading either namespace sees an ordinary worker with two slots, both busy.
        assert sorted(resque.workers()) == slot_ids(worker.pid, slots=2)
        assert sorted(resque.working()) == slot_ids(worker.pid, slots=2)
    _recovered_after_kill(worker, deployments, slots=2)


def test_jobs_enqueue_into_their_own_namespace_and_a_burst_drains_every_namespace(
    deployments: dict[str, Resque], spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    marks = tmp_path / "marks"
    for namespace, resque in deployments.items():
        resque.enqueue(ProcEnqueue, str(marks), namespace)
    worker = spawn("--burst", *[arg for namespace in NAMESPACES for arg in ("--namespace", namespace)])
    assert worker.wait() == 0, worker.output()
    # Each follow-up job went to the namespace of the job that enqueued it, and ran there.
    assert sorted(lines(marks)) == sorted(NAMESPACES)
    for resque in deployments.values():
        assert (resque.stat("processed"), resque.size("proc"), resque.workers()) == (2, 0, [])


def test_a_stop_signal_stops_every_namespace(
    deployments: dict[str, Resque], spawn: Callable[..., WorkerProcess], tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    for namespace, resque in deployments.items():
        resque.enqueue(ProcSteps, str(notes), namespace, 0.5)
    worker = spawn(*[arg for namespace in NAMESPACES for arg in ("--namespace", namespace)])
    wait_for(lambda: count(notes, "start") == 2, "a job of each namespace to start")
    worker.send(signal.SIGQUIT)
    assert worker.wait() == 0, worker.output()
    assert sorted(lines(notes))[:2] == [f"end {namespace}" for namespace in NAMESPACES]
    assert all(resque.workers() == [] for resque in deployments.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--namespace", "a", "--namespace", "a"), "--namespace 'a' is given twice"),
        (("--namespace", "a", "--namespace", "b", "--fork"), "cannot fork a child per job"),
    ],
)
def test_namespace_lists_that_cannot_work_are_refused_at_start(
    args: tuple[str, ...], message: str, spawn: Callable[..., WorkerProcess]
) -> None:
    worker = spawn(*args)
    assert worker.wait() == 2
    assert message in worker.output()


@pytest.fixture
def cluster_deployments(redis_cluster: ClusterTopology) -> Iterator[dict[str, Resque]]:
    """Two hash-tagged namespaces whose slots are on different primaries of the session's cluster."""
    by_primary: dict[int, str] = {}
    for tag in ("a", "b", "c", "d", "e", "f", "g", "h"):
        by_primary.setdefault(redis_cluster.owner_of("{" + tag + "}").port, "{" + tag + "}")
    namespaces = sorted(by_primary.values())[:2]
    deployments = {namespace: Resque(redis_cluster.url, namespace=namespace) for namespace in namespaces}
    for resque in deployments.values():
        resque.redis.flushall()
    yield deployments
    for resque in deployments.values():
        resque.redis.close()


def test_on_a_cluster_each_namespace_works_on_its_own_primary_and_a_kill_loses_no_job(
    cluster_deployments: dict[str, Resque], redis_cluster: ClusterTopology, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    namespaces = list(cluster_deployments)
    assert len({redis_cluster.owner_of(namespace).port for namespace in namespaces}) == 2
    for namespace, resque in cluster_deployments.items():
        resque.enqueue(ProcSteps, str(notes), namespace, 60)
    args = [arg for namespace in namespaces for arg in ("--namespace", namespace)]
    worker = WorkerProcess(redis_cluster.url, tmp_path, *args)
    try:
        wait_for(lambda: count(notes, "start") == 2, "a job of each namespace to start")
        for namespace in namespaces:
            with redis_cluster.owner_of(namespace).client() as primary:
                # Each namespace's worker is registered on its own slot's primary.
                assert primary.smembers(f"{namespace}:workers") == {slot_ids(worker.pid, slots=1)[0].encode()}
        _recovered_after_kill(worker, cluster_deployments, slots=1)
    finally:
        if worker.process.poll() is None:
            worker.kill_group()
