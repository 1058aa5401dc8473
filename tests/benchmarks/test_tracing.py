"""``python -m benchmarks.tracing``: the traced worker is measured beside the untraced one and beside the
SDK's own span, in one run. Small sizes: these check the machinery, not the figures."""

from __future__ import annotations

import pytest

from benchmarks import tracing

pytestmark = pytest.mark.timeout(240)


def test_every_traced_figure_has_its_baselines_and_each_ratio_its_spread() -> None:
    rows = {row.name.strip(): row for row in tracing.run(jobs=300, runs=2)}
    for clock in ("wall", "CPU"):
        for ratio in ("traced / untraced", "sampled / untraced", "bare SDK / untraced"):
            median = rows[f"{ratio} ({clock})"].value
            assert (
                rows[f"{ratio} ({clock}), lowest run"].value <= median <= rows[f"{ratio} ({clock}), highest run"].value
            )
        assert f"ours beyond the SDK span in the worker ({clock})" in rows
    assert rows["traced / untraced (wall)"].target == ">= 0.85x"
    assert rows["traced / untraced (CPU)"].target == ""
    assert all(rows[f"CPU per job, {name}"].value > 0 for name in ("untraced", "traced", "sampled", "bare_sdk"))
