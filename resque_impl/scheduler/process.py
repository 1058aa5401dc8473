"""The scheduler process: poll, and as master move due delayed jobs and fire recurring schedules.

::

    Scheduler(resque, load_schedule_file("schedule.yaml")).run()     # what `resque-impl scheduler` runs

Each poll (every ``interval`` seconds, 5 by default, sooner when a recurring tick falls due):

1. take or renew the master lock (resque-scheduler's key and value, so a Ruby scheduler and this one
   never both act); a process that is not master only waits;
2. move every due delayed job to its queue, one atomic batch at a time, renewing the lock as it goes
   and stopping between batches if it is told to shut down or is no longer master;
3. fire the recurring ticks that fell due since the last poll, each once cluster-wide.

With ``dynamic=True`` (``DYNAMIC_SCHEDULE``) the schedule also holds the dynamic schedules kept in
Redis (:mod:`resque_impl.dynamic_schedules`; they win over file entries of the same name), reloaded
by the master whenever ``schedules_changed`` flags one; a dynamic definition that cannot be used is
logged and skipped.

TERM, INT and QUIT stop the process after the batch in hand and release the lock; USR1 logs the
schedule and who is master; USR2 reloads the schedule file. When Redis goes away the process keeps
trying with a growing pause (up to ``interval``) and carries on when it is back; it acts as master
again only after renewing or retaking the lock.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import Any

from resque_impl.client import Resque
from resque_impl.codec import loads
from resque_impl.delayed import DEFAULT_BATCH_SIZE
from resque_impl.errors import ResqueConnectionError, ResqueError
from resque_impl.events import JOB_SCHEDULED
from resque_impl.scheduler.lock import MasterLock
from resque_impl.scheduler.recurring import Recurring, queue_for
from resque_impl.scheduler.schedule import ScheduleEntry, parse_schedule

__all__ = ["DEFAULT_INTERVAL", "Scheduler"]

log = logging.getLogger("resque_impl.scheduler")

#: resque-scheduler's default ``RESQUE_SCHEDULER_INTERVAL``.
DEFAULT_INTERVAL = 5.0
#: Longest single wait, so a stop or reload request is seen promptly.
_WAIT_SLICE = 0.1

ScheduleSource = Sequence[ScheduleEntry] | Callable[[], Sequence[ScheduleEntry]]


class Scheduler:
    """One scheduler process's loop over a :class:`Resque`.

    :param schedule: recurring entries, or a function returning them (called again on USR2).
    :param interval: seconds between polls.
    :param batch_size: delayed jobs moved per atomic step.
    :param lock: the master lock (default: resque-scheduler's, held as ``host:pid`` for 180 s).
    :param dynamic: also run the dynamic schedules kept in Redis.
    """

    def __init__(
        self,
        resque: Resque,
        schedule: ScheduleSource = (),
        *,
        interval: float = DEFAULT_INTERVAL,
        batch_size: int = DEFAULT_BATCH_SIZE,
        lock: MasterLock | None = None,
        dynamic: bool = False,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        self.resque = resque
        self.clock = resque.clock
        self.interval = interval
        self.batch_size = batch_size
        self.lock = lock if lock is not None else MasterLock(resque.store)
        self._source = schedule
        self.dynamic = dynamic
        # Dynamic schedules are read once this process is master; building needs no Redis.
        self.recurring = Recurring(resque, self._static_entries(), worker=self.lock.identity)
        self.is_master = False
        self._since = 0.0
        self._renewed_at = 0.0
        self._stopping = threading.Event()
        self._reload_requested = threading.Event()

    def _static_entries(self) -> Sequence[ScheduleEntry]:
        return self._source() if callable(self._source) else self._source

    def _entries(self) -> Sequence[ScheduleEntry]:
        """The schedule file's entries (errors propagate), then, if dynamic, the usable ones in Redis."""
        entries = {entry.name: entry for entry in self._static_entries()}
        if self.dynamic:
            for name, raw in self.resque.store.persistent_schedules().items():
                try:
                    (entry,) = parse_schedule({name: loads(raw)}, source="persistent_schedules")
                    queue_for(self.resque, entry)
                except (ValueError, ResqueError) as error:
                    log.error("dynamic schedule %r skipped: %s", name, error)
                    continue
                entries[name] = entry
        return list(entries.values())

    # -- one poll -------------------------------------------------------------------------------------
    def poll(self) -> float:
        """Do one poll; return how long to wait before the next one."""
        now = self.clock.time()
        master = self.lock.acquire()
        if master != self.is_master:
            log.info("%s scheduler (%s)", "Master" if master else "Child", self.lock.identity)
            self._since = now  # ticks that fell due while another process was master are its business
        became_master = master and not self.is_master
        self.is_master = master
        if not master:
            return self.interval
        if self.dynamic:
            changed = self.resque.store.schedules_changed_take()
            if changed or became_master:
                log.info("dynamic schedules changed: %s", ", ".join(changed) or "(loading as master)")
                self._reload()
        self._renewed_at = now
        moved = self.resque.release_due(
            now, batch_size=self.batch_size, keep_going=self._keep_going, worker=self.lock.identity
        )
        if moved:
            log.info("queued %d delayed job(s)", moved)
            if self.resque.events.listening(JOB_SCHEDULED):
                self.resque.events.emit(JOB_SCHEDULED, {"count": moved}, {"scheduler": self.lock.identity})
        if self._keep_going():
            self.recurring.fire_due(self._since, now)
            self._since = now
        return self._wait_after(self.clock.time())

    def _keep_going(self) -> bool:
        """Between batches: not shutting down, and still master (renewing the lock when a third of its
        timeout has passed)."""
        if self._stopping.is_set():
            return False
        now = self.clock.time()
        if self.is_master and now - self._renewed_at >= self.lock.timeout / 3:
            self.is_master = self.lock.acquire()
            self._renewed_at = now
            if not self.is_master:
                log.warning("lost the master lock to %s; stopping", self.lock.owner())
        return self.is_master

    def _wait_after(self, now: float) -> float:
        upcoming = self.recurring.next_due(now)
        if upcoming is None:
            return self.interval
        return max(0.0, min(self.interval, upcoming - now))

    # -- the loop ----------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the loop to finish the batch in hand and exit (safe from a signal handler or a thread)."""
        self._stopping.set()

    def request_reload(self) -> None:
        """Ask the loop to reload the schedule before its next poll."""
        self._reload_requested.set()

    def run(self) -> None:
        """Poll until :meth:`stop` (or TERM, INT, QUIT); release the lock on the way out."""
        log.info("Starting (%s), polling every %gs", self.lock.identity, self.interval)
        backoff = 0.0
        with self._signal_handlers():
            try:
                while not self._stopping.is_set():
                    if self._reload_requested.is_set():
                        self._reload()
                    try:
                        wait = self.poll()
                        if backoff:
                            log.info("Redis is reachable again")
                        backoff = 0.0
                    except ResqueConnectionError as error:
                        backoff = min(self.interval, max(0.5, backoff * 2))
                        log.warning("%s; retrying in %gs", error, backoff)
                        self.is_master = False
                        wait = backoff
                    self._wait(wait)
            finally:
                self._release()
        log.info("Exiting")

    def _wait(self, seconds: float) -> None:
        remaining = seconds
        while remaining > 0 and not self._stopping.is_set() and not self._reload_requested.is_set():
            step = min(remaining, _WAIT_SLICE)
            self.clock.sleep(step)
            remaining -= step

    def _release(self) -> None:
        try:
            if self.lock.release():
                log.info("released the master lock")
        except ResqueConnectionError as error:
            log.warning("could not release the master lock (it expires by itself): %s", error)
        self.is_master = False

    def _reload(self) -> None:
        self._reload_requested.clear()
        try:
            self.recurring = Recurring(self.resque, self._entries(), worker=self.lock.identity)
        except ResqueError as error:
            log.error("schedule not reloaded, keeping the old one: %s", error)
            return
        log.info("schedule reloaded: %d recurring job(s)", len(self.recurring.entries))

    def describe(self) -> str:
        """Who is master, and each recurring job with its next tick (what USR1 logs)."""
        now = self.clock.time()
        lines = [f"master: {self.lock.owner() or 'nobody'} (this process: {self.lock.identity})"]
        for entry in self.recurring.entries:
            lines.append(f"  {entry.name}: {entry.class_name} on {self.recurring.queue_of(entry)} [{entry.trigger}]")
        upcoming = self.recurring.next_due(now)
        if upcoming is not None:
            lines.append(f"next tick in {upcoming - now:.1f}s")
        return "\n".join(lines)

    @contextmanager
    def _signal_handlers(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(signum: int, _frame: FrameType | None) -> None:
            log.info("Got %s signal; shutting down", signal.Signals(signum).name)
            self.stop()

        def status(_signum: int, _frame: FrameType | None) -> None:
            log.info("%s", self.describe())

        def reload(_signum: int, _frame: FrameType | None) -> None:
            self.request_reload()

        wanted = {"SIGTERM": stop, "SIGINT": stop, "SIGQUIT": stop, "SIGUSR1": status, "SIGUSR2": reload}
        previous: dict[int, Any] = {}
        for name, handler in wanted.items():
            number = getattr(signal, name, None)
            if number is not None:
                previous[number] = signal.signal(number, handler)
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
