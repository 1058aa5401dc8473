"""The job-metrics page's data: per-class numbers over the last minutes, sorted, as plain JSON-able data.

Only this library's workers record these metrics (see :mod:`resque_impl.job_metrics`); the page says
so, since jobs run by Ruby workers leave nothing to show.
"""

from __future__ import annotations

from typing import Any

from resque_impl.job_metrics import MAX_MINUTES, read_job_metrics
from resque_impl.store import StoreProtocol

__all__ = ["DEFAULT_MINUTES", "MAX_CLASSES", "MAX_MINUTES", "SORT_KEYS", "job_metrics_page"]

#: Minutes the page covers unless ``?minutes=`` says otherwise.
DEFAULT_MINUTES = 60
#: Columns the table can be sorted by (``?sort=``); ``class`` sorts by name, the rest largest first.
#: Rows the page lists at most (the first ones in the chosen order); ``classes_total`` says how many.
MAX_CLASSES = 500
SORT_KEYS = ("class", "executions", "failures", "failure_rate", "mean", "p50", "p95", "p99")

NOTE = (
    "Recorded by resque-impl workers only (unless started with --no-job-metrics): jobs run by Ruby "
    "Resque workers count in the overview's processed and failed stats but not here."
)


def job_metrics_page(store: StoreProtocol, now: float, minutes: int, sort: str) -> dict[str, Any]:
    """The ``minutes`` minutes up to ``now``, classes sorted by ``sort`` (one of :data:`SORT_KEYS`)."""
    report = read_job_metrics(store, now, minutes).as_json()
    classes: list[dict[str, Any]] = report["classes"]
    if sort == "class":
        classes.sort(key=lambda row: row["class"])
    else:
        # Missing percentiles (no runs) sort last; ties by name.
        classes.sort(key=lambda row: (row[sort] is None, -(row[sort] or 0), row["class"]))
    return {
        **report,
        "classes": classes[:MAX_CLASSES],
        "classes_total": len(classes),
        "sort": sort,
        "sort_keys": list(SORT_KEYS),
        "processed": sum(minute["processed"] for minute in report["per_minute"]),
        "failed": sum(minute["failed"] for minute in report["per_minute"]),
        "note": NOTE,
    }
