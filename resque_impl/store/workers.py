"""Worker registry commands (Ruby's ``DataStore::Workers``)."""

from __future__ import annotations

from collections.abc import Sequence

from resque_impl.store.base import StoreBase

__all__ = ["WorkerCommands"]


class WorkerCommands(StoreBase):
    def worker_ids(self) -> list[str]:
        """Every registered worker id, sorted."""
        return sorted(raw.decode() for raw in self.client.smembers(self.keys.workers))

    def working_on(self, worker_ids: Sequence[str]) -> dict[str, bytes | None]:
        """Each worker's working-on record (``None`` when idle), in one round trip."""
        if not worker_ids:
            return {}
        records = self.client.mget([self.keys.worker(worker_id) for worker_id in worker_ids])
        return dict(zip(worker_ids, records, strict=True))
