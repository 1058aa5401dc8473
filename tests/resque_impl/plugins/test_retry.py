"""Retry: failed runs come back with backoff, counted in the payload, until the limit."""

from __future__ import annotations

import random
from typing import Any, ClassVar

import pytest

from resque_impl import Job, ManualClock, Resque, decode_payload
from resque_impl.hooks import Execution
from resque_impl.plugins import Retry
from tests.resque_impl.plugins.conftest import work_off, work_one


class Flaky(Retry, Job):
    """Fails with TimeoutError until it has failed ``failures`` times."""

    queue = "flaky"
    retry_limit = 3
    failures: ClassVar[int] = 0
    runs: ClassVar[list[tuple[Any, ...]]] = []
    failure_hooks: ClassVar[int] = 0

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.runs.append(args)
        if len(cls.runs) <= cls.failures:
            raise TimeoutError(f"attempt {len(cls.runs)} timed out")

    @classmethod
    def on_failure_count(cls, error: BaseException, *args: Any) -> None:
        cls.failure_hooks += 1


class OnlyTimeouts(Retry, Job):
    queue = "only"
    retry_exceptions = (TimeoutError,)

    @staticmethod
    def perform() -> None:
        raise ValueError("not worth retrying")


class ListedBackoff(Retry, Job):
    queue = "listed"
    retry_limit = 4
    retry_backoff = (0, 60)

    @staticmethod
    def perform() -> None:
        raise ConnectionError("down")


@pytest.fixture(autouse=True)
def _reset() -> None:
    Flaky.failures, Flaky.runs, Flaky.failure_hooks = 0, [], 0


def scheduled(r: Resque) -> list[tuple[int, bytes]]:
    return [(job.timestamp, job.raw) for job in r.find_delayed()]


def test_a_flaky_job_is_retried_with_exponential_backoff_until_it_succeeds(r: Resque, clock: ManualClock) -> None:
    Flaky.failures = 2
    r.enqueue(Flaky, "feed")
    start = int(clock.time())

    assert work_off(r, "flaky") == ["skipped"]
    assert scheduled(r) == [(start + 15, b'{"class":"Flaky","args":["feed"],"queue":"flaky","retry_attempt":1}')]
    clock.advance(15)
    r.release_due()
    assert work_off(r, "flaky") == ["skipped"]
    assert [ts for ts, _ in scheduled(r)] == [start + 15 + 30]
    clock.advance(30)
    r.release_due()
    assert work_off(r, "flaky") == ["performed"]

    assert Flaky.runs == [("feed",)] * 3
    assert r.failures.count() == 0
    assert Flaky.failure_hooks == 0


def test_an_exhausted_job_becomes_a_failure_record_showing_its_attempt(r: Resque, clock: ManualClock) -> None:
    Flaky.failures = 99
    r.enqueue(Flaky, "feed")
    for _ in range(4):
        work_off(r, "flaky")
        clock.advance(3600)
        r.release_due()

    (record,) = r.failures.all(0, 10)
    assert (record.exception, record.error) == ("TimeoutError", "attempt 4 timed out")
    assert record.payload == {"class": "Flaky", "args": ["feed"], "retry_attempt": 3}
    assert len(Flaky.runs) == 4
    assert Flaky.failure_hooks == 1
    assert scheduled(r) == []


def test_exceptions_not_listed_fail_at_once(r: Resque) -> None:
    r.enqueue(OnlyTimeouts)
    assert work_off(r, "only") == ["failed"]
    assert scheduled(r) == []
    assert r.failures.all(0, 1)[0].exception == "ValueError"


def test_a_listed_backoff_repeats_its_last_delay(r: Resque, clock: ManualClock) -> None:
    r.enqueue(ListedBackoff)
    start = int(clock.time())

    work_one(r, "listed")
    assert r.peek_raw("listed") == [b'{"class":"ListedBackoff","args":[],"retry_attempt":1}']  # 0 s: pushed now
    work_one(r, "listed")
    assert [ts for ts, _ in scheduled(r)] == [start + 60]
    clock.advance(60)
    r.release_due()
    work_one(r, "listed")
    assert [ts for ts, _ in scheduled(r)] == [start + 120]


@pytest.mark.parametrize(("attempt", "delay"), [(1, 15.0), (2, 30.0), (3, 60.0), (20, 6 * 3600.0)])
def test_exponential_delays_are_capped(attempt: int, delay: float) -> None:
    assert Flaky.retry_delay_for(attempt) == delay


def test_jitter_varies_the_delay_within_its_bounds(
    r: Resque, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Flaky, "retry_jitter", 0.5)
    monkeypatch.setattr(Flaky, "retry_random", random.Random(7))
    Flaky.failures = 99
    start = clock.time()
    for n in range(20):
        r.enqueue(Flaky, n)
    work_off(r, "flaky")

    delays = [ts - start for ts, _ in scheduled(r)]
    assert len(delays) == 20
    assert all(7.5 - 1 <= delay <= 22.5 for delay in delays)
    assert len(set(delays)) > 5


def test_other_payload_extras_travel_with_the_retry_and_enqueued_at_is_restamped(r: Resque) -> None:
    Flaky.failures = 1
    r.push("flaky", {"class": "Flaky", "args": [1], "trace_id": "abc", "enqueued_at": 5.0})
    work_off(r, "flaky")
    (job,) = r.find_delayed()
    assert job.payload.extras == {"trace_id": "abc", "retry_attempt": 1}


def test_without_the_running_job_nothing_is_retried() -> None:
    Flaky.failures = 1
    with pytest.raises(TimeoutError):
        Execution(Flaky, ["x"]).perform()


def test_a_bad_backoff_setting_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Flaky, "retry_backoff", "fibonacci")
    with pytest.raises(ValueError, match="retry_backoff"):
        Flaky.retry_delay_for(1)


def test_the_attempt_is_an_extension_key_ruby_ignores(r: Resque) -> None:
    Flaky.failures = 1
    r.enqueue(Flaky, 1)
    work_one(r, "flaky")
    (job,) = r.find_delayed()
    assert decode_payload(job.raw).class_name == "Flaky"
    assert list(decode_payload(job.raw).extras) == ["queue", "retry_attempt"]
