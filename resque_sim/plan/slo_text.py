"""The compact SLO form of ``resque-sim plan --slo``: one scenario ``slo:`` entry per string.

::

    wait.p95<2s            {metric: wait, percentile: 95, max: 2s}
    latency.p99<30s        {metric: latency, percentile: 99, max: 30s}
    wait.mean<500ms        {metric: wait, max: 500ms}          (also plain ``wait<500ms``)
    wait[email].p95<2s     {metric: wait, queue: email, percentile: 95, max: 2s}
    failure_rate<0.05      {metric: failure_rate, max: 0.05}   (also ``failure_rate[email]<5%``)
    utilization<0.8 / max_depth<1000 / peak_rss_mb<900

The limit is kept as written; the scenario loader checks it (units, ranges) like any scenario file's.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from resque_sim.scenario import Slo

__all__ = ["SloTextError", "parse_slo"]

_TIME_METRICS = ("wait", "latency")
_METRICS = ("wait", "latency", "failure_rate", "max_depth", "utilization", "peak_rss_mb")
_FORM = re.compile(
    r"\s*(?P<metric>[a-z_]+)(?:\[(?P<queue>[^\]]+)\])?(?:\.(?P<stat>mean|p\d+(?:\.\d+)?))?\s*<\s*(?P<limit>\S+)\s*"
)
_EXAMPLES = "e.g. wait.p95<2s, latency.p99<30s, failure_rate<0.05, wait[email].p95<2s"


class SloTextError(ValueError):
    """A ``--slo`` string that is not in the compact form; the message says why and shows the form."""


def parse_slo(text: str) -> dict[str, Any]:
    """The scenario ``slo:`` entry ``text`` stands for; :class:`SloTextError` when it is malformed."""
    match = _FORM.fullmatch(text)
    if match is None:
        raise SloTextError(f"--slo {text!r} is not METRIC[QUEUE].STAT<LIMIT ({_EXAMPLES})")
    metric, queue, stat, limit = match.group("metric", "queue", "stat", "limit")
    if metric not in _METRICS:
        raise SloTextError(f"--slo {text!r}: unknown metric {metric!r} (one of {', '.join(_METRICS)})")
    entry: dict[str, Any] = {"metric": metric}
    if queue is not None:
        entry["queue"] = queue.strip()
    if stat is not None and stat != "mean":
        if metric not in _TIME_METRICS:
            raise SloTextError(f"--slo {text!r}: a percentile applies to wait and latency only")
        percentile = float(stat[1:])
        if not 0 < percentile < 100:
            raise SloTextError(f"--slo {text!r}: the percentile must be between 0 and 100")
        entry["percentile"] = int(percentile) if percentile.is_integer() else percentile
    elif stat == "mean" and metric not in _TIME_METRICS:
        raise SloTextError(f"--slo {text!r}: .mean applies to wait and latency only")
    entry["max"] = _limit(metric, limit)
    try:
        Slo.model_validate(entry)
    except ValidationError as error:
        reason = "; ".join(str(problem["msg"]) for problem in error.errors())
        raise SloTextError(f"--slo {text!r}: {reason}") from None
    return entry


def _limit(metric: str, text: str) -> Any:
    """The limit as the scenario file would hold it: durations and percentages as text, numbers as numbers."""
    if metric == "max_depth":
        try:
            return int(text)
        except ValueError:
            raise SloTextError(f"--slo limit {text!r} of max_depth is not a whole number of jobs") from None
    try:
        return float(text)
    except ValueError:
        return text
