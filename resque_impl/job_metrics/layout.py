"""How per-class job metrics sit in Redis: one hash per minute, per ten minutes and per day, fields
named below.

``<namespace>:metrics:job:<YYYYMMDDHHMM>`` (UTC minute, expires after :data:`MINUTE_TTL`),
``<namespace>:metrics:job:10m:<YYYYMMDDHHM>`` (ten UTC minutes, named by their minutes' common prefix;
expires after :data:`BLOCK_TTL`) and ``<namespace>:metrics:job:day:<YYYYMMDD>`` (UTC day, expires
after :data:`DAY_TTL`) hold the same fields, each the sum of the minutes it spans, so a reader of many
minutes reads a few ten-minute hashes whole rather than every minute's:

=========================  =====================================================================
field                      value
=========================  =====================================================================
``v``                      the layout's version, :data:`VERSION`; a reader skips other versions
``processed``              jobs acknowledged in that minute (or day), every class
``failed``                 of those, the failed ones
``executions:<class>``     jobs of ``<class>`` acknowledged
``failures:<class>``       of those, the failed ones
``seconds:<class>``        their total run time (float)
``le=<bound>:<class>``     how many ran at most ``<bound>`` seconds and over the previous bound
                           (not cumulative); ``<bound>`` one of :data:`BUCKETS`, or ``+Inf``
=========================  =====================================================================

Field names put the kind first, so a class name may hold any character, ``:`` included. Only this
library's workers write these keys (Ruby workers record nothing).

``<namespace>:metrics:queue:<YYYYMMDDHHMM>`` (expires after :data:`QUEUE_TTL`, long enough for a week's
capacity plan) holds what a planner needs per queue, in the same version:

=========================  =====================================================================
field                      value
=========================  =====================================================================
``v``                      :data:`VERSION`
``jobs:<json>``            jobs acknowledged, per ``<json>`` = ``["<queue>", "<class>"]`` (compact JSON)
``depth:<queue>``          the queue's length when a worker last sampled it in that minute (every
                           queue the ``queues`` set names, by each running worker at most every 15 s)
``slot:<k>``               jobs acknowledged in the ``k``-th :data:`SLOT_SECONDS` of the minute
                           (``k`` = 0..5), every queue: when in a partial minute the work ran
=========================  =====================================================================

``<namespace>:metrics:deploys`` is a list of deploy markers, newest first, ``{"label", "at"}`` (JSON,
``at`` in epoch seconds), at most :data:`MAX_DEPLOYS`, expiring :data:`DAY_TTL` after the last one.
"""

from __future__ import annotations

import time

__all__ = [
    "BLOCK_TTL",
    "BUCKETS",
    "DAY_TTL",
    "MAX_DEPLOYS",
    "MINUTE_TTL",
    "QUEUE_TTL",
    "SLOT_SECONDS",
    "VERSION",
    "block_of",
    "bucket_labels",
    "minute_of",
]

#: The layout version written in each hash's ``v`` field.
VERSION = "1"
#: Minute hashes live this long (seconds): the dashboard shows up to this many minutes back.
MINUTE_TTL = 6 * 3600
#: Ten-minute hashes live this long (seconds): as long as the minutes they sum, and ten minutes more.
BLOCK_TTL = MINUTE_TTL + 600
#: Day hashes live this long (seconds).
DAY_TTL = 90 * 86400
#: Per-queue minute hashes live this long (seconds): eight days, so a seven-day plan window is whole.
QUEUE_TTL = 8 * 86400
#: The resolution (seconds) of the ``slot:<k>`` fields.
SLOT_SECONDS = 10
#: Deploy markers kept.
MAX_DEPLOYS = 100

#: Upper bounds (seconds) of the run-time histogram: a 1-2.5-5 series from 1 ms to 1,000 s.
BUCKETS: tuple[float, ...] = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0,
)  # fmt: skip

_LABELS: tuple[str, ...] = (*(f"le={bound!r}" for bound in BUCKETS), "le=+Inf")


def bucket_labels() -> tuple[str, ...]:
    """Every bucket's field prefix, smallest bound first, ``le=+Inf`` last."""
    return _LABELS


def minute_of(epoch: float) -> str:
    """The UTC minute of ``epoch`` as the minute hashes name it: ``YYYYMMDDHHMM``."""
    return time.strftime("%Y%m%d%H%M", time.gmtime(epoch))


def block_of(minute: str) -> str:
    """The ten-minute hash's name of a minute ``YYYYMMDDHHMM``: ``YYYYMMDDHHM``."""
    return minute[:11]
