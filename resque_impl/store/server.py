"""Questions about the Redis server itself rather than Resque's keys: how big the database is, how much
memory Redis uses, and emptying a database.

These exist for tools that own a database (the simulator's ``redis`` backend samples ``used_memory`` and
refuses a database that holds data unless told to flush it). They have no in-memory twin and are not part
of :class:`~resque_impl.store.StoreProtocol`: a :class:`~resque_impl.memory_store.MemoryStore` has no
server to ask.
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

    def used_memory(self) -> int:
        """Bytes Redis has allocated (``INFO memory``'s ``used_memory``)."""
        return int(self.client.info("memory")["used_memory"])
