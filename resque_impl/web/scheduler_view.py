"""What the dashboard shows of resque-scheduler: the delayed queue by timestamp, the jobs due at one
timestamp, and the recurring schedule with when each entry last enqueued and runs next.

:class:`SchedulerViews` is mixed into :class:`~resque_impl.web.view.DashboardView`. Reads stay bounded
however large the delayed queue grows: timestamps are read a page at a time by position (``ZRANGE``),
a page's sizes and first jobs in one round trip, and the jobs in all are summed server-side over at
most ``Limits.delayed_count_budget`` timestamps (past that, the page gives a lower bound and says so).

A delayed job is named by its *item id*, ``<timestamp>:<position>:<digest of its exact bytes>``: the
position is only where to look first, so a job that moved (the scheduler took jobs due before it) is
still found, and a job that changed or went is never mistaken for another.
"""

from __future__ import annotations

import functools
import hashlib
import math
from typing import TYPE_CHECKING, Any

from resque_impl.codec import loads
from resque_impl.errors import ResqueError, ScheduleError
from resque_impl.scheduler.recurring import queue_for
from resque_impl.scheduler.schedule import CronTrigger, EveryTrigger, ScheduleEntry, parse_schedule
from resque_impl.web.params import Limits, page_start
from resque_impl.web.timefmt import MAX_EPOCH, age, format_epoch

if TYPE_CHECKING:
    from resque_impl.client import Resque
    from resque_impl.store import Store

__all__ = ["DYNAMIC", "FILE", "SchedulerViews", "delayed_item_id"]

#: Where a recurring entry comes from: the schedule file the dashboard was given, or Redis
#: (``Resque.set_schedule``; these win over file entries of the same name, as in the scheduler).
FILE, DYNAMIC = "file", "dynamic"
#: Items read per ``LRANGE`` while looking for a delayed job that moved.
_SEARCH_PAGE = 1000
_DYNAMIC_SOURCE = "persistent_schedules"


def _digest(raw: bytes) -> str:
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()[:16]


def delayed_item_id(timestamp: int, position: int, raw: bytes) -> str:
    """The stable name of the delayed item ``raw`` seen at ``position`` of ``timestamp``'s jobs."""
    return f"{timestamp}:{position}:{_digest(raw)}"


def _parse_item_id(item_id: str) -> tuple[int, int, str] | None:
    parts = item_id.split(":")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() for part in parts[:2]):
        return None
    timestamp, position = int(parts[0]), int(parts[1])
    return (timestamp, position, parts[2]) if timestamp <= MAX_EPOCH else None


@functools.lru_cache(maxsize=1024)
def _read_dynamic(name: str, raw: bytes) -> ScheduleEntry | str:
    """A dynamic schedule as the scheduler reads it, or why it cannot. Remembered by its bytes, so a
    definition is parsed, and its warnings logged, once rather than on every refresh."""
    try:
        parsed = parse_schedule({name: loads(raw)}, source=_DYNAMIC_SOURCE)
    except (ValueError, ResqueError) as error:
        return str(error).removeprefix(f"{_DYNAMIC_SOURCE}: entry {name!r}: ")
    return parsed[0] if parsed else "not loaded: its env setting leaves out the environment schedulers run in"


def _trigger(entry: ScheduleEntry) -> tuple[str | None, str | None]:
    """How an entry is triggered (``cron`` / ``every`` / ``None``: only by hand) and its spec as written."""
    if isinstance(entry.trigger, CronTrigger):
        return "cron", str(entry.trigger)
    if isinstance(entry.trigger, EveryTrigger):
        return "every", str(entry.trigger)
    return None, None


class SchedulerViews:
    """The delayed and schedule pages' data (see the module docstring)."""

    if TYPE_CHECKING:
        resque: Resque
        store: Store
        limits: Limits
        file_schedule: tuple[ScheduleEntry, ...]

        def now(self) -> float: ...
        @staticmethod
        def job(raw: bytes, position: int | None = None) -> dict[str, Any]: ...

    def scheduler_in_use(self) -> bool:
        """Whether to offer the scheduler's pages: a schedule file was given, or Redis shows
        resque-scheduler at work (delayed jobs, dynamic schedules, a fired schedule, a master)."""
        return bool(self.file_schedule) or self.store.scheduler_in_use()

    # -- delayed jobs ----------------------------------------------------------------------------------
    def delayed_job(self, timestamp: int, position: int, raw: bytes) -> dict[str, Any]:
        """A delayed item as the pages show it: a queued job's fields, its ``queue`` and ``id``."""
        job = self.job(raw, position)
        queue = job["extras"].pop("queue", None)
        job["queue"] = queue if isinstance(queue, str) else None
        job["id"] = delayed_item_id(timestamp, position, raw)
        return job

    def _when(self, timestamp: int, now: float) -> dict[str, Any]:
        return {"timestamp": timestamp, "time": format_epoch(timestamp), "age": now - timestamp}

    def delayed(self, start: int, per_page: int) -> dict[str, Any]:
        """A page of scheduled timestamps, earliest first, each with its job count and first job."""
        now = self.now()
        summary = self.store.delayed_summary(math.floor(now))
        start = page_start(start, per_page, summary.timestamps)
        heads = self.store.delayed_heads(self.store.delayed_timestamps(start, per_page))
        budget = self.limits.delayed_count_budget
        jobs, counted = self.store.delayed_count_first(budget)
        return {
            "timestamps": summary.timestamps,
            "jobs": jobs,
            "jobs_counted_over": counted,
            "jobs_complete": counted < budget or counted >= summary.timestamps,
            "due": summary.due,
            "earliest": self._when(summary.earliest, now) if summary.earliest is not None else None,
            "master": summary.master,
            "start": start,
            "per_page": per_page,
            "items": [
                {
                    **self._when(head.timestamp, now),
                    "size": head.size,
                    "first": self.delayed_job(head.timestamp, 0, head.first) if head.first is not None else None,
                }
                for head in heads
            ],
        }

    def delayed_timestamp(self, timestamp: int, start: int, per_page: int) -> dict[str, Any]:
        """A page of the jobs due at ``timestamp``, in the order they will be queued."""
        size = self.store.delayed_timestamp_size(timestamp)
        start = page_start(start, per_page, size)
        raws = self.store.delayed_range(timestamp, start, per_page)
        return {
            **self._when(timestamp, self.now()),
            "size": size,
            "start": start,
            "per_page": per_page,
            "jobs": [self.delayed_job(timestamp, position, raw) for position, raw in enumerate(raws, start)],
        }

    def delayed_item(self, item_id: str) -> tuple[int, bytes] | None:
        """The timestamp and exact bytes of the delayed item ``item_id`` names, wherever it moved among
        that timestamp's jobs; ``None`` if it is not there any more (or the id is not one)."""
        parsed = _parse_item_id(item_id)
        if parsed is None:
            return None
        timestamp, position, digest = parsed
        seen = self.store.delayed_range(timestamp, position, 1)
        if seen and _digest(seen[0]) == digest:
            return timestamp, seen[0]
        # New jobs are appended, and jobs leave from anywhere: one seen at `position` is now at or
        # before it, so the search stops there.
        start = 0
        while start <= position and (page := self.store.delayed_range(timestamp, start, _SEARCH_PAGE)):
            for raw in page:
                if _digest(raw) == digest:
                    return timestamp, raw
            start += len(page)
        return None

    # -- recurring schedule ----------------------------------------------------------------------------
    def _schedule_sources(self) -> tuple[dict[str, tuple[ScheduleEntry, str]], list[dict[str, Any]]]:
        """The entries the scheduler would run, by name, with their source; and the dynamic schedules
        it would skip, with why."""
        entries = {entry.name: (entry, FILE) for entry in self.file_schedule}
        problems = []
        for name, raw in sorted(self.store.persistent_schedules().items()):
            found = _read_dynamic(name, raw)
            if isinstance(found, ScheduleEntry):
                entries[name] = (found, DYNAMIC)
            else:
                problems.append({"name": name, "definition": raw.decode("utf-8", "replace"), "error": found})
        return entries, problems

    def schedule_entry(self, name: str) -> ScheduleEntry | None:
        """The recurring entry ``name`` as the scheduler would run it, if there is one."""
        found = self._schedule_sources()[0].get(name)
        return found[0] if found is not None else None

    def schedule(self) -> dict[str, Any]:
        """Every recurring entry, by name: trigger, job, queue, last enqueued, next run."""
        now = self.now()
        entries, problems = self._schedule_sources()
        names = sorted(entries)
        last_enqueued = self.store.last_enqueued_at()
        ticks = self.store.schedule_ticks(names)
        rows = []
        for name in names:
            entry, source = entries[name]
            kind, spec = _trigger(entry)
            upcoming = self._next_run(entry, now, ticks.get(name))
            try:
                queue: str | None = queue_for(self.resque, entry)
            except ScheduleError:
                queue = None
            last = last_enqueued.get(name)
            rows.append(
                {
                    "name": name,
                    "source": source,
                    "class": entry.class_name,
                    "queue": queue,
                    "args": entry.args,
                    "description": entry.description,
                    "trigger": kind,
                    "schedule": spec,
                    "last_enqueued_at": last,
                    "last_enqueued_age": age(last, now),
                    "next_run": upcoming,
                    "next_run_time": format_epoch(upcoming) if upcoming is not None else None,
                    "next_run_in": upcoming - now if upcoming is not None else None,
                }
            )
        return {
            "entries": rows,
            "unreadable": problems,
            "master": self.store.lock_owner(self.resque.keys.scheduler_master_lock),
            "file_entries": len(self.file_schedule),
        }

    @staticmethod
    def _next_run(entry: ScheduleEntry, now: float, last_tick: float | None) -> float | None:
        """The next tick by the scheduler's own rules; for ``every``, only once a scheduler of this
        library recorded a tick (the grid runs through it)."""
        trigger = entry.trigger
        if isinstance(trigger, CronTrigger):
            return trigger.next_after(now)
        if isinstance(trigger, EveryTrigger) and last_tick is not None:
            return trigger.next_after(now, last_tick)
        return None
