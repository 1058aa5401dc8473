"""Unique: an identical job is not enqueued while one is queued or running; a TTL bounds the wait."""

from __future__ import annotations

import time
from typing import Any, ClassVar

import pytest

from resque_impl import Job, ManualClock, Resque
from resque_impl.default import current
from resque_impl.plugins import Unique
from tests.resque_impl.plugins.conftest import work_off


class RebuildIndex(Unique, Job):
    queue = "index"
    fail: ClassVar[bool] = False
    seen_while_running: ClassVar[list[bool]] = []

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.seen_while_running.append(current().enqueue(cls, *args))
        if cls.fail:
            raise RuntimeError("rebuild failed")


@pytest.fixture(autouse=True)
def _reset() -> None:
    RebuildIndex.fail, RebuildIndex.seen_while_running = False, []


def test_an_identical_enqueue_is_skipped_while_one_is_queued(r: Resque) -> None:
    assert r.enqueue(RebuildIndex, "books") is True
    assert r.enqueue(RebuildIndex, "books") is False
    assert r.enqueue(RebuildIndex, "films") is True
    assert r.size("index") == 2


def test_the_job_is_unique_while_running_and_free_once_done(r: Resque) -> None:
    r.enqueue(RebuildIndex, "books")
    assert work_off(r, "index") == ["performed"]
    assert RebuildIndex.seen_while_running == [False]
    assert r.enqueue(RebuildIndex, "books") is True


def test_a_failure_frees_the_job(r: Resque) -> None:
    RebuildIndex.fail = True
    r.enqueue(RebuildIndex, "books")
    assert work_off(r, "index") == ["failed"]
    assert r.enqueue(RebuildIndex, "books") is True


def test_a_dequeue_frees_the_job(r: Resque) -> None:
    r.enqueue(RebuildIndex, "books")
    assert r.dequeue(RebuildIndex, "books") == 1
    assert r.enqueue(RebuildIndex, "books") is True


def test_the_key_expires_so_a_crash_cannot_block_the_job_forever(r: Resque, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(RebuildIndex, "unique_ttl", 0.05)
    r.enqueue(RebuildIndex, "books")
    r.store.remove_from_queue("index", r.peek_raw("index")[0])  # a worker took it and died
    assert r.enqueue(RebuildIndex, "books") is False
    time.sleep(0.12)
    assert r.enqueue(RebuildIndex, "books") is True


def test_a_delayed_duplicate_is_dropped_when_it_comes_due(r: Resque, clock: ManualClock) -> None:
    r.enqueue_in(10, RebuildIndex, "books")
    r.enqueue(RebuildIndex, "books")
    clock.advance(10)

    assert r.release_due() == 0
    assert r.size("index") == 1
    assert r.count_all_scheduled_jobs() == 0


def test_the_key_is_an_extension_key_in_the_namespace(r: Resque, namespace: str) -> None:
    key = RebuildIndex.unique_key("books")
    assert key.startswith(f"{namespace}:plugins:unique:RebuildIndex:")
    r.enqueue(RebuildIndex, "books")
    assert r.store.lock_owner(key) == "queued"
