"""What other job systems' test modes get wrong, and a test showing ours does not.

Each test names the weakness it guards against. Jobs in both modes take the production path: the JSON
round trip, every hook, the failure backend, the worker steps and the clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from resque_impl import Job, NotSerializableError, Resque
from resque_impl.codec import encode_payload
from resque_impl.plugins import Retry
from resque_impl.testing import JobFailedError, fake_mode, inline_mode

APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class Recorder(Job):
    """Records the arguments it receives, the hooks that ran, and fails on request."""

    queue = "peers"
    received: ClassVar[list[list[Any]]] = []
    hooks: ClassVar[list[str]] = []

    @classmethod
    def around_perform_middleware(cls, *args: Any) -> Iterator[None]:
        cls.hooks.append("around:before")
        yield
        cls.hooks.append("around:after")

    @classmethod
    def on_failure_report(cls, error: BaseException, *args: Any) -> None:
        cls.hooks.append(f"on_failure:{type(error).__name__}")

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.received.append(list(args))
        if args and args[0] == "explode":
            raise OSError("disk on fire")


@pytest.fixture(autouse=True)
def _forget() -> None:
    Recorder.received.clear()
    Recorder.hooks.clear()


@pytest.mark.parametrize(
    "argument",
    [datetime(2026, 1, 1, tzinfo=timezone.utc), date(2026, 1, 1), Decimal("1.10"), {1: "int key"}, {"a", "b"}, b"raw"],
    ids=["datetime", "date", "decimal", "int-dict-key", "set", "bytes"],
)
def test_celery_eager_and_huey_immediate_skip_serialization_inline_mode_does_not(argument: object) -> None:
    """Celery's task_always_eager and Huey's immediate mode call the task with the Python objects, so a
    datetime argument passes in tests and fails in production. Inline mode refuses it at enqueue with
    the very error production raises."""
    with pytest.raises(NotSerializableError) as production:
        encode_payload("Recorder", [argument])
    with inline_mode(), pytest.raises(NotSerializableError) as inline:
        APP_RESQUE.enqueue(Recorder, argument)
    assert str(inline.value) == str(production.value)
    assert Recorder.received == []


def test_inline_jobs_receive_what_json_gives_back_not_the_python_objects() -> None:
    with inline_mode():
        APP_RESQUE.enqueue(Recorder, (1, 2), {"nested": (3, {"k": (4,)})}, 1.0)
    assert Recorder.received == [[[1, 2], {"nested": [3, {"k": [4]}]}, 1.0]]
    assert type(Recorder.received[0][0]) is list


def test_resque_spec_stores_arguments_without_the_json_round_trip_fake_mode_stores_the_bytes() -> None:
    """resque_spec keeps the Ruby objects it was given, so what a test asserts is not what a worker
    would receive. Fake mode keeps the bytes a worker would read, and later mutation cannot reach them."""
    options = {"tags": ["a"]}
    with fake_mode() as fake:
        APP_RESQUE.enqueue(Recorder, options, (1, 2))
        options["tags"].append("added later")
        assert fake.resque.peek_raw("peers") == [b'{"class":"Recorder","args":[{"tags":["a"]},[1,2]]}']
        [job] = fake.jobs()
        assert job.args == [{"tags": ["a"]}, [1, 2]]
        fake.drain()
    assert Recorder.received == [[{"tags": ["a"]}, [1, 2]]]


def test_sidekiq_fake_mode_skips_server_middleware_drain_runs_every_hook() -> None:
    """Sidekiq::Testing.fake! drains jobs without server middleware. Our drain runs the worker's path:
    around/before/after hooks and on_failure, then the failure backend."""
    with fake_mode() as fake:
        APP_RESQUE.enqueue(Recorder, "fine")
        APP_RESQUE.enqueue(Recorder, "explode")
        fake.drain(raise_errors=False)
        assert [record.exception for record in fake.failures] == ["OSError"]
    assert Recorder.hooks == ["around:before", "around:after", "around:before", "on_failure:OSError"]


def test_rq_synchronous_mode_swallows_exceptions_inline_mode_raises_them() -> None:
    """RQ's is_async=False records a failure and returns, so a broken job passes the test. Inline mode
    raises the job's own exception out of enqueue (after on_failure hooks, as a worker runs them)."""
    with inline_mode(), pytest.raises(OSError, match="disk on fire"):
        APP_RESQUE.enqueue(Recorder, "explode")
    assert Recorder.hooks[-1] == "on_failure:OSError"


def test_and_fake_mode_drain_raises_after_recording_the_failure() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(Recorder, "explode")
        with pytest.raises(JobFailedError, match=r"OSError: disk on fire"):
            fake.drain()
        assert APP_RESQUE.failures.count() == 1


def test_no_mode_ever_waits_in_wall_clock_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dramatiq's stub broker makes retries and delays wait in real time. Our modes read a virtual
    clock; nothing in them sleeps."""

    def no_sleeping(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s of wall-clock time")

    monkeypatch.setattr(time, "sleep", no_sleeping)
    with fake_mode() as fake:
        APP_RESQUE.enqueue(Recorder, 1)
        fake.advance(24 * 3600)
        fake.drain()
    assert Recorder.received == [[1]]


class Nightly(Job):
    queue = "nightly"
    runs: ClassVar[list[float]] = []

    @classmethod
    def perform(cls) -> None:
        cls.runs.append(APP_RESQUE.clock.time())


class FlakyUpstream(Retry, Job):
    """Fails twice, then succeeds; retried after an hour, then two (exponential backoff)."""

    queue = "flaky"
    retry_limit = 5
    retry_delay = 3600
    runs: ClassVar[int] = 0

    @classmethod
    def perform(cls) -> None:
        cls.runs += 1
        if cls.runs <= 2:
            raise ConnectionError("upstream down")


def test_sidekiq_drain_ignores_scheduled_times_ours_runs_only_what_is_due() -> None:
    """Sidekiq's Worker.drain runs scheduled jobs at once, whatever their time. Ours runs a delayed
    job only once the virtual clock has reached its time."""
    Nightly.runs.clear()
    with fake_mode(start=1_800_000_000) as fake:
        APP_RESQUE.enqueue_in(3600, Nightly)
        assert fake.drain() == []
        fake.advance(3599)
        assert fake.drain() == []
        fake.advance(1)
        assert len(fake.drain()) == 1
    assert Nightly.runs == [1_800_003_600]


def test_sidekiq_fake_mode_skips_retries_ours_retries_with_backoff() -> None:
    """Sidekiq's fake mode drops a failed job; its retry middleware never runs. Our drain goes through
    the Retry plugin's hooks: the failure is scheduled again with its backoff."""
    FlakyUpstream.runs = 0
    with fake_mode() as fake:
        APP_RESQUE.enqueue(FlakyUpstream)
        fake.drain()
        assert fake.scheduled(FlakyUpstream)[0].payload.extras == {"retry_attempt": 1}
        fake.advance(3600)
        fake.drain()
        fake.advance(7200)
        fake.drain()
        assert fake.failures == []
    assert FlakyUpstream.runs == 3


def test_rq_never_runs_scheduled_jobs_synchronously_inline_mode_does() -> None:
    """RQ's synchronous mode ignores enqueue_in/enqueue_at jobs. Inline mode runs them when the virtual
    clock reaches them (default), or at once with delayed="now", as Ruby's Resque.inline does."""
    Nightly.runs.clear()
    with inline_mode(start=1_800_000_000) as inline:
        APP_RESQUE.enqueue_in(60, Nightly)
        inline.advance(60)
    with inline_mode(delayed="now", start=1_800_000_000):
        APP_RESQUE.enqueue_in(60, Nightly)
    assert Nightly.runs == [1_800_000_060, 1_800_000_000]


def test_dramatiq_stub_broker_retries_wait_in_wall_clock_time_ours_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dramatiq's StubBroker makes a retry wait out its real backoff. Here three hours of backoff pass
    in virtual time, and nothing sleeps."""

    def no_sleeping(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s of wall-clock time")

    monkeypatch.setattr(time, "sleep", no_sleeping)
    FlakyUpstream.runs = 0
    with inline_mode() as inline:
        APP_RESQUE.enqueue(FlakyUpstream)
        inline.advance(3 * 3600)
    assert FlakyUpstream.runs == 3
