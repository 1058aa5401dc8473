"""Reading the per-queue minute hashes back (see :mod:`.layout`): jobs per queue and class, sampled
queue depths, and from them each queue's arrival rate over time.

Arrivals in a minute are the jobs acknowledged from the queue in it plus the change in its sampled
depth since the previous sample (a backlog that grew arrived too; a drop below zero, as when a queue is
cleared by hand, counts as none). A minute's rate divides by the seconds the recording covered: a whole
minute, except at the two ends of the recorded span, where the ``slot:<k>`` fields say from or until
when jobs ran (the edge slot pro rata). A hash not in this layout (another version, junk fields, not a
hash) is skipped whole and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from resque_impl.job_metrics.layout import SLOT_SECONDS, VERSION, minute_of
from resque_impl.store import StoreProtocol

__all__ = ["ArrivalSeries", "QueueActivity", "QueueMinute", "read_queue_activity"]

_SLOTS = 60 // SLOT_SECONDS
_BATCH = 1000  # keys per round trip


@dataclass(frozen=True, slots=True)
class QueueMinute:
    """One recorded UTC minute: ``start`` (epoch), jobs per ``(queue, class)``, sampled depths, jobs per slot."""

    start: float
    jobs: dict[tuple[str, str], int]
    depths: dict[str, int]
    slots: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ArrivalSeries:
    """One queue's arrivals per minute of the span: ``(minute start, jobs, seconds covered)``."""

    queue: str
    points: tuple[tuple[float, int, float], ...]

    @property
    def arrivals(self) -> int:
        return sum(jobs for _, jobs, _ in self.points)

    @property
    def seconds(self) -> float:
        return sum(seconds for _, _, seconds in self.points)

    @property
    def mean_rate(self) -> float:
        """Jobs per second over the whole span."""
        return self.arrivals / self.seconds if self.seconds else 0.0

    def peak_rate(self, minutes: int) -> float:
        """The highest rate over ``minutes`` consecutive minutes (windows covering at least half a minute)."""
        best = 0.0
        for index in range(len(self.points)):
            window = self.points[index : index + minutes]
            seconds = sum(item[2] for item in window)
            if seconds >= 30:
                best = max(best, sum(item[1] for item in window) / seconds)
        return best if best or not self.points else self.mean_rate


@dataclass(frozen=True)
class QueueActivity:
    """The recorded minutes (oldest first, only those holding a hash) and how many hashes were skipped."""

    minutes: tuple[QueueMinute, ...]
    skipped: int
    classes_by_queue: dict[str, dict[str, int]] = field(default_factory=dict)

    def arrivals(self) -> dict[str, ArrivalSeries]:
        """Each queue's arrivals over the recorded span (queues with jobs recorded, or depths sampled)."""
        if not self.minutes:
            return {}
        first, last = self.minutes[0].start, self.minutes[-1].start
        by_start = {minute.start: minute for minute in self.minutes}
        queues = sorted({queue for minute in self.minutes for queue, _ in minute.jobs} | self._sampled())
        previous: dict[str, int] = {}
        points: dict[str, list[tuple[float, int, float]]] = {queue: [] for queue in queues}
        sampled = False  # once any depth was sampled, a queue missing from a sample did not exist: 0
        start = first
        while start <= last:
            minute = by_start.get(start)
            seconds = _covered(
                minute, by_start.get(start - 60), by_start.get(start + 60), start == first, start == last
            )
            for queue in queues:
                done = sum(count for (name, _), count in minute.jobs.items() if name == queue) if minute else 0
                grown = 0
                if minute is not None and queue in minute.depths:
                    depth = minute.depths[queue]
                    grown = depth - previous.get(queue, 0 if sampled else depth)
                    previous[queue] = depth
                points[queue].append((start, max(0, done + grown), seconds))
            sampled = sampled or bool(minute is not None and minute.depths)
            start += 60
        return {queue: ArrivalSeries(queue, tuple(series)) for queue, series in points.items()}

    def _sampled(self) -> set[str]:
        return {queue for minute in self.minutes for queue in minute.depths}


def _covered(
    minute: QueueMinute | None, before: QueueMinute | None, after: QueueMinute | None, first: bool, last: bool
) -> float:
    """Seconds of a minute the recording covers: all of it, or at an end of the span, from the first
    slot with jobs (the first minute) or until the last (the last minute). The edge slot itself counts
    the share of it that its jobs fill at its neighbour's pace (a slot with half its neighbour's jobs
    was busy half the time), which keeps short spans from diluting the rate. The neighbour of a
    minute's edge slot may be in the next (or previous) minute: a run that starts in a minute's last
    slot or ends in its first is measured like any other."""
    if minute is None or not any(minute.slots):
        return 60.0
    slots = minute.slots
    busy = [index for index, count in enumerate(slots) if count]
    begin, end = (float(busy[0]) if first else 0.0), (float(busy[-1] + 1) if last else float(_SLOTS))
    if first:
        following = slots[busy[0] + 1] if busy[0] + 1 < _SLOTS else (after.slots[0] if after else 0)
        if following:
            begin += 1 - min(1.0, slots[busy[0]] / following)
    if last:
        preceding = slots[busy[-1] - 1] if busy[-1] >= 1 else (before.slots[-1] if before else 0)
        if preceding:
            end -= 1 - min(1.0, slots[busy[-1]] / preceding)
    return max(1.0, (end - begin) * SLOT_SECONDS)


class _Junk(ValueError):
    pass


def _parse(start: float, fields: dict[str, str]) -> QueueMinute:
    if fields.get("v") != VERSION:
        raise _Junk("version")
    jobs: dict[tuple[str, str], int] = {}
    depths: dict[str, int] = {}
    slots = [0] * _SLOTS
    for name, value in fields.items():
        if name == "v":
            continue
        kind, sep, rest = name.partition(":")
        if not sep:
            raise _Junk(name)
        count = int(value)
        if count < 0:
            raise _Junk(value)
        if kind == "jobs":
            pair = json.loads(rest)
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(item, str) for item in pair)):
                raise _Junk(name)
            jobs[(pair[0], pair[1])] = count
        elif kind == "depth":
            depths[rest] = count
        elif kind == "slot" and rest.isdigit() and int(rest) < _SLOTS:
            slots[int(rest)] = count
        else:
            raise _Junk(name)
    return QueueMinute(start, jobs, depths, tuple(slots))


def read_queue_activity(store: StoreProtocol, start: float, end: float) -> QueueActivity:
    """The per-queue minute hashes of the UTC minutes from the one holding ``start`` to the one holding
    ``end`` (epoch seconds), read 1,000 keys a round trip."""
    first = start - start % 60
    starts = [first + 60 * index for index in range(int((end - first) // 60) + 1)]
    keys = [store.keys.queue_metrics_minute(minute_of(moment)) for moment in starts]
    found: list[QueueMinute] = []
    skipped = 0
    for offset in range(0, len(keys), _BATCH):
        hashes = store.read_hashes(keys[offset : offset + _BATCH])
        for moment, fields in zip(starts[offset : offset + _BATCH], hashes, strict=True):
            if fields == {}:
                continue
            try:
                if fields is None:
                    raise _Junk("not a hash")
                found.append(_parse(moment, fields))
            except (_Junk, ValueError):
                skipped += 1
    mix: dict[str, dict[str, int]] = {}
    for minute in found:
        for (queue, name), count in minute.jobs.items():
            mix.setdefault(queue, {})[name] = mix.setdefault(queue, {}).get(name, 0) + count
    return QueueActivity(tuple(found), skipped, mix)
