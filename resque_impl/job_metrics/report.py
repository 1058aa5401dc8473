"""Reading per-class job metrics back: totals, failure rate, mean and percentiles over recent minutes.

Percentiles come from the histogram as Prometheus's ``histogram_quantile`` computes them: the bucket
holding the wanted rank, interpolated linearly between its bounds; a rank in the ``+Inf`` bucket
reports the largest finite bound (1,000 s). A minute hash that is not in this layout's version, or
holds a field or value this reader does not understand (or is not a hash at all), is skipped whole and
counted in :attr:`JobMetricsReport.skipped`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from resque_impl.job_metrics.layout import BUCKETS, MINUTE_TTL, VERSION, bucket_labels, minute_of
from resque_impl.store import StoreProtocol

__all__ = ["MAX_MINUTES", "ClassMetrics", "JobMetricsReport", "MinuteTotals", "quantile", "read_job_metrics"]

#: The most minutes a report may cover: the minute hashes' lifetime.
MAX_MINUTES = MINUTE_TTL // 60

_BUCKET_INDEX = {label: index for index, label in enumerate(bucket_labels())}


def quantile(q: float, buckets: tuple[int, ...]) -> float | None:
    """The ``q`` quantile (0..1) of a histogram of counts per bucket of :data:`BUCKETS` (+Inf last);
    ``None`` for an empty one."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            if index == len(BUCKETS):
                return BUCKETS[-1]
            lower = BUCKETS[index - 1] if index else 0.0
            return lower + (BUCKETS[index] - lower) * max(0.0, rank - seen) / count
        seen += count
    return BUCKETS[-1]


@dataclass(frozen=True, slots=True)
class ClassMetrics:
    """One job class over the report's minutes."""

    name: str
    executions: int
    failures: int
    seconds: float
    buckets: tuple[int, ...]

    @property
    def failure_rate(self) -> float:
        return self.failures / self.executions if self.executions else 0.0

    @property
    def mean(self) -> float | None:
        return self.seconds / self.executions if self.executions else None

    def percentile(self, p: float) -> float | None:
        """The ``p``-th percentile (0..100) of run time in seconds, from the histogram."""
        return quantile(p / 100, self.buckets)

    def as_json(self) -> dict[str, Any]:
        return {
            "class": self.name,
            "executions": self.executions,
            "failures": self.failures,
            "failure_rate": self.failure_rate,
            "mean": self.mean,
            "p50": self.percentile(50),
            "p95": self.percentile(95),
            "p99": self.percentile(99),
            "total_seconds": self.seconds,
        }


@dataclass(frozen=True, slots=True)
class MinuteTotals:
    """Jobs acknowledged in one UTC minute (``YYYYMMDDHHMM``), every class."""

    minute: str
    processed: int
    failed: int


@dataclass(frozen=True, slots=True)
class JobMetricsReport:
    """The last :attr:`minutes` minutes: per class (busiest first), per minute, and what was skipped."""

    minutes: int
    classes: tuple[ClassMetrics, ...]
    per_minute: tuple[MinuteTotals, ...]
    skipped: int

    def as_json(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "classes": [metrics.as_json() for metrics in self.classes],
            "per_minute": [
                {"minute": total.minute, "processed": total.processed, "failed": total.failed}
                for total in self.per_minute
            ],
            "skipped_keys": self.skipped,
        }


class _Junk(ValueError):
    pass


@dataclass(slots=True)
class _Sums:
    executions: int = 0
    failures: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))


def read_job_metrics(store: StoreProtocol, now: float, minutes: int) -> JobMetricsReport:
    """The metrics of the ``minutes`` UTC minutes up to and including the one holding ``now``
    (1 to :data:`MAX_MINUTES`), read in one round trip."""
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}, got {minutes}")
    start = now - now % 60
    names = [minute_of(start - 60 * back) for back in range(minutes - 1, -1, -1)]
    hashes = store.read_hashes([store.keys.job_metrics_minute(name) for name in names])
    sums: dict[str, _Sums] = {}
    per_minute: list[MinuteTotals] = []
    skipped = 0
    for name, fields in zip(names, hashes, strict=True):
        if fields == {}:
            per_minute.append(MinuteTotals(name, 0, 0))
            continue
        try:
            if fields is None:
                raise _Junk("not a hash")
            totals, found = _parse(fields)
        except (_Junk, ValueError):
            skipped += 1
            per_minute.append(MinuteTotals(name, 0, 0))
            continue
        per_minute.append(MinuteTotals(name, *totals))
        for class_name, parsed in found.items():
            _merge(sums.setdefault(class_name, _Sums()), parsed)
    classes = tuple(
        ClassMetrics(name, s.executions, s.failures, s.seconds, tuple(s.buckets))
        for name, s in sorted(sums.items(), key=lambda item: (-item[1].executions, item[0]))
    )
    return JobMetricsReport(minutes, classes, tuple(per_minute), skipped)


def _merge(into: _Sums, parsed: _Sums) -> None:
    into.executions += parsed.executions
    into.failures += parsed.failures
    into.seconds += parsed.seconds
    for index, count in enumerate(parsed.buckets):
        into.buckets[index] += count


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise _Junk(text)
    return value


def _parse(fields: dict[str, str]) -> tuple[tuple[int, int], dict[str, _Sums]]:
    """One minute hash as (processed, failed) and sums per class; :class:`_Junk` (or ``ValueError``)
    for anything this version did not write."""
    if fields.get("v") != VERSION:
        raise _Junk("version")
    processed = failed = 0
    classes: dict[str, _Sums] = {}
    for name, value in fields.items():
        if name == "v":
            continue
        if name == "processed":
            processed = _count(value)
            continue
        if name == "failed":
            failed = _count(value)
            continue
        kind, sep, class_name = name.partition(":")
        if not sep:
            raise _Junk(name)
        sums = classes.setdefault(class_name, _Sums())
        if kind == "executions":
            sums.executions = _count(value)
        elif kind == "failures":
            sums.failures = _count(value)
        elif kind == "seconds":
            sums.seconds = float(value)
            if not sums.seconds >= 0:  # also rejects NaN
                raise _Junk(value)
        elif kind in _BUCKET_INDEX:
            sums.buckets[_BUCKET_INDEX[kind]] = _count(value)
        else:
            raise _Junk(name)
    return (processed, failed), classes
