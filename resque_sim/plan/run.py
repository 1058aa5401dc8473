"""A capacity plan end to end: observe, fit, write ``plan.yaml``, load it back, sweep, and summarise.

What a caller needs::

    outcome = make_plan(store, out_dir, window=7 * 86400, settings=PlanSettings(growth=1.5, slo=(...,)))
    outcome.summary            # summary.json's mapping: the simulation's, with "recommended" and "plan"
    outcome.fleet.recommended  # {pool name: workers} (:mod:`.pools`: each deployed pool planned)

With several pools, the simulation's outputs (summary.json's top level, simulation.html) are the
largest pool's sweep with the others generous; ``recommended_pools`` and ``plan.pools`` give every
pool's recommendation and ``plan.combined`` the combined fleet's check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from resque_impl.store import StoreProtocol
from resque_sim.plan.build import Fitted, PlanSettings, fit_observed, scenario_document, write_scenario
from resque_sim.plan.observed import Observed, observe
from resque_sim.plan.pools import FleetPlan, plan_pools
from resque_sim.report import summary_document, write_outputs
from resque_sim.runner import SimulationResult, run_scenario
from resque_sim.scenario import Scenario, load_scenario

__all__ = ["PlanOutcome", "make_plan", "plan_section"]


@dataclass(frozen=True)
class PlanOutcome:
    """The plan's observations, fits, scenario, sweep result and summary (as written to summary.json)."""

    observed: Observed
    fitted: Fitted
    scenario: Scenario
    result: SimulationResult
    fleet: FleetPlan
    today: dict[str, Any] | None
    summary: dict[str, Any]

    @property
    def found(self) -> bool:
        """Whether every pool planned has a recommendation that holds (the exit status's 0)."""
        return self.fleet.found


def make_plan(
    store: StoreProtocol,
    out_dir: Path,
    *,
    window: float,
    settings: PlanSettings,
    since_deploy: bool = False,
    processes: int | None = None,
    charts: bool = True,
) -> PlanOutcome:
    """Plan from the history in ``store``; writes plan.yaml and the simulation's outputs into ``out_dir``.

    Raises :class:`~resque_sim.plan.observed.NothingRecordedError` for a history with no job, and
    :class:`~resque_sim.scenario.ScenarioError` if the fitted scenario does not load (an --slo naming a
    queue nothing was recorded from, say).
    """
    observed = observe(store, window, since_deploy=since_deploy)
    fitted = fit_observed(observed)
    document, columns = scenario_document(observed, fitted, settings)
    path = write_scenario(out_dir, document, columns)
    scenario = load_scenario(path)
    fleet = plan_pools(scenario, fitted, settings.growth, processes)
    result = fleet.result
    today = _today_at(scenario, observed, settings.growth, processes)
    write_outputs(result, out_dir, charts=charts)
    summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    summary["recommended_pools"] = fleet.recommended
    summary["plan"] = plan_section(observed, fitted, settings, today, result, fleet)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return PlanOutcome(observed, fitted, scenario, result, fleet, today, summary)


def _today_at(scenario: Scenario, observed: Observed, growth: float, processes: int | None) -> dict[str, Any] | None:
    """Today's fleet (every pool at its registered count) at the peak seen (the planned rates divided
    by ``growth``)."""
    if not observed.pools:
        return None
    at_peak = scenario.with_value("sweep", None)
    for index, arrival in enumerate(scenario.arrivals):
        rate = getattr(arrival.process, "rate", None)
        if rate is not None:
            at_peak = at_peak.with_value(f"arrivals.{index}.process.rate", f"{rate / growth:.9g}/s")
    result = run_scenario(at_peak, processes=processes)
    document = summary_document(result)
    pools = {pool.pool: pool.count for pool in scenario.workers}
    return {
        "workers": sum(pools.values()),
        "pools": pools,
        "ok": result.ok,
        "wait": document["wait"],
        "slo": document["slo"],
    }


def plan_section(
    observed: Observed,
    fitted: Fitted,
    settings: PlanSettings,
    today: dict[str, Any] | None,
    result: SimulationResult,
    fleet: FleetPlan,
) -> dict[str, Any]:
    """summary.json's ``plan`` section: the observations and fits behind ``recommended``."""
    return {
        "window": {"start": observed.start, "end": observed.now},
        "since_deploy": _deploy(observed.since_deploy) if observed.since_deploy else None,
        "deploys": [_deploy(deploy) for deploy in observed.deploys],
        "growth": settings.growth,
        "peak_minutes": fitted.peak_minutes,
        "queues": {
            queue.queue: {
                "mean_rate": queue.mean_rate,
                "peak_rate": queue.peak_rate,
                "planned_rate": queue.peak_rate * settings.growth,
                "arrivals": queue.arrivals,
                "seconds": queue.seconds,
                "mix": queue.mix,
            }
            for queue in fitted.queues
        },
        "classes": {
            fit.name: {
                "queue": fit.queue,
                "executions": fit.executions,
                "failures": fit.failures,
                "failure_rate": fit.failure_rate,
                "mean": fit.run_time.mean,
                "p95": fit.p95,
                "family": fit.run_time.family,
                "distance": fit.run_time.d,
                "critical_distance": fit.run_time.d_critical,
                "candidates": fit.run_time.candidates,
                "duration": fit.run_time.spec,
            }
            for fit in fitted.classes
        },
        "pools": [pool.as_dict() for pool in fleet.pools] if observed.pools else [],
        "combined": fleet.combined,
        "offered_load": fitted.offered_load(settings.growth),
        "today": today,
        "recommended": result.recommended,
        "unknown": list(fitted.unknown),
        "uncertain": list(fitted.uncertain),
        "notes": list(fitted.notes),
        "skipped_keys": observed.skipped,
    }


def _deploy(deploy: Any) -> dict[str, Any]:
    return {"label": deploy.label, "at": deploy.at}
