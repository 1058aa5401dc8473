"""Test modes cannot pass where production fails (issue #15): each behaviour is run the three ways a
job runs, inline mode, fake mode's drain, and a worker on the ``resque`` fixture's Redis (fakeredis
and a real redis-server), and must come out the same."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import fakeredis
import pytest
import redis

from resque_impl import Resque, UnknownJobClassError
from resque_impl.testing import (
    InProcessWorker,
    NotRunInlineWarning,
    StrictInlineError,
    fake_mode,
    inline_mode,
)

#: Built at import time, as applications do; nothing may reach this address.
APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class ParityPlain:
    """A Ruby-style job class: a queue and perform, no base class, no decorator."""

    queue = "parity"
    performed: ClassVar[list[list[Any]]] = []

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.performed.append(list(args))


class ParityStamped:
    """Its before_enqueue hook adds a key to the options it is given."""

    queue = "parity"
    performed: ClassVar[list[list[Any]]] = []

    @staticmethod
    def before_enqueue_stamp(options: dict[str, Any]) -> None:
        options["stamped"] = True

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.performed.append(list(args))


Run = Callable[[Callable[[Resque], object]], None]


def inline(produce: Callable[[Resque], object]) -> None:
    with inline_mode():
        produce(APP_RESQUE)


def fake(produce: Callable[[Resque], object]) -> None:
    with fake_mode() as sandbox:
        produce(APP_RESQUE)
        sandbox.drain()


@pytest.fixture(params=["inline", "fake", "worker-fakeredis", "worker-redis-server"])
def run(request: pytest.FixtureRequest) -> Iterator[Run]:
    """Enqueue with ``produce`` and run what it enqueued, one of the ways: inline mode, fake mode's
    drain, or a worker on a Redis (fakeredis, and a real redis-server)."""
    ParityPlain.performed.clear()
    ParityStamped.performed.clear()
    if request.param in ("inline", "fake"):
        yield inline if request.param == "inline" else fake
        return
    if request.param == "worker-fakeredis":
        client: redis.Redis = fakeredis.FakeRedis()
    else:
        client = request.getfixturevalue("redis_server").client(socket_timeout=5)
        client.flushall()
    resque = Resque(client)

    def worker(produce: Callable[[Resque], object]) -> None:
        produce(resque)
        InProcessWorker(resque).drain()
        assert resque.failures.count() == 0

    yield worker
    client.close()


def test_a_plain_class_object_is_performed_with_its_arguments_after_the_json_round_trip(run: Run) -> None:
    run(lambda resque: resque.enqueue(ParityPlain, (1, 2), {"a": None}))
    assert ParityPlain.performed == [[[1, 2], {"a": None}]]


def test_a_dashed_payload_name_runs_the_camel_cased_class_as_ruby_resolves_it(run: Run) -> None:
    run(lambda resque: resque.enqueue_to("parity", "parity-plain", 1))
    assert ParityPlain.performed == [[1]]


def test_a_before_enqueue_hook_changes_the_arguments_the_job_receives(run: Run) -> None:
    run(lambda resque: resque.enqueue(ParityStamped, {"id": 1}))
    assert ParityStamped.performed == [[{"id": 1, "stamped": True}]]


def test_plain_classes_are_performed_from_enqueue_many_and_enqueue_in_too(run: Run) -> None:
    def produce(resque: Resque) -> None:
        resque.enqueue_many(ParityPlain, [(1,), (2,)])
        resque.enqueue_in(-1, ParityPlain, 3)  # already due: enqueued now

    run(produce)
    assert ParityPlain.performed == [[1], [2], [3]]


# -- jobs no Python class here can run -----------------------------------------------------------------
def test_a_worker_fails_a_job_no_class_here_answers_to(resque: Resque) -> None:
    resque.enqueue_to("parity", "Admin::RubyOnlyJob", 1)
    resque.push("parity", {"args": [1]})
    InProcessWorker(resque).drain(raise_errors=False)
    assert [record.data["exception"] for record in resque.failures.all()] == ["NameError", "PayloadDecodeError"]


def test_inline_mode_pushes_such_a_job_and_warns_once_per_class() -> None:
    with inline_mode() as sandbox, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        APP_RESQUE.enqueue_to("ruby", "Parity::FirstRubyJob", 1)
        APP_RESQUE.enqueue_to("ruby", "Parity::FirstRubyJob", 2)
        APP_RESQUE.enqueue_to("ruby", "Parity::SecondRubyJob", 1)
        sandbox.assert_enqueued("Parity::FirstRubyJob", count=2)
    assert [str(w.message).split("'")[1] for w in caught if w.category is NotRunInlineWarning] == [
        "Parity::FirstRubyJob",
        "Parity::SecondRubyJob",
    ]
    assert {w.filename for w in caught} == {__file__}  # points at the line that enqueued


def test_strict_inline_mode_refuses_such_a_job_and_pushes_nothing() -> None:
    with inline_mode(strict=True) as sandbox:
        with pytest.raises(StrictInlineError, match="no Python class answers") as refused:
            APP_RESQUE.enqueue_to("ruby", "Admin::RubyOnlyJob", 1)
        with pytest.raises(StrictInlineError):
            APP_RESQUE.push("ruby", {"args": [1]})
        assert sandbox.jobs() == []
    assert isinstance(refused.value, UnknownJobClassError)  # what a worker would fail the job with


# -- delayed jobs -----------------------------------------------------------------------------------------
class ParityScheduled:
    """Logs its schedule and enqueue hooks and its runs."""

    queue = "parity"
    calls: ClassVar[list[str]] = []

    @classmethod
    def before_schedule_log(cls, *args: Any) -> None:
        cls.calls.append("before_schedule")

    @classmethod
    def after_schedule_log(cls, *args: Any) -> None:
        cls.calls.append("after_schedule")

    @classmethod
    def before_enqueue_log(cls, *args: Any) -> None:
        cls.calls.append("before_enqueue")

    @classmethod
    def after_enqueue_log(cls, *args: Any) -> None:
        cls.calls.append("after_enqueue")

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.calls.append("perform")


def test_a_due_delayed_job_runs_the_enqueue_hooks_in_every_mode(run: Run) -> None:
    # resque-scheduler 5.0 enqueues a due job with Resque.enqueue_to, whose hooks run.
    ParityScheduled.calls.clear()
    run(lambda resque: resque.enqueue_in(-5, ParityScheduled))
    assert sorted(ParityScheduled.calls) == sorted(
        ["before_schedule", "before_enqueue", "after_enqueue", "after_schedule", "perform"]
    )


def test_inline_mode_running_delayed_jobs_now_runs_the_hooks_ruby_inline_runs() -> None:
    # Under Resque.inline, resque-scheduler's enqueue_at calls Resque.enqueue_to, which performs the job
    # inside Job.create: before_schedule, before_enqueue, perform, after_enqueue, after_schedule.
    ParityScheduled.calls.clear()
    with inline_mode(delayed="now"):
        APP_RESQUE.enqueue_in(3600, ParityScheduled)
    assert ParityScheduled.calls == ["before_schedule", "before_enqueue", "perform", "after_enqueue", "after_schedule"]
