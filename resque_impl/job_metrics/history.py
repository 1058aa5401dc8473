"""Throughput history: jobs processed and failed per UTC day or per UTC minute, every class.

Reads only the ``v``, ``processed`` and ``failed`` fields of the day or minute hashes
(:mod:`.layout`), in one round trip, so a history of 90 days costs the same whatever the number of job
classes. A hash in another layout version, with a count that is not a non-negative integer, or that is
not a hash at all, is skipped (its point shows 0) and counted in :attr:`History.skipped`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from resque_impl.job_metrics.layout import DAY_TTL, MINUTE_TTL, VERSION, minute_of
from resque_impl.store import StoreProtocol

__all__ = ["MAX_DAYS", "MAX_HISTORY_MINUTES", "History", "HistoryPoint", "Unit", "read_history"]

#: ``"day"``: one point per UTC day (``YYYYMMDD``); ``"minute"``: one per UTC minute (``YYYYMMDDHHMM``).
Unit = Literal["day", "minute"]
#: The most days a history may cover: the day hashes' lifetime.
MAX_DAYS = DAY_TTL // 86400
#: The most minutes a history may cover: the minute hashes' lifetime.
MAX_HISTORY_MINUTES = MINUTE_TTL // 60

_FIELDS = ("v", "processed", "failed")


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """Jobs acknowledged in one UTC day or minute (``at``: ``YYYYMMDD`` or ``YYYYMMDDHHMM``)."""

    at: str
    processed: int
    failed: int


@dataclass(frozen=True, slots=True)
class History:
    """Oldest point first; ``skipped`` counts the hashes this version could not read."""

    unit: Unit
    points: tuple[HistoryPoint, ...]
    skipped: int

    def as_json(self) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "points": [{"at": p.at, "processed": p.processed, "failed": p.failed} for p in self.points],
            "processed": sum(p.processed for p in self.points),
            "failed": sum(p.failed for p in self.points),
            "skipped_keys": self.skipped,
        }


def _count(text: str | None) -> int:
    if text is None:
        return 0
    # Plain ASCII digits only: int() would also take " 5", "1_0" and other scripts' digits.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise ValueError(text)
    return int(text)


def read_history(store: StoreProtocol, now: float, unit: Unit, count: int) -> History:
    """The ``count`` UTC days or minutes up to and including the one holding ``now`` (1 to
    :data:`MAX_DAYS` days, 1 to :data:`MAX_HISTORY_MINUTES` minutes)."""
    most = MAX_DAYS if unit == "day" else MAX_HISTORY_MINUTES
    if not 1 <= count <= most:
        raise ValueError(f"count must be between 1 and {most} for {unit}s, got {count}")
    if unit == "day":
        start = now - now % 86400
        names = [time.strftime("%Y%m%d", time.gmtime(start - 86400 * back)) for back in range(count - 1, -1, -1)]
        keys = [store.keys.job_metrics_day(name) for name in names]
    else:
        start = now - now % 60
        names = [minute_of(start - 60 * back) for back in range(count - 1, -1, -1)]
        keys = [store.keys.job_metrics_minute(name) for name in names]
    points: list[HistoryPoint] = []
    skipped = 0
    for name, fields in zip(names, store.read_hash_fields(keys, _FIELDS), strict=True):
        if fields == {}:
            points.append(HistoryPoint(name, 0, 0))
            continue
        try:
            if fields is None or fields.get("v") != VERSION:
                raise ValueError("not this layout")
            points.append(HistoryPoint(name, _count(fields.get("processed")), _count(fields.get("failed"))))
        except ValueError:
            skipped += 1
            points.append(HistoryPoint(name, 0, 0))
    return History(unit, tuple(points), skipped)
