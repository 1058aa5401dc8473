"""A private Redis Sentinel deployment on loopback, for tests: a primary, its replicas and sentinels.

::

    with SentinelTopology() as topology:          # 1 primary + 2 replicas + 3 sentinels
        r = Resque(topology.url)                   # redis+sentinel://127.0.0.1:p1,.../resque-primary
        topology.failover()                        # SENTINEL FAILOVER, back once the new primary answers
        topology.kill_primary()                    # SIGKILL: the sentinels elect a replica

Every process is a :class:`~resque_impl.testing.RedisServer` on a free port, stopped by its pid.
Sentinels call a primary down after ``down_after`` seconds without an answer, so a killed primary is
replaced within a few seconds.

After ``SENTINEL FAILOVER`` the old primary keeps running as a primary until the sentinels demote it:
they look at each server every 10 s (``INFO``) and demote a server only once it has reported itself a
primary for 8 s (4 times their 2 s hello period), so about 10 s after ``+switch-master``. Neither
period can be set in sentinel.conf; ``fast_demotion=True`` sets them with ``SENTINEL DEBUG`` (Redis 7+:
a look every second, a 1 s wait), which brings the old primary back as a replica about 1 s after
``+switch-master``.
"""

from __future__ import annotations

import contextlib
import time
from types import TracebackType
from typing import Any

import redis

from resque_impl.testing.redis_server import RedisServer

__all__ = ["SentinelTopology"]

_SYNC_AT_ONCE = ["--repl-diskless-sync-delay", "0"]
#: Seconds a deployment may take to settle before replicas still following an old primary are pointed
#: at the new one.
_NUDGE_AFTER = 10.0
#: ``SENTINEL DEBUG`` settings of ``fast_demotion``: milliseconds between INFO looks at each server,
#: and between hello messages (a server reporting the wrong role is corrected after 4 of these).
_FAST_DEMOTION = ["info-period", "1000", "publish-period", "250"]


class SentinelTopology:
    """A primary, ``replicas`` replicas and ``sentinels`` sentinels monitoring it as ``service``."""

    def __init__(
        self,
        *,
        replicas: int = 2,
        sentinels: int = 3,
        service: str = "resque-primary",
        down_after: float = 1.0,
        fast_demotion: bool = False,
    ) -> None:
        self.service = service
        self.down_after = down_after
        self.fast_demotion = fast_demotion
        # No delay before a full resync: the default 5 s would slow every failover.
        self.servers = [RedisServer(_SYNC_AT_ONCE) for _ in range(1 + replicas)]
        self.sentinels = [RedisServer(["--sentinel"]) for _ in range(sentinels)]
        #: When (epoch seconds) the last :meth:`failover` or :meth:`kill_primary` saw every sentinel
        #: name the new primary (before a killed primary is restarted).
        self.named_at = 0.0

    @property
    def url(self) -> str:
        """``redis+sentinel://`` URL naming every sentinel and the service."""
        hosts = ",".join(f"127.0.0.1:{sentinel.port}" for sentinel in self.sentinels)
        return f"redis+sentinel://{hosts}/{self.service}"

    def start(self, timeout: float = 20.0) -> SentinelTopology:
        """Start the servers, make all but the first replicas of it, start the sentinels, and return
        once every replica is in sync and every sentinel sees them all."""
        primary, *replicas = self.servers
        primary.start()
        for replica in replicas:
            replica.extra_args = [*_SYNC_AT_ONCE, "--replicaof", "127.0.0.1", str(primary.port)]
            replica.start()
        quorum = len(self.sentinels) // 2 + 1
        config = (
            f"sentinel monitor {self.service} 127.0.0.1 {primary.port} {quorum}\n"
            f"sentinel down-after-milliseconds {self.service} {int(self.down_after * 1000)}\n"
            f"sentinel failover-timeout {self.service} 5000\n"
        )
        for sentinel in self.sentinels:
            sentinel.config = config
            sentinel.start()
            if self.fast_demotion:
                with sentinel.client(socket_timeout=5) as client:
                    client.execute_command("SENTINEL", "DEBUG", *_FAST_DEMOTION)
        self._wait_settled(primary.port, timeout)
        return self

    def primary_port(self) -> int:
        """The port of the primary as the first answering sentinel reports it."""
        for sentinel in self.sentinels:
            if sentinel.process is None:
                continue
            with contextlib.suppress(redis.RedisError):
                return int(self._state(sentinel)["port"])
        raise RuntimeError(f"no sentinel answers for {self.service}")

    def server_on(self, port: int) -> RedisServer:
        """The server listening on ``port``."""
        return next(server for server in self.servers if server.port == port)

    def failover(self, timeout: float = 120.0) -> int:
        """``SENTINEL FAILOVER``: promote a replica; returns the new primary's port once every sentinel
        names it, with the other replicas following it. ``timeout`` bounds the asking (a sentinel refuses
        until it has heard from a replica lately) and then the settling: each took up to 15 s on a loaded
        2-core machine, and settling after :meth:`kill_primary` once took over 60 s, so both wait 120 s."""
        old = self.primary_port()
        self._ask_failover(time.monotonic() + timeout)
        # The old primary still runs as one until the sentinels next look at it (up to 10 s later) and
        # demote it; that window is part of what the tests face.
        return self._wait_new_primary(old, timeout, replicas=len(self.servers) - 2)

    def _ask_failover(self, deadline: float) -> None:
        # A sentinel promotes only a replica it has heard from lately (INFO every 10 s when all is
        # well), and refuses with NOGOODSLAVE until then; INPROG while a failover is still running.
        with self.sentinels[0].client(socket_timeout=5) as client:
            while True:
                try:
                    client.sentinel_failover(self.service)
                    return
                except redis.ResponseError as error:
                    if not str(error).startswith(("NOGOODSLAVE", "INPROG")) or time.monotonic() > deadline:
                        raise
                time.sleep(0.2)

    def kill_primary(self, timeout: float = 120.0) -> int:
        """SIGKILL the primary, wait for the sentinels to promote a replica, restart the killed server
        as a replica of the new primary (it kept nothing on disk); returns the new port."""
        old = self.primary_port()
        victim = self.server_on(old)
        victim.kill()
        new = self._wait_new_primary(old, timeout, replicas=len(self.servers) - 2)
        victim.extra_args = [*_SYNC_AT_ONCE, "--replicaof", "127.0.0.1", str(new)]
        victim.start()
        self._wait_settled(new, timeout, len(self.servers) - 1)
        return new

    def _wait_new_primary(self, old: int, timeout: float, *, replicas: int) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # Checked afresh each time: mid-failover a sentinel may name a replica it does not promote.
            with contextlib.suppress(RuntimeError, redis.RedisError):
                port = self.primary_port()
                if port != old and self._settled(port, replicas):
                    self.named_at = time.time()
                    return port
            time.sleep(0.05)
        raise TimeoutError(f"no new primary for {self.service} settled within {timeout} s")

    def _wait_settled(self, primary_port: int, timeout: float, replicas: int | None = None) -> None:
        """Until ``primary_port`` has ``replicas`` (default: all) replicas in sync and every sentinel
        names it, with no failover in progress."""
        deadline = time.monotonic() + max(timeout, 0.1)
        nudge_at = time.monotonic() + _NUDGE_AFTER
        wanted = len(self.servers) - 1 if replicas is None else replicas
        while time.monotonic() < deadline:
            with contextlib.suppress(RuntimeError, redis.RedisError):
                if self._settled(primary_port, wanted):
                    return
                if time.monotonic() > nudge_at:
                    # The sentinels reconfigure a replica still following the old primary in their own
                    # time, which a loaded machine stretched past a minute once: do what they would.
                    nudge_at = time.monotonic() + _NUDGE_AFTER
                    self._follow(primary_port)
            time.sleep(0.05)
        raise TimeoutError(f"the deployment of {self.service} did not settle on port {primary_port} in {timeout} s")

    def _settled(self, primary_port: int, replicas: int) -> bool:
        return self._in_sync(primary_port) >= replicas and all(self._names(s, primary_port) for s in self.sentinels)

    def _names(self, sentinel: RedisServer, port: int) -> bool:
        """Whether ``sentinel`` names the primary on ``port``, with no failover in progress."""
        state = self._state(sentinel)
        return int(state["port"]) == port and "failover_in_progress" not in state["flags"]

    def _state(self, sentinel: RedisServer) -> dict[str, Any]:
        """What ``sentinel`` knows of the primary (``SENTINEL MASTER``)."""
        with sentinel.client(socket_timeout=1) as client:
            return client.sentinel_master(self.service)  # type: ignore[no-any-return]

    def _follow(self, primary_port: int) -> None:
        """``REPLICAOF`` the primary on ``primary_port`` for every running server following another."""
        for server in self.servers:
            if server.port == primary_port or server.process is None:
                continue
            with contextlib.suppress(redis.RedisError), server.client(socket_timeout=1) as client:
                if int(client.info("replication").get("master_port", 0)) != primary_port:
                    client.execute_command("REPLICAOF", "127.0.0.1", str(primary_port))

    def _in_sync(self, primary_port: int) -> int:
        """How many replicas the primary lists as online."""
        with self.server_on(primary_port).client(socket_timeout=1) as client:
            info = client.info("replication")
        return sum(1 for name, value in info.items() if isinstance(value, dict) and value.get("state") == "online")

    def stop(self) -> None:
        """Stop every process (by pid) and delete their directories."""
        for server in (*self.sentinels, *self.servers):
            server.close()

    def __enter__(self) -> SentinelTopology:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
