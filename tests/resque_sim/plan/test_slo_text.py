"""The compact --slo form and the scenario slo: entry each stands for."""

from __future__ import annotations

from typing import Any

import pytest

from resque_sim.plan import SloTextError, parse_slo


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("wait.p95<2s", {"metric": "wait", "percentile": 95, "max": "2s"}),
        ("latency.p99<30s", {"metric": "latency", "percentile": 99, "max": "30s"}),
        ("failure_rate<0.05", {"metric": "failure_rate", "max": 0.05}),
        ("wait[email].p95<2s", {"metric": "wait", "queue": "email", "percentile": 95, "max": "2s"}),
        ("wait.mean<500ms", {"metric": "wait", "max": "500ms"}),
        ("wait.p99.9<10s", {"metric": "wait", "percentile": 99.9, "max": "10s"}),
        ("max_depth[email]<100", {"metric": "max_depth", "queue": "email", "max": 100}),
    ],
)
def test_each_compact_form_is_a_scenario_slo_entry(text: str, entry: dict[str, Any]) -> None:
    assert parse_slo(text) == entry


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("wait.p95", "is not METRIC"),
        ("speed<2s", "unknown metric"),
        ("failure_rate.p95<0.1", "applies to wait and latency only"),
        ("wait.p95<soon", "not a duration"),
        ("failure_rate<2", "outside 0..1"),
        ("wait.p100<1s", "between 0 and 100"),
        ("max_depth<1.5", "whole number"),
    ],
)
def test_a_malformed_form_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(SloTextError, match=reason):
        parse_slo(text)
