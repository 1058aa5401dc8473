"""Running a scenario's points: on the fake backend, every run but the recorded one goes to the twin."""

from __future__ import annotations

import dataclasses

from resque_sim.engine import Backend
from resque_sim.metrics import RunStats
from resque_sim.runner import PointResult, run_scenario

from .helpers import make_scenario


def test_the_twin_of_fakeredis_is_the_memory_store_and_other_backends_are_their_own() -> None:
    assert Backend("fake").twin() == Backend("memory")
    assert Backend("memory").twin() == Backend("memory")
    redis = Backend("redis", "redis://127.0.0.1:6379/0")
    assert redis.twin() is redis


def timeless(point: PointResult) -> list[RunStats]:
    """A point's statistics without the wall-clock time each run took."""
    return [dataclasses.replace(run, wall_seconds=0.0) for run in point.runs]


def test_a_sweep_on_fake_answers_exactly_as_the_same_sweep_on_memory() -> None:
    fields = {
        "duration": "5m",
        "replications": 2,
        "slo": [{"metric": "wait", "percentile": 95, "max": "2s"}],
        "sweep": {"param": "workers.default.count", "values": [1, 2, 3]},
    }
    on_fake = run_scenario(make_scenario(backend="fake", **fields), processes=1)
    on_memory = run_scenario(make_scenario(backend="memory", **fields), processes=1)

    assert [timeless(point) for point in on_fake.sweep] == [timeless(point) for point in on_memory.sweep]
    assert timeless(on_fake.base) == timeless(on_memory.base)
    assert on_fake.recommended == on_memory.recommended
