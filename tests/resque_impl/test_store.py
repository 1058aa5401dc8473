"""Every store (fakeredis, a real redis-server, the in-memory twin) leaves the same keys behind."""

from __future__ import annotations

from typing import Any

from resque_impl.store.base import resp, resp_bulk
from tests.conftest import snapshot


def test_queue_operations_leave_rubys_keys(store: Any) -> None:
    store.push("q1", b"a")
    store.push("q1", b"b")
    store.push("q2", b"c")
    store.push_many({"q1": [b"d", b"e"], "empty": []})
    assert store.remove_from_queue("q1", b"b") == 1
    store.remove_queue("q2")
    assert snapshot(store) == {
        "resque:queue:q1": {"type": "list", "value": ["a", "d", "e"]},
        "resque:queues": {"type": "set", "value": ["q1"]},
    }


def test_ranges_sizes_and_names(store: Any) -> None:
    store.push_many({"q": [str(n).encode() for n in range(2500)], "r": [b"x"]})
    assert store.queue_size("q") == 2500
    assert store.queue_sizes(["q", "r", "none"]) == {"q": 2500, "r": 1, "none": 0}
    assert store.queue_range("q", 2498, 10) == [b"2498", b"2499"]
    assert store.queue_range("q", 0, 0) == []
    assert len(list(store.iter_queue("q"))) == 2500
    assert store.queue_names() == ["q", "r"]


def test_remove_matching_removes_every_match(store: Any) -> None:
    store.push_many({"q": [b"keep", b"drop", b"keep2", b"drop"]})
    assert store.remove_matching("q", lambda raw: raw == b"drop") == 2
    assert store.queue_range("q", 0, 10) == [b"keep", b"keep2"]
    assert store.remove_matching("missing", lambda raw: True) == 0


def test_stats_count_globally_and_per_worker(store: Any) -> None:
    store.incr_stat("processed", 2, worker_id="w")
    store.incr_stat("processed")
    assert (store.stat("processed"), store.worker_stat("processed", "w")) == (3, 2)
    store.clear_stat("processed")
    assert snapshot(store) == {"resque:stat:processed:w": {"type": "string", "value": "2"}}


def test_failure_updates_find_a_record_that_moved(store: Any) -> None:
    key = store.keys.failed
    for record in (b"r0", b"r1", b"r2"):
        store.failure_push(key, record)
    # r2 was seen at index 2; r0 was removed meanwhile, so r2 now sits at index 1.
    assert store.failure_update(key, 0, b"r0", None)
    assert store.failure_update(key, 2, b"r2", b"r2'", push=("q", b"job"))
    assert store.failure_range(key, 0, 10) == [b"r1", b"r2'"]
    assert not store.failure_update(key, 1, b"gone", None)
    assert snapshot(store)["resque:queue:q"] == {"type": "list", "value": ["job"]}


def test_failure_lists_are_registered_for_the_multi_queue_backend(store: Any) -> None:
    store.failure_push(store.keys.key("email_failed"), b"r", list_name="email_failed")
    assert store.failure_list_names() == ["email_failed"]
    assert list(store.iter_failures(store.keys.key("email_failed"), newest_first=True)) == [(0, b"r")]
    store.failure_clear(store.keys.key("email_failed"), list_name="email_failed")
    assert snapshot(store) == {}


def test_packed_commands_use_the_redis_wire_format() -> None:
    assert resp("SET", "k", b"v\r\n") == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n"
    assert resp("RPUSH", "k", arity=3) + resp_bulk("ü") == b"*3\r\n$5\r\nRPUSH\r\n$1\r\nk\r\n$2\r\n\xc3\xbc\r\n"
