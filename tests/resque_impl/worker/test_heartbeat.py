"""Heartbeats: the job slots of one process share one thread, which beats for each of them under its own
id, and never for a slot after it left (its unregistering deletes the heartbeat a late beat would restore)."""

from __future__ import annotations

import threading
import time

from resque_impl.errors import ResqueError
from resque_impl.worker.heartbeat import SharedHeartbeat


class Counting:
    def __init__(self, name: str, fail: bool = False) -> None:
        self.id = name
        self.beats = 0
        self.fail = fail

    def heartbeat(self) -> None:
        self.beats += 1
        if self.fail:
            raise ResqueError("Redis is away")


def wait_for_beats(workers: list[Counting], beats: int) -> None:
    deadline = time.monotonic() + 10
    while min(worker.beats for worker in workers) < beats:
        assert time.monotonic() < deadline, [worker.beats for worker in workers]
        time.sleep(0.005)


def test_one_thread_beats_for_every_joined_worker_at_once_and_then_every_interval() -> None:
    before = threading.active_count()
    shared = SharedHeartbeat(0.01)
    workers = [Counting(f"box:1:q{',' * n}") for n in range(4)]
    for worker in workers:
        shared.join(worker)
        assert worker.beats == 1  # at once, so a new slot never looks dead
    wait_for_beats(workers, 3)
    assert threading.active_count() == before + 1
    shared.close()
    assert threading.active_count() == before


def test_a_worker_that_left_gets_no_more_beats() -> None:
    shared = SharedHeartbeat(0.01)
    staying, leaving = Counting("box:1:q"), Counting("box:1:q,")
    shared.join(staying)
    shared.join(leaving).stop()
    left_with = leaving.beats
    wait_for_beats([staying], 5)
    shared.close()
    assert leaving.beats == left_with


def test_a_failing_beat_does_not_stop_the_others() -> None:
    shared = SharedHeartbeat(0.01)
    failing, fine = Counting("box:1:q", fail=True), Counting("box:1:q,")
    shared.join(failing)
    shared.join(fine)
    wait_for_beats([failing, fine], 3)
    shared.close()
