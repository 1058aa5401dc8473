"""Job metrics: per class, executions, failures, failure rate and run-time percentiles over the last
``?minutes=`` minutes (default 60, at most 360), sortable with ``?sort=``, one class's chart and
run-time histogram with ``?class=``; and ``/api/history``,
processed and failed per day (``?days=N``, default 30, at most 90) or per minute (``?minutes=N``, at
most 360), which the overview's history chart draws."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import BadRequest

from resque_impl.job_metrics import MAX_DAYS, MAX_HISTORY_MINUTES
from resque_impl.web.job_metrics_view import DEFAULT_MINUTES, MAX_MINUTES, SORT_KEYS, history, job_metrics_page
from resque_impl.web.pages import page, view
from resque_impl.web.params import MAX_TEXT

__all__ = ["blueprint"]

blueprint = Blueprint("job_metrics", __name__)


def _whole(name: str, default: int, most: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # Plain ASCII digits, short: int() would take "1_0", " 5" and other scripts' digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 4 and 1 <= int(raw) <= most):
        raise BadRequest(f"{name} must be a whole number from 1 to {most}")
    return int(raw)


def _minutes() -> int:
    return _whole("minutes", DEFAULT_MINUTES, MAX_MINUTES)


def _sort() -> str:
    raw = request.args.get("sort", "executions")
    if raw not in SORT_KEYS:
        raise BadRequest(f"sort must be one of {', '.join(SORT_KEYS)}")
    return raw


def _class() -> str | None:
    raw = request.args.get("class")
    if raw is None:
        return None
    if not raw or len(raw) > MAX_TEXT or not raw.isprintable():
        raise BadRequest(f"class must be a job class name: 1 to {MAX_TEXT} printable characters")
    return raw


@page(blueprint, "/job-metrics", "job_metrics.html", live=True)
def job_metrics() -> dict[str, Any]:
    minutes, sort, class_name = _minutes(), _sort(), _class()
    dashboard = view()
    return job_metrics_page(dashboard.store, dashboard.now(), minutes, sort, class_name)


@blueprint.get("/api/history")
def history_api() -> Response:
    if "days" in request.args and "minutes" in request.args:
        raise BadRequest("give days or minutes, not both")
    dashboard = view()
    if "minutes" in request.args:
        found = history(dashboard.store, dashboard.now(), "minute", _whole("minutes", 60, MAX_HISTORY_MINUTES))
    else:
        found = history(dashboard.store, dashboard.now(), "day", _whole("days", 30, MAX_DAYS))
    return jsonify(found)
