"""Reading the timestamps Resque writes, and showing times and durations the way people read them.

Ruby Resque and this library write four formats (failure ``failed_at``, working-on ``run_at``, a
worker's ``started`` and resque-scheduler's ``last_enqueued_at``, heartbeats); :func:`parse_time`
reads any of them, and returns ``None`` for anything else rather than failing a page. Epoch seconds
(delayed jobs, next runs) are shown in UTC by :func:`format_epoch`.
"""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["MAX_EPOCH", "age", "duration", "format_epoch", "parse_time"]

#: The last second :func:`format_epoch` can show (9999-12-31 23:59:59 UTC).
MAX_EPOCH = 253402300799

_FORMATS = (
    "%Y/%m/%d %H:%M:%S UTC",  # failed_at, retried_at
    "%Y-%m-%dT%H:%M:%SZ",  # run_at
    "%Y-%m-%d %H:%M:%S %z",  # worker started, last_enqueued_at
    "%Y-%m-%dT%H:%M:%S%z",  # heartbeat
)


def parse_time(text: object) -> float | None:
    """Epoch seconds of a Resque timestamp string, or ``None`` if it is not one."""
    if not isinstance(text, str):
        return None
    for layout in _FORMATS:
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    return None


def age(text: object, now: float) -> float | None:
    """Seconds from the timestamp ``text`` to ``now`` (``None`` if ``text`` is not a timestamp)."""
    when = parse_time(text)
    return None if when is None else now - when


def format_epoch(seconds: float | None) -> str:
    """``"2026-11-27 23:43:29 UTC"``; ``"-"`` when unknown, the bare number outside years 1-9999."""
    if seconds is None:
        return "-"
    if not 0 <= seconds <= MAX_EPOCH:
        return str(seconds)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    """``"4s"``, ``"3m 12s"``, ``"5h 02m"``, ``"12d 3h"``; ``"-"`` when unknown; ``"in 5s"`` for a
    time still to come."""
    if seconds is None:
        return "-"
    if seconds < 0:
        return f"in {duration(-seconds)}"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"
