"""The probe under a scenario's class names: what lets a live run's jobs be recorded per scenario class."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resque_impl.registry import default_registry
from resque_sim.live.probe import PROBE_CLASS, Probe, register_probe_names

NAMES = ["PlanTest::EmailJob", "PlanTestThumbnail"]


@pytest.fixture
def names() -> Iterator[list[str]]:
    yield NAMES
    for name in NAMES:
        default_registry.unregister(name)


def test_each_scenario_class_name_runs_the_probe(names: list[str]) -> None:
    register_probe_names([*names, PROBE_CLASS])
    for name in names:
        runs = default_registry.resolve(name)
        assert issubclass(runs, Probe)
        assert default_registry.name_of(runs) == name
    assert default_registry.resolve(PROBE_CLASS) is Probe
