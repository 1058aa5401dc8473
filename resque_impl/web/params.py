"""Request parameters, read so that no request can ask for unbounded work.

Every number a URL carries (page sizes, offsets, cursors, refresh intervals) goes through
:func:`clamped`: missing or malformed values fall back to a default, and the rest are moved into a
fixed range. Text parameters go through :func:`text`, which caps their length. :func:`page_start`
moves an offset onto the last page of what there is. :class:`Limits` holds the bounds themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["MAX_TEXT", "Limits", "clamped", "page_start", "safe_next", "text"]

#: Longest text parameter (a filter, a pattern, a key name) read from a request.
MAX_TEXT = 1024


@dataclass(frozen=True)
class Limits:
    """Upper bounds on what one request may read; request parameters are clamped to them."""

    per_page: int = 20
    max_per_page: int = 100
    keys_per_page: int = 50
    max_keys_per_page: int = 500
    #: ``SCAN`` calls one key-browser request may make.
    scan_rounds: int = 20
    #: Bytes of a string value (or of one item) shown at once.
    max_value_bytes: int = 64 * 1024
    #: Failure records indexed per request for filters and per-class counts, and the time that may
    #: take (``None``: no time limit, e.g. for reproducible tests).
    index_budget: int = 20_000
    index_seconds: float | None = 0.1
    #: Distinct classes / queues listed in the failure summary.
    max_groups: int = 100
    #: Timestamps whose jobs are counted for the delayed page's total (one server-side script; past
    #: this many, the page shows a lower bound).
    delayed_count_budget: int = 10_000


def clamped(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """``args[name]`` as an int within ``[low, high]``; ``default`` when it is missing or not a number."""
    raw = args.get(name)
    if raw is None:
        return default
    stripped = raw.strip()
    digits = stripped.removeprefix("-")
    # Plain ASCII digits only: int() would also take "1_000" and other scripts' digits.
    if not (digits.isascii() and digits.isdigit()):
        return default
    if len(digits) > 18:  # do not even convert a 10,000-digit number
        return low if stripped.startswith("-") else high
    return max(low, min(high, int(stripped)))


def text(args: Mapping[str, str], name: str) -> str | None:
    """``args[name]`` cut to :data:`MAX_TEXT` characters; ``None`` when missing or empty."""
    value = args.get(name)
    if not value:
        return None
    return value[:MAX_TEXT]


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site (``/...``), else ``default``: never an open redirect."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 0x20 for char in target)
    ):
        return default
    return target


def page_start(start: int, per_page: int, total: int) -> int:
    """``start`` moved into ``[0, total)`` (onto the last page when past the end)."""
    if total <= 0:
        return 0
    last = (total - 1) // per_page * per_page
    return max(0, min(start, last))
