"""Durations as rufus-scheduler writes them (``30``, ``"30s"``, ``"1h30m"``, ``"500ms"``), for the
scheduler's ``every`` and for command-line options; no dependency beyond the standard library, so the
base install's commands can read them."""

from __future__ import annotations

import math
import re
from typing import Any

from resque_impl.errors import ScheduleError

__all__ = ["parse_duration"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "M": 30 * 86400, "y": 365 * 86400}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|[smhdwMy])")
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|[smhdwMy]))+")


def parse_duration(value: Any, where: str = "every") -> float:
    """rufus-scheduler durations: ``30``, ``"30s"``, ``"1h30m"``, ``"1.5d"``, ``"500ms"`` -> seconds."""
    text = str(value).replace(" ", "") if isinstance(value, (int, float, str)) and not isinstance(value, bool) else ""
    if _NUMBER.fullmatch(text):
        seconds = float(text)
    elif _DURATION.fullmatch(text):
        seconds = sum(float(number) * _UNITS[unit] for number, unit in _DURATION_PART.findall(text))
    else:
        raise ScheduleError(
            f"{where}: {value!r} is not a duration; write e.g. 30s, 5m, 1h30m, 1d (units ms s m h d w M y)"
        )
    if not math.isfinite(seconds) or seconds <= 0:
        raise ScheduleError(f"{where}: a duration must be more than zero, got {value!r}")
    return seconds
