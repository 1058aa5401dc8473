"""Stats: Resque's numbers, Redis ``INFO``, and a ``SCAN``-based browser of this namespace's keys."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from resque_impl.web.pages import page, view
from resque_impl.web.params import clamped, text

__all__ = ["blueprint"]

blueprint = Blueprint("stats", __name__)


# resque-web's stats tabs; this page shows both sections at once.
@page(blueprint, "/stats", "stats.html", aliases=("/stats/resque", "/stats/redis"))
def stats() -> dict[str, Any]:
    return view().stats_page()


@page(blueprint, "/stats/keys", "keys.html")
def keys() -> dict[str, Any]:
    limits = view().limits
    count = clamped(request.args, "count", limits.keys_per_page, 1, limits.max_keys_per_page)
    cursor = clamped(request.args, "cursor", 0, 0, 2**63 - 1)
    return view().keys(text(request.args, "match") or "*", cursor, count)


@page(blueprint, "/stats/key", "key.html")
def key() -> dict[str, Any]:
    limits = view().limits
    count = clamped(request.args, "count", limits.keys_per_page, 1, limits.max_keys_per_page)
    start = clamped(request.args, "start", 0, 0, 2**63 - 1)
    return view().key(text(request.args, "name") or "", start, count)
