"""The Resque state machine: our stores agree with the model, with each other, and planted bugs are found."""

from __future__ import annotations

import fakeredis
import pytest
from hypothesis import Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from resque_impl import ManualClock, Registry, Resque
from resque_impl.keys import Keys
from resque_impl.store import Store
from resque_impl.store.memory import MemoryStore
from resque_impl.testing import RedisServer, dump_keys
from resque_impl.testing.differential import DifferentialStore
from resque_impl.testing.statemachine import ResqueStateMachine

TestOnFakeredis = ResqueStateMachine.TestCase


class MemoryStoreMachine(ResqueStateMachine):
    def make_resque(self, clock: ManualClock, registry: Registry) -> Resque:
        return Resque(store=MemoryStore(), clock=clock, registry=registry)


TestOnTheMemoryTwin = MemoryStoreMachine.TestCase


def test_on_a_real_redis_server(redis_server: RedisServer) -> None:
    class RealRedisMachine(ResqueStateMachine):
        def make_resque(self, clock: ManualClock, registry: Registry) -> Resque:
            client = redis_server.client(socket_timeout=5)
            client.flushall()
            return Resque(client, clock=clock, registry=registry)

    run_state_machine_as_test(RealRedisMachine, settings=settings())


def test_fakeredis_and_a_real_server_answer_every_call_alike(redis_server: RedisServer) -> None:
    class DifferentialMachine(ResqueStateMachine):
        def make_resque(self, clock: ManualClock, registry: Registry) -> Resque:
            real = redis_server.client(socket_timeout=5)
            real.flushall()
            self.clients = (fakeredis.FakeRedis(), real)
            stores = DifferentialStore(Store(self.clients[0], Keys()), Store(real, Keys()))
            return Resque(store=stores.as_store(), clock=clock, registry=registry)

        def teardown(self) -> None:
            fake, real = (dump_keys(client) for client in self.clients)
            assert fake == real

    run_state_machine_as_test(DifferentialMachine, settings=settings())


class LifoStore(Store):
    """Planted bug: pushes onto the head, so a queue runs newest first."""

    def push(self, queue: str, payload: bytes) -> None:
        self.client.sadd(self.keys.queues, queue)
        self.client.lpush(self.keys.queue(queue), payload)


class ForgetfulStore(Store):
    """Planted bug: pushes without recording the queue name (no SADD queues)."""

    def push(self, queue: str, payload: bytes) -> None:
        self.client.rpush(self.keys.queue(queue), payload)


class LosingStore(Store):
    """Planted bug: a dead worker's in-flight jobs are never given back, so each becomes a DirtyExit
    failure (what Ruby Resque does) instead of running again."""

    def recover_inflight(self, worker_id: str, max_recoveries: int) -> tuple[int, list[tuple[str, bytes]]]:
        return 0, []


@pytest.mark.parametrize(
    ("broken", "symptom"),
    [(LifoStore, "queue contents"), (ForgetfulStore, "known queues"), (LosingStore, "failure records")],
)
def test_the_machine_finds_a_planted_bug(broken: type[Store], symptom: str) -> None:
    class BrokenMachine(ResqueStateMachine):
        def make_resque(self, clock: ManualClock, registry: Registry) -> Resque:
            return Resque(store=broken(fakeredis.FakeRedis(), Keys()), clock=clock, registry=registry)

    # Finding the bug is what counts here; shrinking it to a minimal example would only take longer.
    # A rare path (a dead worker holding jobs) may take more than the default 100 examples to reach.
    quick = settings(database=None, print_blob=False, phases=[Phase.generate], max_examples=1000)
    with pytest.raises(AssertionError, match=f"{symptom} differ from the model"):
        run_state_machine_as_test(BrokenMachine, settings=quick)
