"""Planning each deployed pool of a fitted scenario, not only the largest.

With one pool the plan is the scenario's own sweep. With several (one on ``critical``, one on
``default,low``, say), :func:`plan_pools` sweeps each pool's count in turn while every other pool is
generous (today's count, or more: its served load times 1.5 plus 2, so it is never the bottleneck),
holding the swept pool to the SLOs of the jobs it serves: a wait or latency SLO that names no queue is
applied to each queue the pool serves (otherwise a pool serving a small share of the jobs could miss
it unseen in the fleet-wide percentile), one naming a queue only when the pool serves that queue, and
the other SLOs as written. It then confirms the combined fleet, every pool at its recommendation, with
the scenario's SLOs plus those per-queue ones; pools sharing a queue lean on each other there, so when
an SLO fails the pools serving its queue (every pool, for a fleet-wide one) get one worker more, up to
:data:`CONFIRM_ROUNDS` times.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from resque_sim.plan.build import Fitted, sweep_values
from resque_sim.report import summary_document
from resque_sim.runner import SimulationResult, run_scenario
from resque_sim.scenario import Scenario, WorkerPool

__all__ = ["CONFIRM_ROUNDS", "FleetPlan", "PoolPlan", "plan_pools"]

#: How many times the combined fleet may grow by one worker per failing pool before it is reported as failing.
CONFIRM_ROUNDS = 3
_TIME_METRICS = ("wait", "latency")


@dataclass(frozen=True)
class PoolPlan:
    """One pool: today's ``count``, the planned queues it serves, the offered load of those queues
    (workers), its own sweep, and ``recommended`` (in the confirmed fleet; ``None`` when its sweep
    found no count meeting its SLOs, or it serves no planned queue)."""

    name: str
    queues: tuple[str, ...]
    count: int
    served: tuple[str, ...]
    load: float
    result: SimulationResult | None
    recommended: int | None

    def as_dict(self) -> dict[str, Any]:
        """The pool's entry in summary.json's ``plan.pools``."""
        document = summary_document(self.result) if self.result is not None else None
        return {
            "name": self.name,
            "queues": list(self.queues),
            "count": self.count,
            "served": list(self.served),
            "offered_load": self.load,
            "swept": self.result.recommended if self.result is not None else None,
            "recommended": self.recommended,
            "slo": [
                {key: value for key, value in slo.items() if key in ("metric", "queue", "percentile", "limit")}
                for slo in (document["slo"] if document is not None else [])
            ],
            "sweep": document["sweep"] if document is not None else [],
        }


@dataclass(frozen=True)
class FleetPlan:
    """Each pool's plan, the largest pool's sweep (the simulation's outputs), and the combined fleet's
    confirmation (``None`` for a single pool, or when some pool has no recommendation)."""

    pools: tuple[PoolPlan, ...]
    result: SimulationResult
    combined: dict[str, Any] | None

    @property
    def recommended(self) -> dict[str, int | None]:
        return {pool.name: pool.recommended for pool in self.pools}

    @property
    def found(self) -> bool:
        """Whether every planned pool has a recommendation and, together, they meet the SLOs (for a
        single pool: whether its sweep found a count)."""
        if len(self.pools) == 1:
            return self.pools[0].recommended is not None
        planned = [pool for pool in self.pools if pool.served]
        if not planned or any(pool.recommended is None for pool in planned):
            return False
        return self.combined is None or bool(self.combined["ok"])


def plan_pools(scenario: Scenario, fitted: Fitted, growth: float, processes: int | None = None) -> FleetPlan:
    """Plan every pool of ``scenario`` (the fitted plan.yaml, its largest pool ``default`` and swept)."""
    if len(scenario.workers) < 2:
        result = run_scenario(scenario, processes=processes)
        pool = scenario.workers[0]
        served = _served(pool, scenario, fitted)
        plan = PoolPlan(
            pool.pool, pool.queues, pool.count, served, _load(served, fitted, growth), result, result.recommended
        )
        return FleetPlan((plan,), result, None)
    loads = {pool.pool: _load(_served(pool, scenario, fitted), fitted, growth) for pool in scenario.workers}
    generous = {pool.pool: max(pool.count, math.ceil(loads[pool.pool] * 1.5) + 2) for pool in scenario.workers}
    plans: list[PoolPlan] = []
    for pool in scenario.workers:
        served = _served(pool, scenario, fitted)
        if not served:
            plans.append(PoolPlan(pool.pool, pool.queues, pool.count, (), 0.0, None, None))
            continue
        others = {name: count for name, count in generous.items() if name != pool.pool}
        own = _load(tuple(q for q in served if _sole_server(q, pool, scenario)), fitted, growth)
        variant = _with_counts(scenario, others).with_value("slo", _held_to(scenario, served))
        variant = variant.with_value(
            "sweep",
            {"param": f"workers.{pool.pool}.count", "values": sweep_values(loads[pool.pool], pool.count, own)},
        )
        result = run_scenario(variant, processes=processes)
        plans.append(PoolPlan(pool.pool, pool.queues, pool.count, served, loads[pool.pool], result, result.recommended))
    largest = plans[0].result
    if largest is None:
        largest = run_scenario(scenario, processes=processes)
    if any(plan.served and plan.recommended is None for plan in plans):
        return FleetPlan(tuple(plans), largest, None)
    confirmed, combined = _confirm(scenario, fitted, plans, processes)
    return FleetPlan(tuple(confirmed), largest, combined)


def _confirm(
    scenario: Scenario, fitted: Fitted, plans: list[PoolPlan], processes: int | None
) -> tuple[list[PoolPlan], dict[str, Any]]:
    """Run every pool at its recommendation; grow the pools behind a failing SLO, a few times at most."""
    planned = _planned(scenario, fitted)
    entries = _dedupe([*(_entry(slo) for slo in scenario.slo), *_held_to(scenario, planned)])
    counts = {plan.name: plan.recommended if plan.recommended is not None else plan.count for plan in plans}
    pools = {pool.pool: pool for pool in scenario.workers}
    rounds = 0
    while True:
        check = _with_counts(scenario, counts).with_value("slo", entries).with_value("sweep", None)
        result = run_scenario(check, processes=processes)
        failing = [slo for slo in result.base.slo if not slo.ok]
        if not failing or rounds == CONFIRM_ROUNDS:
            break
        rounds += 1
        for name, pool in pools.items():
            behind = any(slo.slo.queue is None or pool.serves(slo.slo.queue) for slo in failing)
            if behind and any(plan.name == name and plan.served for plan in plans):
                counts[name] += 1
    document = summary_document(result)
    confirmed = [
        PoolPlan(
            plan.name,
            plan.queues,
            plan.count,
            plan.served,
            plan.load,
            plan.result,
            counts[plan.name] if plan.served else None,
        )
        for plan in plans
    ]
    combined = {
        "workers": dict(counts),
        "ok": result.ok,
        "rounds": rounds,
        "wait": document["wait"],
        "slo": document["slo"],
    }
    return confirmed, combined


def _planned(scenario: Scenario, fitted: Fitted) -> tuple[str, ...]:
    """The queues the scenario sends jobs to (a class recorded on several queues is planned on one)."""
    used = {job.queue for job in scenario.jobs.values()}
    return tuple(queue.queue for queue in fitted.queues if queue.peak_rate > 0 and queue.queue in used)


def _served(pool: WorkerPool, scenario: Scenario, fitted: Fitted) -> tuple[str, ...]:
    return tuple(queue for queue in _planned(scenario, fitted) if pool.serves(queue))


def _sole_server(queue: str, pool: WorkerPool, scenario: Scenario) -> bool:
    return not any(other.serves(queue) for other in scenario.workers if other.pool != pool.pool)


def _load(queues: tuple[str, ...], fitted: Fitted, growth: float) -> float:
    loads = fitted.queue_loads(growth)
    return sum(loads.get(queue, 0.0) for queue in queues)


def _with_counts(scenario: Scenario, counts: dict[str, int]) -> Scenario:
    for name, count in counts.items():
        scenario = scenario.with_value(f"workers.{name}.count", count)
    return scenario


def _entry(slo: Any) -> dict[str, Any]:
    entry: dict[str, Any] = slo.model_dump(exclude_none=True)
    return entry


def _held_to(scenario: Scenario, served: tuple[str, ...]) -> list[dict[str, Any]]:
    """The SLO entries a pool serving ``served`` is held to (see the module docstring)."""
    entries: list[dict[str, Any]] = []
    for slo in scenario.slo:
        entry = _entry(slo)
        if slo.metric in _TIME_METRICS and slo.queue is None:
            entries += [{**entry, "queue": queue} for queue in served]
        elif slo.metric not in _TIME_METRICS or slo.queue in served:
            entries.append(entry)
    return _dedupe(entries)


def _dedupe(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    for entry in entries:
        if entry not in seen:
            seen.append(entry)
    return seen
