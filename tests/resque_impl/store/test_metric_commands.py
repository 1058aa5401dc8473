"""Run-time histograms and queue heads read alike from every store."""

from __future__ import annotations

from typing import Any

import pytest


def test_durations_accumulate_per_class(store: Any) -> None:
    store.record_duration("EmailJob", 0.25, "le:0.5")
    store.record_duration("EmailJob", 0.5, "le:0.5")
    store.record_duration("Report", 3.0, "le:5")

    found = store.durations()

    assert sorted(found) == ["EmailJob", "Report"]
    assert found["EmailJob"]["le:0.5"] == "2"
    assert found["EmailJob"]["count"] == "2"
    assert float(found["EmailJob"]["sum"]) == pytest.approx(0.75)


def test_queue_heads(store: Any) -> None:
    store.push("a", b"first")
    store.push("a", b"second")

    assert store.queue_heads(["a", "empty"]) == {"a": b"first", "empty": None}
    assert store.queue_heads([]) == {}


def test_add_to_hashes_adds_counts_and_sums_and_sets_fields(store: Any, namespace: str) -> None:
    store.add_to_hashes({f"{namespace}:h": {"n": 2, "s": 0.25}}, set_fields={"v": "1"})
    store.add_to_hashes({f"{namespace}:h": {"n": 3, "s": 0.5}, f"{namespace}:g": {"n": 1}}, set_fields={"v": "1"})

    h, g, missing = store.read_hashes([f"{namespace}:h", f"{namespace}:g", f"{namespace}:missing"])

    assert (h["n"], h["v"], float(h["s"])) == ("5", "1", 0.75)
    assert (g, missing) == ({"n": "1", "v": "1"}, {})
    assert store.read_hashes([]) == []


def test_read_hashes_answers_none_for_a_key_of_another_type(store: Any, namespace: str) -> None:
    store.push("q", b"job")
    store.add_to_hashes({f"{namespace}:h": {"n": 1}})

    assert store.read_hashes([store.keys.queue("q"), f"{namespace}:h"]) == [None, {"n": "1"}]


def test_read_hash_fields_reads_only_the_fields_asked_for(store: Any, namespace: str) -> None:
    store.add_to_hashes({f"{namespace}:h": {"n": 1, "other": 2}}, set_fields={"v": "1"})
    store.push("q", b"job")

    found = store.read_hash_fields(
        [f"{namespace}:h", f"{namespace}:missing", store.keys.queue("q")], ["v", "n", "absent"]
    )

    assert found == [{"v": "1", "n": "1"}, {}, None]
    assert store.read_hash_fields([], ["v"]) == []


def test_add_to_hashes_sets_a_time_to_live(store: Any, clock: Any, namespace: str) -> None:
    if hasattr(store, "clock"):
        store.clock = clock
    store.add_to_hashes({f"{namespace}:h": {"n": 1}}, ttl={f"{namespace}:h": 60})

    if hasattr(store, "client"):
        assert 0 < store.client.ttl(f"{namespace}:h") <= 60
    else:
        clock.advance(60)
        assert store.read_hashes([f"{namespace}:h"]) == [{}]
