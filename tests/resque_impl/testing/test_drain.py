"""Running captured jobs: perform_one and drain use the real worker steps, in this process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

import resque_impl
from resque_impl import Job, Resque
from resque_impl.testing import DrainLimitError, JobFailedError, SandboxInactiveError, fake_mode

APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class DrainLog(Job):
    """Records its runs; arguments steer it: "fail" raises, ("spawn", n) enqueues n more."""

    queue = "default"
    runs: ClassVar[list[tuple[str, list[Any]]]] = []

    @classmethod
    def around_perform_log(cls, *args: Any) -> Iterator[None]:
        cls.runs.append(("around", list(args)))
        yield

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.runs.append(("perform", list(args)))
        if args and args[0] == "fail":
            raise LookupError("no such thing")
        if args and args[0] == "spawn" and args[1] > 0:
            resque_impl.enqueue(DrainLog, "spawn", args[1] - 1)


class Forever(Job):
    queue = "loop"

    @staticmethod
    def perform() -> None:
        resque_impl.enqueue(Forever)


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    DrainLog.runs.clear()


def performed(kind: str = "perform") -> list[list[Any]]:
    return [args for step, args in DrainLog.runs if step == kind]


def test_drain_runs_every_job_with_its_hooks_in_queue_priority_order() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue_to("low", DrainLog, 1)
        APP_RESQUE.enqueue_to("high", DrainLog, 2)
        APP_RESQUE.enqueue_to("low", DrainLog, 3)
        APP_RESQUE.enqueue_to("high", DrainLog, 4)
        ran = fake.drain("high", "low")
    assert performed() == [[2], [4], [1], [3]]
    assert performed("around") == performed()
    assert [run.status for run in ran] == ["performed"] * 4
    assert fake.jobs() == []


def test_the_default_order_is_resque_s_star_alphabetical_queues() -> None:
    with fake_mode() as fake:
        for queue in ("b", "a", "c"):
            APP_RESQUE.enqueue_to(queue, DrainLog, queue)
        fake.drain()
    assert performed() == [["a"], ["b"], ["c"]]


def test_drain_runs_jobs_that_jobs_enqueue() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(DrainLog, "spawn", 3)
        fake.drain()
    assert performed() == [["spawn", 3], ["spawn", 2], ["spawn", 1], ["spawn", 0]]


def test_a_job_that_enqueues_itself_forever_hits_the_loop_guard() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(Forever)
        with pytest.raises(DrainLimitError, match=r"drained 50 jobs and jobs are still waiting \(loop: 1\)"):
            fake.drain(max_jobs=50)
        assert APP_RESQUE.size("loop") == 1


def test_a_failing_job_is_recorded_like_a_worker_does_then_raised() -> None:
    with fake_mode(start=1_795_823_009) as fake:
        APP_RESQUE.enqueue(DrainLog, "fail")
        APP_RESQUE.enqueue(DrainLog, "after")
        with pytest.raises(JobFailedError, match=r'DrainLog\("fail"\) from default: failed \(LookupError:') as error:
            fake.drain()
        assert any("test_drain.py" in line for line in error.value.backtrace)
        assert APP_RESQUE.info()["failed"] == 1
        assert APP_RESQUE.stat("processed") == 1
        assert APP_RESQUE.stat("failed") == 1
        fake.assert_enqueued(DrainLog, "after")
    [record] = fake.failures
    assert (record.exception, record.error, record.queue) == ("LookupError", "no such thing", "default")
    assert record.worker is not None
    assert record.worker.startswith("resque-test:")


def test_with_raise_errors_off_the_drain_goes_on() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(DrainLog, "fail")
        APP_RESQUE.enqueue(DrainLog, "after")
        ran = fake.drain(raise_errors=False)
    assert [(run.args, run.status) for run in ran] == [(["fail"], "failed"), (["after"], "performed")]


def test_perform_one_runs_exactly_the_next_job() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue_to("low", DrainLog, 1)
        APP_RESQUE.enqueue_to("high", DrainLog, 2)
        first = fake.perform_one("high", "low")
        assert first is not None
        assert (first.queue, first.args) == ("high", [2])
        assert APP_RESQUE.size("low") == 1
        assert fake.perform_one("high") is None


def test_workers_leave_no_trace_in_the_worker_registry() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(DrainLog, 1)
        fake.drain()
        assert APP_RESQUE.workers() == []
        assert APP_RESQUE.info()["processed"] == 1


def test_running_jobs_needs_the_sandbox_in_force() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(DrainLog, 1)
    with pytest.raises(SandboxInactiveError, match="inside `with sandbox:`"):
        fake.drain()


def test_drain_and_assert_performed_work_together() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(DrainLog, 7)
        fake.drain()
        fake.assert_performed(DrainLog, 7, queue="default", count=1)
        fake.assert_not_enqueued(DrainLog)
