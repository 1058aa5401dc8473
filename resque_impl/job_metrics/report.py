"""Reading per-class job metrics back: totals, failure rate, mean and percentiles over recent minutes.

Percentiles come from the histogram as Prometheus's ``histogram_quantile`` computes them: the bucket
holding the wanted rank, interpolated linearly between its bounds; a rank in the ``+Inf`` bucket
reports the largest finite bound (1,000 s). A minute or ten-minute hash that is not in this layout's
version, or holds a field or value this reader does not understand (or is not a hash at all), is
skipped whole and counted in :attr:`JobMetricsReport.skipped` (a ten-minute one is then read from its
minutes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from resque_impl.job_metrics.layout import BUCKETS, MINUTE_TTL, VERSION, block_of, bucket_labels, minute_of
from resque_impl.store import StoreProtocol

__all__ = [
    "MAX_MINUTES",
    "ClassMetrics",
    "JobMetricsReport",
    "MinuteTotals",
    "histogram_json",
    "minutes_json",
    "quantile",
    "read_job_metrics",
    "read_job_metrics_days",
]

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
    """The last :attr:`minutes` minutes: per class (busiest first), per minute, and what was skipped.
    ``class_per_minute`` holds one class's executions (``processed``) and failures per minute when
    the report was asked for one (``read_job_metrics(..., class_name=...)``), else nothing."""

    minutes: int
    classes: tuple[ClassMetrics, ...]
    per_minute: tuple[MinuteTotals, ...]
    skipped: int
    class_per_minute: tuple[MinuteTotals, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "minutes": self.minutes,
            "classes": [metrics.as_json() for metrics in self.classes],
            "per_minute": minutes_json(self.per_minute),
            "skipped_keys": self.skipped,
        }


def minutes_json(minutes: tuple[MinuteTotals, ...]) -> list[dict[str, Any]]:
    return [{"minute": total.minute, "processed": total.processed, "failed": total.failed} for total in minutes]


def histogram_json(buckets: tuple[int, ...]) -> list[dict[str, Any]]:
    """A histogram of counts per bucket of :data:`BUCKETS` as ``[{"gt": lower, "le": upper, "count":
    n}, ...]`` (seconds; ``gt`` 0 for the first bucket, ``le`` ``None`` for the last, unbounded one);
    counts are per bucket, not cumulative."""
    bounds: list[float | None] = [*BUCKETS, None]
    lowers = [0.0, *BUCKETS]
    return [{"gt": lowers[i], "le": bounds[i], "count": n} for i, n in enumerate(buckets)]


class _Junk(ValueError):
    pass


#: One class's sums, flat for speed (a 6-hour report adds up hundreds of thousands of fields):
#: executions, failures, seconds, then the histogram's counts (see _SLOTS).
_Sums = list[float]
_WIDTH = 3 + len(BUCKETS) + 1
#: Field kind -> its slot in _Sums.
_SLOTS = {"executions": 0, "failures": 1, "seconds": 2} | {label: 3 + i for i, label in enumerate(bucket_labels())}
#: Field names already split: name -> (class, slot); bounded, cleared when full.
_SPLIT: dict[str, tuple[str, int]] = {}
_SPLIT_MAX = 100_000


def _split(name: str) -> tuple[str, int]:
    """A per-class field's class and slot; :class:`_Junk` for a name this version does not write."""
    found = _SPLIT.get(name)
    if found is None:
        kind, sep, class_name = name.partition(":")
        slot = _SLOTS.get(kind)
        if not sep or slot is None:
            raise _Junk(name)
        if len(_SPLIT) >= _SPLIT_MAX:
            _SPLIT.clear()
        found = _SPLIT[name] = (class_name, slot)
    return found


def read_job_metrics(store: StoreProtocol, now: float, minutes: int, class_name: str | None = None) -> JobMetricsReport:
    """The metrics of the ``minutes`` UTC minutes up to and including the one holding ``now``
    (1 to :data:`MAX_MINUTES`); with ``class_name``, that class's minutes too.

    Ten-minute spans wholly inside the window are read from their ten-minute hashes, and only the
    minutes at either end whole, in one round trip; the per-minute totals of the minutes inside those
    spans (``v``, ``processed``, ``failed``, and the class's counts) in a second. A span whose hash is
    missing while its minutes show jobs (recorded before ten-minute hashes existed), or cannot be read,
    is read from its minutes instead, in a third.
    """
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be between 1 and {MAX_MINUTES}, got {minutes}")
    start = now - now % 60
    names = [minute_of(start - 60 * back) for back in range(minutes - 1, -1, -1)]
    reader = _Reader(store, names, class_name)
    reader.read()
    return reader.report(minutes)


def read_job_metrics_days(store: StoreProtocol, now: float, days: int) -> JobMetricsReport:
    """The metrics of the ``days`` UTC days up to and including the one holding ``now``, from the day
    hashes (which outlive the minute ones); :attr:`JobMetricsReport.per_minute` then holds one entry per
    day, named ``YYYYMMDD``, and :attr:`~JobMetricsReport.minutes` counts the days' minutes."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    names = [minute_of(now - 86400 * back)[:8] for back in range(days - 1, -1, -1)]
    reader = _Reader(store, names, None)
    for index, fields in enumerate(store.read_hashes([store.keys.job_metrics_day(name) for name in names])):
        reader.whole(index, fields)
    return reader.report(days * 1440)


class _Reader:
    """One report's reads and sums (see :func:`read_job_metrics`)."""

    def __init__(self, store: StoreProtocol, names: list[str], class_name: str | None) -> None:
        self.store, self.names, self.class_name = store, names, class_name
        self.sums: dict[str, _Sums] = {}
        self.per_minute = [MinuteTotals(name, 0, 0) for name in names]
        self.class_minutes = [MinuteTotals(name, 0, 0) for name in names]
        self.skipped = 0
        self.skipped_minutes: set[int] = set()
        self.active: set[int] = set()

    def read(self) -> None:
        keys, names = self.store.keys, self.names
        spans: dict[str, list[int]] = {}
        for index, name in enumerate(names):
            spans.setdefault(block_of(name), []).append(index)
        full = [block for block, members in spans.items() if len(members) == 10]
        inner = [index for block in full for index in spans[block]]
        inside = set(inner)
        edge = [index for index in range(len(names)) if index not in inside]
        whole = self.store.read_hashes(
            [keys.job_metrics_block(block) for block in full] + [keys.job_metrics_minute(names[i]) for i in edge]
        )
        for index, fields in zip(edge, whole[len(full) :], strict=True):
            self.whole(index, fields)
        if inner:
            wanted = ["v", "processed", "failed"]
            if self.class_name is not None:
                wanted += [f"executions:{self.class_name}", f"failures:{self.class_name}"]
            light = self.store.read_hash_fields([keys.job_metrics_minute(names[i]) for i in inner], wanted)
            for index, found in zip(inner, light, strict=True):
                self._minute_totals(index, found)
        fallback: list[int] = []
        for block, fields in zip(full, whole[: len(full)], strict=True):
            if fields == {} and not self.active.intersection(spans[block]):
                continue
            parsed = _parse_or_none(fields) if fields != {} else None
            if parsed is not None:
                self._add(parsed[1])
                continue
            self.skipped += fields != {}  # a damaged span; its minutes may still be read
            fallback += spans[block]
        if fallback:
            hashes = self.store.read_hashes([keys.job_metrics_minute(names[i]) for i in fallback])
            for index, fields in zip(fallback, hashes, strict=True):
                parsed = _parse_or_none(fields)
                if parsed is None:
                    self.skipped += index not in self.skipped_minutes
                else:
                    self._add(parsed[1])

    def report(self, minutes: int) -> JobMetricsReport:
        classes = tuple(
            ClassMetrics(name, int(s[0]), int(s[1]), float(s[2]), tuple(int(n) for n in s[3:]))
            for name, s in sorted(self.sums.items(), key=lambda item: (-item[1][0], item[0]))
        )
        class_minutes = tuple(self.class_minutes) if self.class_name is not None else ()
        return JobMetricsReport(minutes, classes, tuple(self.per_minute), self.skipped, class_minutes)

    def _add(self, found: dict[str, _Sums]) -> None:
        sums = self.sums
        for name, parsed in found.items():
            into = sums.get(name)
            if into is None:
                sums[name] = parsed
            else:
                into[:] = [a + b for a, b in zip(into, parsed, strict=True)]

    def whole(self, index: int, fields: dict[str, str] | None) -> None:
        """A minute (or day) hash read whole: its totals, the chosen class's counts and every class's sums."""
        parsed = _parse_or_none(fields)
        if parsed is None:
            self.skipped += 1
            return
        totals, found = parsed
        self.per_minute[index] = MinuteTotals(self.names[index], *totals)
        mine = found.get(self.class_name) if self.class_name is not None else None
        if mine is not None:
            self.class_minutes[index] = MinuteTotals(self.names[index], int(mine[0]), int(mine[1]))
        self._add(found)

    def _minute_totals(self, index: int, fields: dict[str, str] | None) -> None:
        """A minute inside a ten-minute span: its totals only (its classes come from the span)."""
        if fields == {}:
            return
        try:
            if fields is None or fields.get("v") != VERSION:
                raise _Junk("not this layout")
            totals = MinuteTotals(
                self.names[index], _count(fields.get("processed", "0")), _count(fields.get("failed", "0"))
            )
            if self.class_name is not None:
                ran = _count(fields.get(f"executions:{self.class_name}", "0"))
                failed = _count(fields.get(f"failures:{self.class_name}", "0"))
                self.class_minutes[index] = MinuteTotals(self.names[index], ran, failed)
        except (_Junk, ValueError):
            self.skipped += 1
            self.skipped_minutes.add(index)
            return
        self.per_minute[index] = totals
        self.active.add(index)


def _parse_or_none(fields: dict[str, str] | None) -> tuple[tuple[int, int], dict[str, _Sums]] | None:
    """A hash of this layout as :func:`_parse` reads it (empty for a missing key), or ``None`` when it is
    junk: not a hash, another version, or a field or value this version did not write."""
    if fields == {}:
        return (0, 0), {}
    try:
        if fields is None:
            raise _Junk("not a hash")
        return _parse(fields)
    except (_Junk, ValueError):
        return None


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise _Junk(text)
    return value


def _parse(fields: dict[str, str]) -> tuple[tuple[int, int], dict[str, _Sums]]:
    """One hash as (processed, failed) and sums per class; :class:`_Junk` (or ``ValueError``) for
    anything this version did not write."""
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
        class_name, slot = _split(name)
        sums = classes.get(class_name)
        if sums is None:  # not setdefault: that would build a list for every field
            sums = classes[class_name] = [0] * _WIDTH
        if slot == 2:
            seconds = float(value)
            if not seconds >= 0:  # also rejects NaN
                raise _Junk(value)
            sums[2] = seconds
        else:
            count = int(value)
            if count < 0:
                raise _Junk(value)
            sums[slot] = count
    return (processed, failed), classes
