"""The in-memory twin of :class:`resque_impl.store.Store`: the same methods and results, no Redis.

It keeps the same keys a Redis database would hold (lists, sets, sorted sets, hashes, strings, some
expiring by its clock), so its state can be dumped and compared with a real server's
(:meth:`MemoryStore.dump`); the shared tests run every store operation against fakeredis, a real
redis-server and this twin. It exists for speed (the simulator's ``memory`` backend) and is meant for
one thread. Its commands are grouped as :class:`~resque_impl.store.Store`'s are, one module each.
"""

from __future__ import annotations

from resque_impl.store.memory.fetch import MemoryFetchCommands
from resque_impl.store.memory.metrics import MemoryMetricCommands
from resque_impl.store.memory.queues import MemoryQueueCommands
from resque_impl.store.memory.schedules import MemoryScheduleCommands
from resque_impl.store.memory.state import MemorySubscription

__all__ = ["MemoryStore", "MemorySubscription"]


class MemoryStore(MemoryScheduleCommands, MemoryQueueCommands, MemoryFetchCommands, MemoryMetricCommands):
    """A single-threaded stand-in for :class:`~resque_impl.store.Store`."""
