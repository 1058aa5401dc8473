"""Holding the simulator to real workers: a scenario run live on a real Redis, and simulated with a
calibration measured on the same machine, figure by figure.

What a caller (the agreement benchmark, its CI test) needs::

    agreement = check_agreement(load_scenario("scenarios/validation/fork.yaml"), "redis://127.0.0.1:6379/0",
                                out=Path("agreement/fork"))
    agreement.ok               # every target met
    agreement.targets          # Target rows: live, simulated, allowed difference, ok

Targets (issue #16): the simulated mean wait and p95 latency within max(10 %, 5 ms) of the live run's,
and the completed counts within 2 %.  The calibration is measured first (unless one is given) with as
many workers as the scenario's pools hold and probe jobs about as long as its jobs, so that the
contention between workers on one machine is part of the measured overheads; the simulation runs on the
in-memory store with that calibration (values the scenario sets win); the live run starts the
scenario's own pools as real ``resque-impl work`` processes.  Both write their usual outputs under
``out/live`` and ``out/sim``, which ``resque-sim compare`` reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resque_sim.calibrate import FULL, Sizes, calibrate
from resque_sim.calibration import Calibration, apply_calibration, dump_calibration
from resque_sim.live.runner import LiveOptions, run_live
from resque_sim.report import summary_document, write_outputs
from resque_sim.runner import run_scenario
from resque_sim.scenario import ConstantDist, ExponentialDist, GammaDist, Scenario

__all__ = ["COUNT_TOLERANCE", "RELATIVE_TOLERANCE", "TIME_FLOOR", "Agreement", "Target", "check_agreement"]

RELATIVE_TOLERANCE = 0.10
"""Simulated times may differ from live ones by 10 % ..."""
TIME_FLOOR = 0.005
"""... or by 5 ms, whichever is more."""
COUNT_TOLERANCE = 0.02
"""Completed counts may differ by 2 %."""


@dataclass(frozen=True)
class Target:
    """One figure of the live run beside the simulation's, and the difference allowed."""

    figure: str
    live: float
    simulated: float
    allowed: float

    @property
    def difference(self) -> float:
        return self.simulated - self.live

    @property
    def relative(self) -> float | None:
        return self.difference / self.live if self.live else None

    @property
    def ok(self) -> bool:
        return abs(self.difference) <= self.allowed


@dataclass(frozen=True)
class Agreement:
    """A scenario's live run beside its calibrated simulation."""

    scenario: str
    targets: tuple[Target, ...]
    calibration: Calibration
    live: dict[str, Any]
    simulated: dict[str, Any]

    @property
    def ok(self) -> bool:
        return all(target.ok for target in self.targets)


def _time_target(figure: str, live: float, simulated: float) -> Target:
    return Target(figure, live, simulated, max(RELATIVE_TOLERANCE * abs(live), TIME_FLOOR))


def _mean_job_seconds(scenario: Scenario) -> float:
    """The mean duration of the scenario's jobs where its distribution states one (0 otherwise)."""
    means = []
    for job in scenario.jobs.values():
        duration = job.duration
        if isinstance(duration, ExponentialDist | GammaDist):
            means.append(duration.mean)
        elif isinstance(duration, ConstantDist):
            means.append(duration.value)
    return sum(means) / len(means) if means else 0.0


def check_agreement(
    scenario: Scenario,
    url: str,
    *,
    out: Path,
    calibration: Calibration | None = None,
    sizes: Sizes = FULL,
    charts: bool = False,
) -> Agreement:
    """Calibrate (unless ``calibration`` is given), run ``scenario`` live on the Redis at ``url`` (its
    namespace must be empty: see ``resque-sim --live``), simulate it with the calibration, and set the
    two side by side.  Outputs go to ``out/live`` and ``out/sim``, the calibration to
    ``out/calibration.yaml``."""
    out.mkdir(parents=True, exist_ok=True)
    if calibration is None:
        workers = sum(pool.count for pool in scenario.workers)
        calibration = calibrate(url, sizes=sizes, workers=workers, job_seconds=_mean_job_seconds(scenario))
    (out / "calibration.yaml").write_text(dump_calibration(calibration))

    live = run_live(scenario, LiveOptions(url)).result
    write_outputs(live, out / "live", charts=charts)
    # calibrated first: the calibration fills only the fields the scenario file left unset
    simulated = run_scenario(apply_calibration(scenario, calibration).with_value("backend", "memory"), processes=1)
    write_outputs(simulated, out / "sim", charts=charts)

    live_doc, sim_doc = summary_document(live), summary_document(simulated)
    completed_live, completed_sim = live_doc["jobs"]["completed"], sim_doc["jobs"]["completed"]
    targets = (
        _time_target("mean wait", live_doc["wait"]["mean"], sim_doc["wait"]["mean"]),
        _time_target("p95 latency", live_doc["latency"]["p95"], sim_doc["latency"]["p95"]),
        Target("completed", completed_live, completed_sim, COUNT_TOLERANCE * completed_live),
    )
    return Agreement(scenario.name, targets, calibration, live_doc, sim_doc)
