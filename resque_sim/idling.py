"""What the engine knows of idle workers and of the work waiting for them (see :mod:`resque_sim.engine`'s
text on polling): the jobs waiting per queue, counted by the engine (each push adds one, each job a
reserve returns takes one away), and the idle workers per queue, in the order they went idle, for a
push to wake."""

from __future__ import annotations

import simpy

from resque_sim.slots import Slot

__all__ = ["IdleWorkers"]


class IdleWorkers:
    """Idle workers and waiting jobs, per queue code."""

    def __init__(self, env: simpy.Environment, queues: int) -> None:
        self.env = env
        #: jobs waiting per queue code: a worker with none on its queues sends no reserve
        self.pending = [0] * queues
        # idle workers per queue code, by slot index, in the order they went idle (dicts keep it)
        self._waiting: list[dict[int, Slot]] = [{} for _ in range(queues)]

    def has_work(self, slot: Slot) -> bool:
        """Whether a job waits on one of ``slot``'s queues."""
        pending = self.pending
        for code in slot.covers:  # noqa: SIM110 - a plain loop: no generator per call on the hot path
            if pending[code]:
                return True
        return False

    def notify(self, queue: int, jobs: int = 1) -> None:
        """``jobs`` jobs were pushed to ``queue``: wake the idle workers that would see them: every
        polling one, and one instant one per job."""
        waiting = self._waiting[queue]
        if not waiting:
            return
        instant_left = jobs
        for slot in list(waiting.values()):
            if slot.interval is None:
                if not instant_left:
                    continue
                instant_left -= 1
            self.wake(slot, queue)

    def wake(self, slot: Slot, queue: int, restart: str | None = None) -> None:
        """End ``slot``'s idling, for a job pushed to ``queue`` (``-1``: none), or to restart it for
        ``restart``."""
        for code in slot.covers:
            self._waiting[code].pop(slot.index, None)
        slot.waiting = False
        slot.woken_for = queue
        assert slot.wake is not None
        slot.wake.succeed(restart)

    def idle(self, slot: Slot) -> simpy.Event:
        """``slot`` goes idle: the event its process waits on until :meth:`wake`."""
        slot.wake = self.env.event()
        slot.waiting = True
        for code in slot.covers:
            self._waiting[code][slot.index] = slot
        return slot.wake

    def age_expired(self, slot: Slot, incarnation: int) -> None:
        """The worker process ``incarnation`` of ``slot`` reached its maximum age: restart it now if it
        is still that process and idle (a busy one restarts after its job)."""
        if slot.incarnation == incarnation and slot.waiting:
            self.wake(slot, -1, "max_age")
