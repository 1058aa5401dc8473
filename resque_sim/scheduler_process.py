"""resque-scheduler in simulated time: the real :class:`~resque_impl.scheduler.Scheduler` polling every
``interval`` seconds, as a SimPy process that sleeps while no retry waits in the delayed queue."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from resque_impl import Resque
from resque_impl.scheduler import MasterLock, Scheduler
from resque_impl.store import StoreProtocol

__all__ = ["SimulatedScheduler"]


class SimulatedScheduler:
    """The engine tells it when a retry goes into the delayed queue (:meth:`scheduled`) and when the
    scheduler pushed one (:meth:`released`); :meth:`run` is its SimPy process."""

    def __init__(self, env: simpy.Environment, resque: Resque, store: StoreProtocol, identity: str) -> None:
        self.env = env
        self.resque = resque
        self.store = store
        self.identity = identity
        #: whether :meth:`run` is polling now: a push seen meanwhile is the scheduler releasing a retry
        self.releasing = False
        self._waiting = 0  # retries in the delayed queue
        self._last_poll = -math.inf
        self._idle: simpy.Event | None = None

    def scheduled(self) -> None:
        """A retry went into the delayed queue: wake the scheduler if it sleeps."""
        self._waiting += 1
        if self._idle is not None and not self._idle.triggered:
            self._idle.succeed()

    def released(self) -> None:
        """The scheduler pushed a due retry onto its queue."""
        self._waiting -= 1

    def run(self) -> Generator[simpy.Event, Any, None]:
        """Poll with the real :meth:`Scheduler.poll` on the grid ``0, interval, 2 interval, ...`` it would
        have kept all along, skipping the polls while no retry is waiting (they would find nothing)."""
        env = self.env
        scheduler = Scheduler(self.resque, (), lock=MasterLock(self.store, identity=self.identity))
        interval = scheduler.interval
        while True:
            if not self._waiting:
                self._idle = env.event()
                yield self._idle
                self._idle = None
            next_poll = math.ceil(env.now / interval - 1e-9) * interval
            if next_poll <= self._last_poll:
                next_poll += interval
            if next_poll > env.now:
                yield env.timeout(next_poll - env.now)
            self._last_poll = env.now
            self.releasing = True
            try:
                scheduler.poll()
            finally:
                self.releasing = False
