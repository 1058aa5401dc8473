"""Commands on the Redis database as a whole rather than on Resque's keys: how many keys it holds, and
emptying it.

These exist for tools that own a database (the simulator's ``redis`` backend refuses a database that
holds data unless told to flush it). They have no in-memory twin and are not part of
:class:`~resque_impl.store.StoreProtocol`: a :class:`~resque_impl.store.memory.MemoryStore` is not a
server.
"""

from __future__ import annotations

from resque_impl.store.base import StoreBase

__all__ = ["ServerCommands"]


class ServerCommands(StoreBase):
    def database_size(self) -> int:
        """How many keys the selected database holds (``DBSIZE``), in every namespace."""
        return int(self.client.dbsize())

    def flush_database(self) -> None:
        """Delete every key of the selected database (``FLUSHDB``), in every namespace."""
        self.client.flushdb()
