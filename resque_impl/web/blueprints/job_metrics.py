"""Job metrics: per class, executions, failures, failure rate and run-time percentiles over the last
``?minutes=`` minutes (default 60, at most 360), sortable with ``?sort=``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest

from resque_impl.web.job_metrics_view import DEFAULT_MINUTES, MAX_MINUTES, SORT_KEYS, job_metrics_page
from resque_impl.web.pages import page, view

__all__ = ["blueprint"]

blueprint = Blueprint("job_metrics", __name__)


def _minutes() -> int:
    raw = request.args.get("minutes")
    if raw is None:
        return DEFAULT_MINUTES
    # Plain ASCII digits, short: int() would take "1_0", " 5" and other scripts' digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= MAX_MINUTES):
        raise BadRequest(f"minutes must be a whole number from 1 to {MAX_MINUTES}")
    return int(raw)


def _sort() -> str:
    raw = request.args.get("sort", "executions")
    if raw not in SORT_KEYS:
        raise BadRequest(f"sort must be one of {', '.join(SORT_KEYS)}")
    return raw


@page(blueprint, "/job-metrics", "job_metrics.html")
def job_metrics() -> dict[str, Any]:
    minutes, sort = _minutes(), _sort()
    dashboard = view()
    return job_metrics_page(dashboard.store, dashboard.now(), minutes, sort)
