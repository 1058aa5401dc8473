"""Counters: ``stat:<name>`` and per-worker ``stat:<name>:<worker id>`` (Ruby's ``StatsAccess``)."""

from __future__ import annotations

from resque_impl.store.base import Command, StoreBase

__all__ = ["StatCommands"]


class StatCommands(StoreBase):
    def stat(self, name: str) -> int:
        """The value of ``stat:<name>`` (0 when unset)."""
        value = self.client.get(self.keys.stat(name))
        return int(value) if value else 0

    def worker_stat(self, name: str, worker_id: str) -> int:
        """The value of ``stat:<name>:<worker_id>`` (0 when unset)."""
        value = self.client.get(self.keys.worker_stat(name, worker_id))
        return int(value) if value else 0

    def incr_stat(self, name: str, by: int = 1, worker_id: str | None = None) -> None:
        """Add ``by`` to ``stat:<name>``, and to the worker's own counter when ``worker_id`` is given."""
        commands: list[Command] = [("INCRBY", self.keys.stat(name), by)]
        if worker_id is not None:
            commands.append(("INCRBY", self.keys.worker_stat(name, worker_id), by))
        self._round_trip(commands)

    def clear_stat(self, name: str) -> None:
        """Delete ``stat:<name>``."""
        self.client.delete(self.keys.stat(name))
