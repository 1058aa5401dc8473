"""Deploy markers: when new code went out, so charts and capacity plans can tell before from after.

:func:`mark_deploy` records one (``resque-impl mark-deploy LABEL`` from a deploy script);
:func:`read_deploys` reads them back, newest first. They sit in one capped, expiring list (see
:mod:`.layout`); an entry that is not a marker this module wrote is skipped and counted.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from resque_impl.job_metrics.layout import DAY_TTL, MAX_DEPLOYS
from resque_impl.store import StoreProtocol

__all__ = ["Deploy", "mark_deploy", "read_deploys"]

#: The longest label kept (longer ones are cut): a marker is a note, not a changelog.
MAX_LABEL = 200


@dataclass(frozen=True, slots=True)
class Deploy:
    """One deploy: its ``label`` and when (``at``, epoch seconds on the Redis clock)."""

    label: str
    at: float


def mark_deploy(store: StoreProtocol, label: str, at: float | None = None) -> Deploy:
    """Record a deploy named ``label`` at ``at`` (default: the Redis server's clock now) and return it."""
    if not label.strip():
        raise ValueError("a deploy label must not be empty")
    deploy = Deploy(label[:MAX_LABEL], store.server_time() if at is None else float(at))
    item = json.dumps({"label": deploy.label, "at": deploy.at}, separators=(",", ":"))
    store.push_capped(store.keys.deploys, item, MAX_DEPLOYS, DAY_TTL)
    return deploy


def read_deploys(store: StoreProtocol) -> tuple[list[Deploy], int]:
    """The deploys recorded, newest first, and how many entries were skipped as not ours."""
    items = store.list_items(store.keys.deploys)
    if items is None:
        return [], 1
    deploys: list[Deploy] = []
    skipped = 0
    for item in items:
        try:
            data = json.loads(item)
            label, at = data["label"], data["at"]
            if not isinstance(label, str) or isinstance(at, bool) or not isinstance(at, int | float):
                raise TypeError(item)
            if not math.isfinite(at):
                raise ValueError(item)
        except (ValueError, TypeError, KeyError):
            skipped += 1
            continue
        deploys.append(Deploy(label, float(at)))
    deploys.sort(key=lambda deploy: -deploy.at)
    return deploys, skipped
