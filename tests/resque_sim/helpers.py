"""Small scenarios for the simulator's tests, built in code on the in-memory backend."""

from __future__ import annotations

from typing import Any

from resque_sim.engine import Backend, Simulation
from resque_sim.records import RunRecord
from resque_sim.scenario import Scenario, parse_scenario

__all__ = ["make_scenario", "run"]


def make_scenario(**fields: Any) -> Scenario:
    """A valid scenario: 10 minutes of Poisson arrivals at 1/s of ``Job`` (1 s exponential) on queue
    ``default``, one instant worker; ``fields`` replace any top-level field."""
    data: dict[str, Any] = {
        "name": "test",
        "duration": "10m",
        "backend": "memory",
        "arrivals": [{"name": "load", "process": {"type": "poisson", "rate": "1/s"}}],
        "jobs": {"Job": {"queue": "default", "duration": {"dist": "exponential", "mean": "1s"}}},
        "workers": [{"pool": "default", "count": 1, "queues": ["*"], "interval": "instant"}],
    }
    data.update(fields)
    return parse_scenario(data)


def run(scenario: Scenario, replication: int = 0, backend: Backend | None = None) -> RunRecord:
    """One replication's records."""
    return Simulation(scenario, replication, backend or Backend("memory"), None).run()
