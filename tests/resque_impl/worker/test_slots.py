"""Job slots in this process (:func:`work_concurrently`), on fakeredis and a real server: ids that read
as the worker's host, pid and queues, jobs that can only finish when every slot runs one at once, and
pruning that tells a live process's slots from a dead one's."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
import redis

from resque_impl import ManualClock, Registry, Resque, job
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions
from resque_impl.worker.concurrency import work_concurrently
from resque_impl.worker.pruning import dead_workers
from resque_impl.worker.slots import slot_id

SLOTS = 4
registry = Registry()
barrier = threading.Barrier(SLOTS, timeout=10)
arrived: list[str] = []


@job(queue="slots", registry=registry, name="SlotsMeet")
class SlotsMeet:
    """Finishes only once SLOTS of its kind wait at once (each in its own thread)."""

    @staticmethod
    def perform(name: str) -> None:
        barrier.wait()
        arrived.append(name)


@job(queue="slots", registry=registry, name="SlotsMeetAsync")
class SlotsMeetAsync:
    """Finishes only once SLOTS of its kind await at once (on the one event loop)."""

    @staticmethod
    async def perform(name: str) -> None:
        arrived.append(name)
        while len([item for item in arrived if item.startswith("async")]) < SLOTS:
            await asyncio.sleep(0.01)


@pytest.fixture
def resque(redis_client: redis.Redis, clock: ManualClock, namespace: str) -> Resque:
    arrived.clear()
    barrier.reset()
    return Resque(redis_client, namespace=namespace, clock=clock, registry=registry)


def test_slot_ids_read_as_the_workers_host_pid_and_queues() -> None:
    assert [slot_id("box:42:high,low", slot) for slot in range(3)] == [
        "box:42:high,low",
        "box:42:high,low,",
        "box:42:high,low,,",
    ]
    for slot in range(3):
        host, pid, queues = slot_id("box:42:high,low", slot).split(":")
        assert (host, pid, [queue for queue in queues.split(",") if queue]) == ("box", "42", ["high", "low"])
    with pytest.raises(ValueError, match="negative"):
        slot_id("box:42:q", -1)


def test_every_slot_runs_a_job_at_once_in_threads_and_on_the_loop(resque: Resque) -> None:
    for n in range(SLOTS):
        resque.enqueue(SlotsMeet, f"sync {n}")
    for n in range(SLOTS):
        resque.enqueue(SlotsMeetAsync, f"async {n}")
    calls: list[str] = []
    hooks = WorkerHooks()
    hooks.add("before_first_fork", lambda worker: calls.append(worker.id))
    options = WorkerOptions(burst=True, heartbeat_interval=1)

    def make() -> Worker:
        return Worker("slots", resque=resque, hooks=hooks, options=options)

    assert work_concurrently(make, options, SLOTS) == 0
    assert sorted(arrived) == sorted([f"sync {n}" for n in range(SLOTS)] + [f"async {n}" for n in range(SLOTS)])
    assert (resque.stat("processed"), resque.stat("failed")) == (2 * SLOTS, 0)
    assert len(calls) == 1  # before_first_fork runs once per process
    assert resque.workers() == []


def test_a_live_process_keeps_its_slots_and_a_dead_ones_are_all_pruned() -> None:
    ids = [slot_id("box:42:high,low", slot) for slot in range(SLOTS)]

    def dead(live: set[str], my_queues: list[str]) -> list[tuple[str, bool]]:
        return dead_workers(
            ids,
            {},
            now=0.0,
            stale_after=300.0,
            me="box:7:high,low",
            hostname="box",
            my_queues=my_queues,
            local_pids=lambda: live,
        )

    assert dead({"42", "7"}, ["high", "low"]) == []
    assert dead({"7"}, ["low", "high"]) == [(worker_id, False) for worker_id in ids]
    assert dead({"7"}, ["*"]) == [(worker_id, False) for worker_id in ids]
    assert dead({"7"}, ["other"]) == []


def test_an_async_perform_runs_on_a_fresh_loop_without_slots(resque: Resque) -> None:
    resque.enqueue(SlotsMeetAsync, "async alone")
    arrived.extend(["async"] * (SLOTS - 1))  # so the lone job need not wait for others
    worker = Worker("slots", resque=resque, options=WorkerOptions(fork_per_job=False))
    assert worker.work(burst=True) == 0
    assert "async alone" in arrived
    assert (resque.stat("processed"), resque.stat("failed")) == (1, 0)


class BreaksOnce(Worker):
    """A worker whose first reservation fails as no Redis error would: a bug in the slot's loop."""

    broken = threading.Event()

    def reserve(self) -> Any:
        if not BreaksOnce.broken.is_set():
            BreaksOnce.broken.set()
            raise RuntimeError("a bug in the slot")
        return super().reserve()


def test_a_slot_whose_loop_fails_is_unregistered_and_started_again(
    resque: Resque, caplog: pytest.LogCaptureFixture
) -> None:
    BreaksOnce.broken.clear()
    arrived.extend(["async"] * SLOTS)
    for n in range(3):
        resque.enqueue(SlotsMeetAsync, f"async {n}")
    options = WorkerOptions(burst=True, heartbeat_interval=1)
    with caplog.at_level(logging.WARNING, logger="resque_impl.worker"):
        assert work_concurrently(lambda: BreaksOnce("slots", resque=resque, options=options), options, 2) == 0
    assert "ended with 1; starting it again" in caplog.text
    assert (resque.stat("processed"), resque.stat("failed")) == (3, 0)
    assert resque.workers() == []
