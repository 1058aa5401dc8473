"""The heartbeat thread: ``HSET workers:heartbeat <id> <time>`` every ``heartbeat_interval`` seconds.

It runs beside the work loop so a worker busy with a long job still looks alive; errors (Redis away)
are logged and the next beat tries again.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from resque_impl.errors import ResqueError

__all__ = ["HeartbeatThread"]

logger = logging.getLogger("resque_impl.worker")


class _Beating(Protocol):
    id: str

    def heartbeat(self) -> None: ...


class HeartbeatThread:
    """Beats for ``worker`` from :meth:`start` (at once, then every ``interval`` s) until :meth:`stop`."""

    def __init__(self, worker: _Beating, interval: float) -> None:
        self.worker = worker
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"resque-heartbeat-{worker.id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.worker.heartbeat()
            except ResqueError as error:
                logger.warning("heartbeat failed: %s", error)
            if self._stopping.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and wait (up to ``timeout`` s) for a beat in progress to end."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
