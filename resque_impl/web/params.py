"""Request parameters, read so that no request can ask for unbounded work.

Every number a URL carries (page sizes, offsets, cursors, refresh intervals) goes through
:func:`clamped`: missing or malformed values fall back to a default, and the rest are moved into a
fixed range. Text parameters go through :func:`text`, which caps their length. :func:`page_start`
moves an offset onto the last page of what there is.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["MAX_TEXT", "clamped", "page_start", "safe_next", "text"]

#: Longest text parameter (a filter, a pattern, a key name) read from a request.
MAX_TEXT = 1024


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
