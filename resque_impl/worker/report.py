"""How a forked child reports its job's :class:`Outcome` to its parent, through a pipe.

The report is framed, so the parent knows it is whole without waiting for the child to exit. The common
outcomes (performed, skipped, with no failure and no events) travel as one byte and the perform time:
pickling touches, and so copies, more of the parent's memory than the job itself often does. Any other
outcome travels pickled.
"""

from __future__ import annotations

import logging
import math
import pickle
import struct

from resque_impl.worker.outcome import PERFORMED, SKIPPED, Outcome

__all__ = ["frame", "read", "unframe"]

logger = logging.getLogger("resque_impl.worker")

_SHORT_OUTCOMES = {"performed": b"P", "skipped": b"S"}
_FROM_SHORT = {b"P": PERFORMED, b"S": SKIPPED}
# A common outcome travels as its byte and its perform time (a big-endian double, NaN for none): nine
# bytes, written at once, so the parent reads them whole in one read.
_SECONDS = struct.Struct(">d")
_SHORT = 1 + _SECONDS.size
# Any other outcome travels pickled, behind this marker and its length.
_PICKLED = b"O"
_LENGTH = struct.Struct(">Q")
_HEADER = len(_PICKLED) + _LENGTH.size


def frame(outcome: Outcome) -> bytes:
    short = _SHORT_OUTCOMES.get(outcome.status) if not outcome.failed and not outcome.events else None
    if short is not None:
        seconds = outcome.perform_time
        return short + _SECONDS.pack(math.nan if seconds is None else seconds)
    try:
        data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an event a job announced whose metadata cannot be pickled: the outcome still goes
        logger.exception("events announced by %s could not be sent to the worker; dropped", outcome.status)
        return frame(outcome.without_events())
    return _PICKLED + _LENGTH.pack(len(data)) + data


def unframe(data: bytes) -> bytes | None:
    """The whole report in ``data`` (a short outcome, or the pickle), ``None`` while incomplete."""
    if data[:1] in _FROM_SHORT:
        return data[:_SHORT] if len(data) >= _SHORT else None
    if data[:1] == _PICKLED and len(data) >= _HEADER:
        end = _HEADER + _LENGTH.unpack_from(data, 1)[0]
        if len(data) >= end:
            return data[_HEADER:end]
    return None


def _short_outcome(report: bytes) -> Outcome | None:
    """The outcome of a whole short report, ``None`` if ``report`` is not one."""
    if len(report) != _SHORT:
        return None
    outcome = _FROM_SHORT.get(report[:1])
    if outcome is None:
        return None
    seconds = _SECONDS.unpack_from(report, 1)[0]
    return outcome if math.isnan(seconds) else outcome.timed(seconds)


def read(report: bytes) -> Outcome | None:
    """The outcome a whole report (see :func:`unframe`) carries, ``None`` if it carries none."""
    short = _short_outcome(report)
    if short is not None:
        return short
    if report:
        try:
            outcome = pickle.loads(report)
        except Exception:
            return None
        if isinstance(outcome, Outcome):
            return outcome
    return None
