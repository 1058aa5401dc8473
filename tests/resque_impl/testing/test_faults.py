"""Fault injection: workers killed at chosen points, recovery by a survivor, and what became of the job."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from resque_impl import Job, Resque
from resque_impl.testing import Sandbox, fake_mode
from resque_impl.testing.faults import FaultInjectionError, FaultInjector

APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class Gateway:
    """A payment gateway that remembers every charge."""

    charges: ClassVar[list[int]] = []

    @classmethod
    def charge(cls, order: int) -> None:
        cls.charges.append(order)


class ChargeOrder(Job):
    """Charges, then saves a receipt: not idempotent (a redelivery charges again)."""

    queue = "payments"
    receipts: ClassVar[list[int]] = []
    failures: ClassVar[list[str]] = []

    @staticmethod
    def perform(order: int) -> None:
        Gateway.charge(order)
        ChargeOrder.receipts.append(order)

    @staticmethod
    def on_failure_note(error: BaseException, order: int) -> None:
        ChargeOrder.failures.append(type(error).__name__)


class ChargeOrderOnce(Job):
    """The idempotent version: charges only orders it has no charge for."""

    queue = "payments"

    @staticmethod
    def perform(order: int) -> None:
        if order not in Gateway.charges:
            Gateway.charge(order)


CHARGE = f"{__name__}.Gateway.charge"


@pytest.fixture(autouse=True)
def _fresh_gateway() -> None:
    Gateway.charges.clear()
    ChargeOrder.receipts.clear()
    ChargeOrder.failures.clear()


@pytest.fixture
def fake() -> Any:
    with fake_mode() as sandbox:
        yield sandbox


def test_killed_after_reserve_the_job_goes_back_to_the_head_of_its_queue(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 1)
    APP_RESQUE.enqueue(ChargeOrder, 2)
    faults = FaultInjector(APP_RESQUE)
    killed = faults.kill_after_reserve("payments")
    assert APP_RESQUE.size("payments") == 1
    assert APP_RESQUE.workers() == [killed.worker_id]
    recovery = faults.recover()
    assert recovery.retired == [killed.worker_id]
    assert [(job.queue, job.args) for job in recovery.requeued] == [("payments", [1])]
    assert recovery.failed == []
    assert [job.args for job in APP_RESQUE.peek("payments", 0, 10)] == [[1], [2]]
    assert APP_RESQUE.workers() == []
    fake.drain()
    assert Gateway.charges == [1, 2]


def test_killed_after_perform_a_non_idempotent_job_runs_twice(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 7)
    faults = FaultInjector(APP_RESQUE)
    killed = faults.kill_after_perform()
    assert killed.outcome is not None
    assert killed.outcome.status == "performed"
    assert APP_RESQUE.stat("processed") == 0
    faults.recover()
    fake.drain()
    assert Gateway.charges == [7, 7]


def test_an_idempotent_job_survives_the_same_redelivery(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrderOnce, 7)
    faults = FaultInjector(APP_RESQUE)
    faults.kill_after_perform()
    faults.recover()
    fake.drain()
    assert Gateway.charges == [7]


def test_killed_right_after_a_call_inside_the_job_nothing_after_it_runs(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 3)
    faults = FaultInjector(APP_RESQUE)
    killed = faults.kill_during(CHARGE, "payments")
    assert killed.point == "during"
    assert Gateway.charges == [3]
    assert ChargeOrder.receipts == []
    assert ChargeOrder.failures == []  # a killed process runs no failure hook
    recovery = faults.recover()
    assert [job.args for job in recovery.requeued] == [[3]]
    fake.drain()
    assert Gateway.charges == [3, 3]
    assert ChargeOrder.receipts == [3]


def test_killed_right_before_the_call_the_redelivery_makes_it_once(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 4)
    faults = FaultInjector(APP_RESQUE)
    faults.kill_during(CHARGE, when="before")
    assert Gateway.charges == []
    faults.recover()
    fake.drain()
    assert Gateway.charges == [4]


def test_without_reliable_fetch_the_job_is_a_dirty_exit_failure_as_in_ruby(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 5)
    faults = FaultInjector(APP_RESQUE, reliable=False)
    faults.kill_after_reserve()
    recovery = faults.recover()
    assert recovery.requeued == []
    [record] = recovery.failed
    assert (record.exception, record.error) == ("Resque::DirtyExit", "Job still being processed")
    assert ChargeOrder.failures == ["DirtyExit"]
    assert APP_RESQUE.size("payments") == 0


def test_a_job_whose_workers_keep_dying_becomes_a_poison_failure(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrder, 6)
    faults = FaultInjector(APP_RESQUE, max_recoveries=2)
    for _ in range(2):
        faults.kill_after_reserve()
        assert len(faults.recover().requeued) == 1
    faults.kill_after_reserve()
    recovery = faults.recover()
    assert recovery.requeued == []
    assert [record.exception for record in recovery.failed] == ["Resque::PoisonJobError"]
    assert APP_RESQUE.size("payments") == 0


def test_killing_with_no_job_waiting_is_an_error(fake: Sandbox) -> None:
    with pytest.raises(FaultInjectionError, match="no job is waiting in payments"):
        FaultInjector(APP_RESQUE).kill_after_reserve("payments")
    assert APP_RESQUE.workers() == []


def test_a_job_that_never_calls_the_target_is_not_killed(fake: Sandbox) -> None:
    APP_RESQUE.enqueue(ChargeOrderOnce, 8)
    Gateway.charges.append(8)
    with pytest.raises(FaultInjectionError, match="never called"):
        FaultInjector(APP_RESQUE).kill_during(CHARGE)
    assert APP_RESQUE.stat("processed") == 1
    assert APP_RESQUE.workers() == []
