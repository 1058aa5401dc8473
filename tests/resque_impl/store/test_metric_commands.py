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
