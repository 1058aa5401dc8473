"""How per-class job metrics sit in Redis: one hash per minute and one per day, fields named below.

``<namespace>:metrics:job:<YYYYMMDDHHMM>`` (UTC minute, expires after :data:`MINUTE_TTL`) and
``<namespace>:metrics:job:day:<YYYYMMDD>`` (UTC day, expires after :data:`DAY_TTL`) hold:

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
"""

from __future__ import annotations

import time

__all__ = [
    "BUCKETS",
    "DAY_TTL",
    "MINUTE_TTL",
    "VERSION",
    "bucket_labels",
    "minute_of",
]

#: The layout version written in each hash's ``v`` field.
VERSION = "1"
#: Minute hashes live this long (seconds): the dashboard shows up to this many minutes back.
MINUTE_TTL = 6 * 3600
#: Day hashes live this long (seconds).
DAY_TTL = 90 * 86400

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
