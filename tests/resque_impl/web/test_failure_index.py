"""The failure index reads each record once, newest first, at most ``budget`` records per refresh,
follows appends by reading only the new tail, and starts again when records vanish."""

from __future__ import annotations

from typing import Any

import pytest

from resque_impl import Keys
from resque_impl.store import Store
from resque_impl.web.failure_index import FailureIndex


class CountingStore:
    """A real store that also counts the records read, to show what the index costs."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.read = 0

    def failure_count(self, key: str) -> int:
        return self.store.failure_count(key)

    def failure_range(self, key: str, start: int, count: int) -> list[bytes]:
        found = self.store.failure_range(key, start, count)
        self.read += len(found)
        return found


def _record(cls: str, queue: str, n: int) -> bytes:
    return f'{{"payload":{{"class":"{cls}","args":[{n}]}},"queue":"{queue}"}}'.encode()


@pytest.fixture
def key(namespace: str) -> str:
    """The failure list, in the namespace of the test's ``redis_client``."""
    return Keys(namespace).failed


def _push(client: Any, key: str, count: int, start: int = 0) -> None:
    client.rpush(key, *[_record(("A", "B")[n % 2], "q", n) for n in range(start, start + count)])


def _index(redis_client: Any, budget: int, namespace: str) -> tuple[FailureIndex, CountingStore]:
    counting = CountingStore(Store(redis_client, Keys(namespace)))
    return FailureIndex(counting, budget=budget, seconds=None), counting  # type: ignore[arg-type]


def test_counts_classes_and_queues(redis_client: Any, key: str, namespace: str) -> None:
    _push(redis_client, key, 5)
    index, _ = _index(redis_client, 1000, namespace)

    found = index.refresh(key)

    assert found.complete
    assert (dict(found.classes), dict(found.queues)) == ({"A": 3, "B": 2}, {"q": 5})
    assert [position for position, _, _ in found.newest_first()] == [4, 3, 2, 1, 0]


def test_each_refresh_reads_at_most_the_budget_newest_first(redis_client: Any, key: str, namespace: str) -> None:
    _push(redis_client, key, 2500)
    index, counting = _index(redis_client, 1000, namespace)

    first = index.refresh(key)
    assert (first.lo, first.hi, first.complete) == (1500, 2500, False)
    assert counting.read <= 1000 + 2  # plus the two end records checked on later refreshes

    index.refresh(key)
    last = index.refresh(key)
    assert last.complete
    assert last.classes["A"] == 1250


def test_appends_cost_only_the_new_records(redis_client: Any, key: str, namespace: str) -> None:
    _push(redis_client, key, 3000)
    index, counting = _index(redis_client, 5000, namespace)
    index.refresh(key)
    _push(redis_client, key, 10, start=3000)
    counting.read = 0

    found = index.refresh(key)

    assert found.complete
    assert sum(found.classes.values()) == 3010
    assert counting.read == 10 + 2  # the new tail, plus the two records that prove nothing moved


def test_a_removed_record_makes_it_start_again(redis_client: Any, key: str, namespace: str) -> None:
    _push(redis_client, key, 10)
    index, _ = _index(redis_client, 1000, namespace)
    index.refresh(key)
    redis_client.lpop(key)

    found = index.refresh(key)

    assert (found.size, sum(found.classes.values())) == (9, 9)


def test_a_cleared_list_is_empty(redis_client: Any, key: str, namespace: str) -> None:
    _push(redis_client, key, 10)
    index, _ = _index(redis_client, 1000, namespace)
    index.refresh(key)
    redis_client.delete(key)

    found = index.refresh(key)

    assert (found.size, found.complete, sum(found.classes.values())) == (0, True, 0)


def test_records_that_are_not_json_count_as_unknown(redis_client: Any, key: str, namespace: str) -> None:
    redis_client.rpush(key, b"garbage", b"[1]")
    index, _ = _index(redis_client, 1000, namespace)

    assert dict(index.refresh(key).classes) == {None: 2}


def test_a_refresh_stops_after_its_time_is_up_however_large_the_budget(
    redis_client: Any, key: str, namespace: str
) -> None:
    _push(redis_client, key, 5000)
    ticks = iter(range(1_000_000))
    counting = CountingStore(Store(redis_client, Keys(namespace)))
    index = FailureIndex(counting, budget=100_000, seconds=1.5, timer=lambda: float(next(ticks)))  # type: ignore[arg-type]

    first = index.refresh(key)
    after_first = (first.lo, first.hi)
    second = index.refresh(key)

    assert after_first == (3000, 5000)  # two chunks: the clock passed the deadline after the second
    assert (second.lo, second.hi) == (1000, 5000)
