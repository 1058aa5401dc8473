"""Worker registry commands (Ruby's ``DataStore::Workers``): registration, heartbeats, pruning lock.

Every value is written exactly as Ruby Resque 3.0 writes it; the caller formats times with
:mod:`resque_impl.clock`'s helpers so that the injected clock decides them.
"""

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

    def register_worker(self, worker_id: str, started: str) -> None:
        """``SADD workers`` and ``SET worker:<id>:started``, in one round trip."""
        keys = self.keys
        self._round_trip((("SADD", keys.workers, worker_id), ("SET", keys.worker_started(worker_id), started)))

    def worker_exists(self, worker_id: str) -> bool:
        """Whether ``worker_id`` is in the ``workers`` set."""
        return bool(self.client.sismember(self.keys.workers, worker_id))

    def set_working_on(self, worker_id: str, record: bytes) -> None:
        """Write a worker's working-on record (normally :meth:`fetch` does, atomically with the pop)."""
        self.client.set(self.keys.worker(worker_id), record)

    def unregister_worker(self, worker_id: str) -> None:
        """Forget a worker as Ruby's ``unregister_worker`` does: its registration, working-on record,
        start time, heartbeat and per-worker stats, in one round trip."""
        keys = self.keys
        self._round_trip(
            (
                ("SREM", keys.workers, worker_id),
                ("DEL", keys.worker(worker_id)),
                ("DEL", keys.worker_started(worker_id)),
                ("HDEL", keys.heartbeats, worker_id),
                ("DEL", keys.worker_stat("processed", worker_id)),
                ("DEL", keys.worker_stat("failed", worker_id)),
            )
        )

    def heartbeat(self, worker_id: str, when: str) -> None:
        """Record a heartbeat (``HSET workers:heartbeat <id> <when>``)."""
        self.client.hset(self.keys.heartbeats, worker_id, when)

    def remove_heartbeat(self, worker_id: str) -> None:
        """Forget a worker's heartbeat."""
        self.client.hdel(self.keys.heartbeats, worker_id)

    def heartbeats(self) -> dict[str, str]:
        """Worker id -> last heartbeat text, for every worker that has one."""
        raw = self.client.hgetall(self.keys.heartbeats)
        return {field.decode(): value.decode() for field, value in raw.items()}

    def server_time(self) -> float:
        """Redis's own clock (``TIME``) as epoch seconds; heartbeats use it so hosts with skewed clocks
        agree, as in Ruby Resque."""
        seconds, micros = self.client.time()
        return int(seconds) + int(micros) / 1_000_000

    def acquire_pruning_lock(self, worker_id: str, seconds: int) -> bool:
        """Take the cluster-wide pruning lock (``SET NX EX``) for ``seconds``; ``False`` if held."""
        return bool(self.client.set(self.keys.pruning_lock, worker_id, nx=True, ex=max(1, int(seconds))))
