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


def test_add_to_hashes_adds_counts_and_sums_and_sets_fields(store: Any) -> None:
    store.add_to_hashes({"resque:h": {"n": 2, "s": 0.25}}, set_fields={"v": "1"})
    store.add_to_hashes({"resque:h": {"n": 3, "s": 0.5}, "resque:g": {"n": 1}}, set_fields={"v": "1"})

    h, g, missing = store.read_hashes(["resque:h", "resque:g", "resque:missing"])

    assert (h["n"], h["v"], float(h["s"])) == ("5", "1", 0.75)
    assert (g, missing) == ({"n": "1", "v": "1"}, {})
    assert store.read_hashes([]) == []


def test_read_hashes_answers_none_for_a_key_of_another_type(store: Any) -> None:
    store.push("q", b"job")
    store.add_to_hashes({"resque:h": {"n": 1}})

    assert store.read_hashes([store.keys.queue("q"), "resque:h"]) == [None, {"n": "1"}]


def test_add_to_hashes_sets_a_time_to_live(store: Any, clock: Any) -> None:
    if hasattr(store, "clock"):
        store.clock = clock
    store.add_to_hashes({"resque:h": {"n": 1}}, ttl={"resque:h": 60})

    if hasattr(store, "client"):
        assert 0 < store.client.ttl("resque:h") <= 60
    else:
        clock.advance(60)
        assert store.read_hashes(["resque:h"]) == [{}]
