"""What a sandbox's virtual time polls: one scheduler per namespace in use, as ``resque-impl scheduler``
runs one per namespace, the sandbox's own running the recurring schedule a test loaded; and the delayed
jobs a store holds."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from resque_impl.client import Resque
from resque_impl.delayed import DelayedJob
from resque_impl.scheduler import Recurring, ScheduleEntry, Scheduler, load_schedule_file, parse_schedule
from resque_impl.store import StoreProtocol

__all__ = ["Schedules", "delayed_jobs"]


class Schedules:
    """The schedulers of a sandbox (see the module's text)."""

    def __init__(self) -> None:
        self._entries: list[ScheduleEntry] = []
        self._dynamic = False
        self._by_namespace: dict[str, Scheduler] = {}
        self._lock = threading.Lock()

    def load(self, resque: Resque, schedule: Mapping[str, Any] | str | Path, *, env: str | None, dynamic: bool) -> None:
        """Run ``schedule`` (a mapping as in a schedule file, or the file's path) on ``resque``'s
        namespace from now on (with the schedules kept in Redis too, if ``dynamic``)."""
        entries = (
            load_schedule_file(schedule, env=env)
            if isinstance(schedule, (str, Path))
            else parse_schedule(schedule, env=env)
        )
        Recurring(resque, entries)  # a class without a queue is refused now, not at the first tick
        with self._lock:
            self._entries, self._dynamic = entries, dynamic
            self._by_namespace.pop(resque.namespace, None)

    def schedulers(self, own: Resque, instances: Iterable[Resque]) -> list[Scheduler]:
        """A scheduler for each of ``instances``' namespaces; ``own``'s runs the loaded schedule."""
        schedulers = []
        for resque in instances:
            with self._lock:
                scheduler = self._by_namespace.get(resque.namespace)
                if scheduler is None:
                    is_own = resque.namespace == own.namespace
                    scheduler = self._by_namespace[resque.namespace] = Scheduler(
                        resque, self._entries if is_own else (), dynamic=is_own and self._dynamic
                    )
            schedulers.append(scheduler)
        return schedulers


def delayed_jobs(store: StoreProtocol) -> Iterator[DelayedJob]:
    """Every delayed job ``store`` holds, earliest timestamp first."""
    start = 0
    while stamps := store.delayed_timestamps(start, 100):
        start += len(stamps)
        for timestamp in stamps:
            for raw in store.delayed_range(timestamp, 0, store.delayed_timestamp_size(timestamp)):
                yield DelayedJob.read(timestamp, raw)
