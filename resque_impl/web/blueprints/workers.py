"""Workers by host, one worker's details, and the jobs being worked on now."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from resque_impl.web.pages import page, view

__all__ = ["blueprint"]

blueprint = Blueprint("workers", __name__)


@page(blueprint, "/workers", "workers.html", live=True)
def workers() -> dict[str, Any]:
    return view().workers()


@page(blueprint, "/workers/<path:worker_id>", "worker.html", live=True)
def worker(worker_id: str) -> dict[str, Any]:
    return view().worker(worker_id)


@page(blueprint, "/working", "working.html", live=True)
def working() -> dict[str, Any]:
    return view().working()
