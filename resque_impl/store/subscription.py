"""Push notifications for instant workers: a subscription to the channel producers publish queue names on."""

from __future__ import annotations

import contextlib
from typing import Any

import redis

from resque_impl.errors import ResqueConnectionError

__all__ = ["Subscription"]


class Subscription:
    """Notifications of pushes (queue names) published by our producers on :attr:`Keys.notify_channel`.

    Uses one dedicated connection; after a connection error it resubscribes on the next :meth:`wait`,
    and so it does once a Sentinel client has learnt of a new primary (a demoted primary keeps its
    subscribers, but nobody publishes there any more).
    """

    def __init__(self, client: Any, channel: str, description: str) -> None:
        self._client = client
        self._channel = channel
        self._description = description
        self._pubsub: Any = None

    def wait(self, timeout: float) -> list[str]:
        """Queue names pushed since the last call, waiting up to ``timeout`` seconds for the first.

        May return early with nothing (e.g. after subscribing); callers loop until their deadline.
        """
        try:
            if self._pubsub is not None and self._primary_moved():
                self.close()
            if self._pubsub is None:
                self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(self._channel)
            names: list[str] = []
            message = self._pubsub.get_message(timeout=max(0.0, timeout))
            while message is not None:
                data = message.get("data")
                if isinstance(data, bytes):
                    names.append(data.decode("utf-8", "replace"))
                message = self._pubsub.get_message(timeout=0.0)
            return names
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            self.close()
            raise ResqueConnectionError(f"cannot reach {self._description}: {error}") from error

    def _primary_moved(self) -> bool:
        # A Sentinel pool records the primary's address each time one of its connections asks the
        # sentinels; other clients have no such attribute.
        address = getattr(self._client.connection_pool, "master_address", None)
        connection = getattr(self._pubsub, "connection", None)
        return address is not None and connection is not None and (connection.host, connection.port) != address

    def close(self) -> None:
        """Drop the connection (a later :meth:`wait` reconnects)."""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            # An error here means the connection is already gone; nothing else to release.
            with contextlib.suppress(redis.RedisError, OSError):
                pubsub.close()
