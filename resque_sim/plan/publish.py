"""``plan --publish``: store the recommendation where ``/metrics`` reads ``recommended_workers``.

Each planned queue gets the recommendation of the pool that serves it (the first, i.e. largest, such
pool when several do), so an autoscaler of a pool can follow any of its queues' gauges; every pool's
recommendation is stored beside it too.
"""

from __future__ import annotations

from typing import Any

from resque_impl.job_metrics import publish_recommendation
from resque_impl.store import StoreProtocol

__all__ = ["publish_plan"]


def publish_plan(store: StoreProtocol, summary: dict[str, Any]) -> dict[str, int]:
    """Publish ``summary``'s recommendation; returns the workers per queue stored."""
    plan = summary["plan"]
    unregistered = {"name": "default", "served": list(plan["queues"]), "recommended": summary["recommended"]}
    pools = plan["pools"] or [unregistered]
    workers: dict[str, int] = {}
    for pool in pools:
        if pool["recommended"] is None:
            continue
        for queue in pool["served"]:
            workers.setdefault(queue, int(pool["recommended"]))
    detail = {
        "pool": pools[0]["name"],
        "pools": {pool["name"]: pool["recommended"] for pool in pools},
        "slo": summary["slo"],
    }
    publish_recommendation(store, plan["window"]["end"], workers, detail)
    return workers
