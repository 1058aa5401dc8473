"""Queues: the list with sizes, one queue's jobs a page at a time, and removing a queue."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from resque_impl.web.blueprints.actions import done, field
from resque_impl.web.pages import page, view
from resque_impl.web.params import clamped

__all__ = ["blueprint"]

blueprint = Blueprint("queues", __name__)


@page(blueprint, "/queues", "queues.html", live=True)
def queues() -> dict[str, Any]:
    return view().queues()


@page(blueprint, "/queues/<path:queue>", "queue.html")
def queue(queue: str) -> dict[str, Any]:
    limits = view().limits
    per_page = clamped(request.args, "per_page", limits.per_page, 1, limits.max_per_page)
    start = clamped(request.args, "start", 0, 0, 2**62)
    return view().queue(queue, start, per_page)


@blueprint.post("/actions/remove-queue")
def remove_queue() -> Response:
    name = field("queue")
    view().resque.remove_queue(name)
    return done(f"Removed queue {name} and every job in it.", "queues.queues")
