"""The heartbeat thread: ``HSET workers:heartbeat <id> <time>`` every ``heartbeat_interval`` seconds.

It runs beside the work loop so a worker busy with a long job still looks alive; errors (Redis away)
are logged and the next beat tries again. The job slots of one process (``--concurrency N``) share one
thread (:class:`SharedHeartbeat`) that beats for each of them, each under its own id as Ruby reads them.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from resque_impl.errors import ResqueError

__all__ = ["Heartbeat", "HeartbeatThread", "SharedHeartbeat"]

logger = logging.getLogger("resque_impl.worker")


class _Beating(Protocol):
    id: str

    def heartbeat(self) -> None: ...


class Heartbeat(Protocol):
    """What beats for one worker until :meth:`stop`: its own thread, or its place in a shared one."""

    def stop(self, timeout: float = 5.0) -> None: ...


def _beat(worker: _Beating) -> None:
    try:
        worker.heartbeat()
    except ResqueError as error:
        logger.warning("heartbeat of %s failed: %s", worker.id, error)


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
            _beat(self.worker)
            if self._stopping.wait(self.interval):
                return

    def stop(self, timeout: float = 5.0) -> None:
        """Stop beating and wait (up to ``timeout`` s) for a beat in progress to end."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class SharedHeartbeat:
    """One thread beating every ``interval`` s for each worker :meth:`join` added, until :meth:`close`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._workers: dict[int, _Beating] = {}
        # Held across a round of beats, so a worker that leaves is never beaten for after leave returns
        # (a late beat would write back the heartbeat its unregistering deleted).
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="resque-heartbeat", daemon=True)
        self._thread.start()

    def join(self, worker: _Beating) -> _Member:
        """Beat for ``worker`` now (in the caller's thread) and then with the others; returns what stops it."""
        _beat(worker)
        with self._lock:
            self._workers[id(worker)] = worker
        return _Member(self, worker)

    def leave(self, worker: _Beating) -> None:
        """Beat no more for ``worker``; once this returns, no beat for it is in progress."""
        with self._lock:
            self._workers.pop(id(worker), None)

    def _run(self) -> None:
        while not self._closing.wait(self.interval):
            with self._lock:
                for worker in list(self._workers.values()):
                    _beat(worker)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (the workers still joined get no more beats)."""
        self._closing.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


class _Member:
    """A worker's place in a :class:`SharedHeartbeat`; :meth:`stop` as :meth:`HeartbeatThread.stop`."""

    def __init__(self, shared: SharedHeartbeat, worker: _Beating) -> None:
        self._shared = shared
        self._worker = worker

    def stop(self, timeout: float = 5.0) -> None:
        self._shared.leave(self._worker)
