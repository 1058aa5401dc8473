"""Push notifications for the job slots of one process (``--concurrency N``): one subscription, shared.

An idle worker waits on a pub/sub subscription for pushes to its queues (see :mod:`.loop`). ``N`` slots
each subscribing would hold ``N`` subscriber connections and make Redis send every notification ``N``
times to one process. Instead the slots of one namespace share :class:`SharedNotifications`: one
subscription, read by one thread, which hands every queue name it hears to each slot that joined, as
the slot's own subscription would have (names heard while a slot is busy wait for its next idle wait).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from resque_impl.errors import ResqueConnectionError
from resque_impl.store.protocol import NotificationSource

__all__ = ["SharedNotifications"]

logger = logging.getLogger("resque_impl.worker")

#: Longest the reading thread waits on the subscription before looking whether it was closed.
_READ_SLICE = 0.25
#: How long the reading thread waits before subscribing again after losing Redis.
_RETRY_DELAY = 0.5


class SharedNotifications:
    """One subscription (from ``subscribe()``, made when the first slot joins) read by one thread for
    every slot that :meth:`join` ed, until :meth:`close`."""

    def __init__(self, subscribe: Callable[[], NotificationSource]) -> None:
        self._subscribe = subscribe
        self._listeners: dict[int, _Listener] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def join(self) -> NotificationSource:
        """A slot's view of the subscription: its :meth:`wait` returns the names heard since the last one
        (waiting up to its timeout for the first); its ``close`` leaves."""
        listener = _Listener(self)
        with self._lock:
            self._listeners[id(listener)] = listener
            if self._thread is None and not self._closing.is_set():
                self._thread = threading.Thread(target=self._run, name="resque-notifications", daemon=True)
                self._thread.start()
        return listener

    def leave(self, listener: _Listener) -> None:
        with self._lock:
            self._listeners.pop(id(listener), None)

    def _run(self) -> None:
        source = self._subscribe()
        try:
            while not self._closing.is_set():
                try:
                    names = source.wait(_READ_SLICE)
                except ResqueConnectionError as error:
                    # The slots still poll their queues every interval; subscribing again is enough here.
                    logger.warning("push notifications lost: %s; subscribing again", error)
                    self._closing.wait(_RETRY_DELAY)
                    continue
                if names:
                    with self._lock:
                        listeners = list(self._listeners.values())
                    for listener in listeners:
                        listener.deliver(names)
        finally:
            source.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop reading and drop the subscription (slots still joined hear nothing more)."""
        self._closing.set()
        with self._lock:
            thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)


class _Listener:
    """One slot's place in a :class:`SharedNotifications` (a :class:`NotificationSource`)."""

    def __init__(self, shared: SharedNotifications) -> None:
        self._shared = shared
        # A set: a busy slot hears every push to every queue, but only needs to know which queues.
        self._heard: set[str] = set()
        self._ready = threading.Condition(threading.Lock())

    def deliver(self, names: list[str]) -> None:
        with self._ready:
            self._heard.update(names)
            self._ready.notify()

    def wait(self, timeout: float) -> list[str]:
        with self._ready:
            if not self._heard and timeout > 0:
                self._ready.wait(timeout)
            heard = list(self._heard)
            self._heard.clear()
        return heard

    def close(self) -> None:
        self._shared.leave(self)
