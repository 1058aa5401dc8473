"""The job-metrics page's data: per-class numbers over the last minutes, sorted, as plain JSON-able data.

Only this library's workers record these metrics (see :mod:`resque_impl.job_metrics`); the page says
so, since jobs run by Ruby workers leave nothing to show.
"""

from __future__ import annotations

from typing import Any

from resque_impl.job_metrics import (
    MAX_MINUTES,
    Unit,
    histogram_json,
    minutes_json,
    read_deploys,
    read_history,
    read_job_metrics,
)
from resque_impl.job_metrics.layout import minute_of
from resque_impl.store import StoreProtocol

__all__ = [
    "DEFAULT_HISTORY",
    "DEFAULT_MINUTES",
    "HISTORY_RANGES",
    "MAX_CLASSES",
    "MAX_MINUTES",
    "SORT_KEYS",
    "WINDOWS",
    "deploys_in",
    "history",
    "job_metrics_page",
]

#: Minutes the page covers unless ``?minutes=`` says otherwise.
DEFAULT_MINUTES = 60
#: Columns the table can be sorted by (``?sort=``); ``class`` sorts by name, the rest largest first.
#: Rows the page lists at most (the first ones in the chosen order); ``classes_total`` says how many.
MAX_CLASSES = 500
#: The window chooser's presets (minutes); any whole number from 1 to MAX_MINUTES is accepted.
WINDOWS = (15, 60, 180, 360)
SORT_KEYS = ("class", "executions", "failures", "failure_rate", "mean", "p50", "p95", "p99")

#: The overview's history chart's ranges (``?history=``): name -> (unit, points).
HISTORY_RANGES: dict[str, tuple[Unit, int]] = {"6h": ("minute", 360), "30d": ("day", 30), "90d": ("day", 90)}
DEFAULT_HISTORY = "30d"

HISTORY_NOTE = (
    "Recorded by resque-impl workers only: Ruby Resque workers add to the processed and failed totals "
    "above (Resque's own stat keys) but record no history."
)

NOTE = (
    "Recorded by resque-impl workers only (unless started with --no-job-metrics): jobs run by Ruby "
    "Resque workers count in the overview's processed and failed stats but not here."
)


def job_metrics_page(
    store: StoreProtocol, now: float, minutes: int, sort: str, class_name: str | None = None
) -> dict[str, Any]:
    """The ``minutes`` minutes up to ``now``, classes sorted by ``sort`` (one of :data:`SORT_KEYS`);
    with ``class_name``, that class's executions and failures per minute and its run-time histogram
    (``selected``; its ``metrics`` are ``None`` when it did not run in these minutes)."""
    found = read_job_metrics(store, now, minutes, class_name)
    report = found.as_json()
    classes: list[dict[str, Any]] = report["classes"]
    if sort == "class":
        classes.sort(key=lambda row: row["class"])
    else:
        # Missing percentiles (no runs) sort last; ties by name.
        classes.sort(key=lambda row: (row[sort] is None, -(row[sort] or 0), row["class"]))
    selected = None
    if class_name is not None:
        metrics = next((each for each in found.classes if each.name == class_name), None)
        selected = {
            "class": class_name,
            "metrics": metrics.as_json() if metrics else None,
            "per_minute": minutes_json(found.class_per_minute),
            "histogram": histogram_json(metrics.buckets) if metrics else [],
        }
    return {
        **report,
        "classes": classes[:MAX_CLASSES],
        "classes_total": len(classes),
        "sort": sort,
        "sort_keys": list(SORT_KEYS),
        "windows": list(WINDOWS),
        "selected": selected,
        "processed": sum(minute["processed"] for minute in report["per_minute"]),
        "failed": sum(minute["failed"] for minute in report["per_minute"]),
        "deploys": deploys_in(store, now, "minute", minutes),
        "note": NOTE,
    }


def history(store: StoreProtocol, now: float, unit: Unit, count: int) -> dict[str, Any]:
    """Processed and failed per UTC day or minute, the last ``count`` of them up to ``now``."""
    found = read_history(store, now, unit, count).as_json()
    return {**found, "count": count, "deploys": deploys_in(store, now, unit, count), "note": HISTORY_NOTE}


def deploys_in(store: StoreProtocol, now: float, unit: Unit, count: int) -> list[dict[str, Any]]:
    """The deploy markers in the ``count`` UTC days or minutes up to ``now``, oldest first, each with the
    chart point it falls in (``point``: ``YYYYMMDD`` or ``YYYYMMDDHHMM``, as the charts' ``at``)."""
    size = 86400 if unit == "day" else 60
    start = now - now % size - size * (count - 1)
    found, _skipped = read_deploys(store)
    inside = [deploy for deploy in reversed(found) if start <= deploy.at <= now]
    width = 8 if unit == "day" else 12
    return [{"label": deploy.label, "at": deploy.at, "point": minute_of(deploy.at)[:width]} for deploy in inside]
