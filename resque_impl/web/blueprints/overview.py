"""The overview: queues with sizes, the jobs being worked on now, and the headline numbers; live."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, url_for
from werkzeug.wrappers import Response

from resque_impl.web.pages import page, view

__all__ = ["blueprint"]

blueprint = Blueprint("overview", __name__)


@blueprint.get("/")
def root() -> Response:
    return redirect(url_for("overview.overview"))


@page(blueprint, "/overview", "overview.html", live=True)
def overview() -> dict[str, Any]:
    return view().overview()
