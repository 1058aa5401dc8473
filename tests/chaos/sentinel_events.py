"""What the sentinels announce during a chaos run, with when each announcement arrived, so that a
failover's figures can say where its time went: promotion, ``+switch-master``, and the old primary's
demotion (``+convert-to-slave``) after a ``SENTINEL FAILOVER``.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import redis

from resque_impl.testing.sentinel import SentinelTopology

__all__ = ["Announcement", "SentinelEvents"]

#: The sentinel channels that mark the steps of a failover.
CHANNELS = ("+promoted-slave", "+switch-master", "+convert-to-slave")


@dataclass(frozen=True)
class Announcement:
    at: float
    channel: str
    data: str


class SentinelEvents:
    """Listens to every sentinel of ``topology`` on :data:`CHANNELS` from a thread of its own, while
    entered."""

    def __init__(self, topology: SentinelTopology) -> None:
        self.topology = topology
        self.heard: list[Announcement] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._listen, args=(sentinel.port,), name="sentinel-events", daemon=True)
            for sentinel in topology.sentinels
        ]

    def first(self, channel: str, after: float, port: int) -> float | None:
        """When (epoch seconds) any sentinel first announced ``channel`` about the server on ``port``
        after ``after``; ``None`` if none did."""
        return min(
            (heard.at for heard in self.heard if heard.channel == channel and heard.at > after and _names(heard, port)),
            default=None,
        )

    def _listen(self, port: int) -> None:
        with redis.Redis(host="127.0.0.1", port=port, socket_timeout=5) as client:
            subscription = client.pubsub(ignore_subscribe_messages=True)
            subscription.subscribe(*CHANNELS)
            while not self._stop.is_set():
                try:
                    message = subscription.get_message(timeout=0.2)
                except redis.RedisError:
                    # A sentinel going away ends its announcements, not the run.
                    self._stop.wait(0.2)
                    continue
                if message is not None:
                    self.heard.append(Announcement(time.time(), message["channel"].decode(), message["data"].decode()))
            with contextlib.suppress(redis.RedisError):
                subscription.close()

    def __enter__(self) -> SentinelEvents:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)


def _names(heard: Announcement, port: int) -> bool:
    """Whether the announcement is about the server on ``port``: the first ``ip port`` of its data
    (``+switch-master``: the old primary; ``+convert-to-slave``: the server converted, before the
    primary it now follows)."""
    words = heard.data.split()
    first = next((n for n in range(len(words) - 1) if words[n] == "127.0.0.1" and words[n + 1].isdigit()), None)
    return first is not None and words[first + 1] == str(port)
