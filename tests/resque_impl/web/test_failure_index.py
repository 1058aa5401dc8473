"""The failure index reads each record once, newest first, at most ``budget`` records per refresh,
follows appends by reading only the new tail, and starts again when records vanish."""

from __future__ import annotations

from typing import Any

from resque_impl import Keys
from resque_impl.store import Store
from resque_impl.web.failure_index import FailureIndex

KEY = "resque:failed"


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


def _push(client: Any, count: int, start: int = 0) -> None:
    client.rpush(KEY, *[_record(("A", "B")[n % 2], "q", n) for n in range(start, start + count)])


def _index(redis_client: Any, budget: int) -> tuple[FailureIndex, CountingStore]:
    counting = CountingStore(Store(redis_client, Keys()))
    return FailureIndex(counting, budget=budget, seconds=None), counting  # type: ignore[arg-type]


def test_counts_classes_and_queues(redis_client: Any) -> None:
    _push(redis_client, 5)
    index, _ = _index(redis_client, 1000)

    found = index.refresh(KEY)

    assert found.complete
    assert (dict(found.classes), dict(found.queues)) == ({"A": 3, "B": 2}, {"q": 5})
    assert [position for position, _, _ in found.newest_first()] == [4, 3, 2, 1, 0]


def test_each_refresh_reads_at_most_the_budget_newest_first(redis_client: Any) -> None:
    _push(redis_client, 2500)
    index, counting = _index(redis_client, 1000)

    first = index.refresh(KEY)
    assert (first.lo, first.hi, first.complete) == (1500, 2500, False)
    assert counting.read <= 1000 + 2  # plus the two end records checked on later refreshes

    index.refresh(KEY)
    last = index.refresh(KEY)
    assert last.complete
    assert last.classes["A"] == 1250


def test_appends_cost_only_the_new_records(redis_client: Any) -> None:
    _push(redis_client, 3000)
    index, counting = _index(redis_client, 5000)
    index.refresh(KEY)
    _push(redis_client, 10, start=3000)
    counting.read = 0

    found = index.refresh(KEY)

    assert found.complete
    assert sum(found.classes.values()) == 3010
    assert counting.read == 10 + 2  # the new tail, plus the two records that prove nothing moved


def test_a_removed_record_makes_it_start_again(redis_client: Any) -> None:
    _push(redis_client, 10)
    index, _ = _index(redis_client, 1000)
    index.refresh(KEY)
    redis_client.lpop(KEY)

    found = index.refresh(KEY)

    assert (found.size, sum(found.classes.values())) == (9, 9)


def test_a_cleared_list_is_empty(redis_client: Any) -> None:
    _push(redis_client, 10)
    index, _ = _index(redis_client, 1000)
    index.refresh(KEY)
    redis_client.delete(KEY)

    found = index.refresh(KEY)

    assert (found.size, found.complete, sum(found.classes.values())) == (0, True, 0)


def test_records_that_are_not_json_count_as_unknown(redis_client: Any) -> None:
    redis_client.rpush(KEY, b"garbage", b"[1]")
    index, _ = _index(redis_client, 1000)

    assert dict(index.refresh(KEY).classes) == {None: 2}


def test_a_refresh_stops_after_its_time_is_up_however_large_the_budget(redis_client: Any) -> None:
    _push(redis_client, 5000)
    ticks = iter(range(1_000_000))
    counting = CountingStore(Store(redis_client, Keys()))
    index = FailureIndex(counting, budget=100_000, seconds=1.5, timer=lambda: float(next(ticks)))  # type: ignore[arg-type]

    first = index.refresh(KEY)
    after_first = (first.lo, first.hi)
    second = index.refresh(KEY)

    assert after_first == (3000, 5000)  # two chunks: the clock passed the deadline after the second
    assert (second.lo, second.hi) == (1000, 5000)
