"""The overview: queues with sizes, the jobs being worked on now, the headline numbers, and the
throughput charts (the last hour live, and a history over ``?history=6h|30d|90d``); live."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from resque_impl.web.job_metrics_view import DEFAULT_HISTORY, HISTORY_RANGES
from resque_impl.web.pages import page, view

__all__ = ["blueprint"]

blueprint = Blueprint("overview", __name__)


@blueprint.get("/")
def root() -> Response:
    return redirect(url_for("overview.overview"))


@page(blueprint, "/overview", "overview.html", live=True)
def overview() -> dict[str, Any]:
    chosen = request.args.get("history", DEFAULT_HISTORY)
    if chosen not in HISTORY_RANGES:
        raise BadRequest(f"history must be one of {', '.join(HISTORY_RANGES)}")
    unit, count = HISTORY_RANGES[chosen]
    return view().overview() | {
        "history": {"range": chosen, "ranges": list(HISTORY_RANGES), "unit": unit, "count": count}
    }
