"""A private Redis Cluster on loopback, for tests: 3 primaries with a replica each.

::

    with ClusterTopology() as cluster:             # redis-server --cluster-enabled yes, x6
        r = Resque(cluster.url, namespace="{resque}")   # redis+cluster://127.0.0.1:p1,...
        cluster.failover_slot_of("{resque}")        # CLUSTER FAILOVER on that slot's replica

Every node is a :class:`~resque_impl.testing.RedisServer` on a free port, stopped by its pid; the
cluster is formed with ``redis-cli --cluster create``.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from types import TracebackType

import redis
from redis.crc import key_slot

from resque_impl.testing.redis_server import INSTALL_HINT, RedisServer, RedisServerUnavailable

__all__ = ["ClusterTopology"]

#: Seconds Redis gives a manual failover (``CLUSTER_MF_TIMEOUT``) before it quietly abandons it.
_MANUAL_FAILOVER_LIMIT = 5.5


class ClusterTopology:
    """``primaries`` primaries with ``replicas`` replicas each, every slot covered."""

    def __init__(self, *, primaries: int = 3, replicas: int = 1) -> None:
        self.replicas = replicas
        args = ["--cluster-enabled", "yes", "--cluster-node-timeout", "1000", "--repl-diskless-sync-delay", "0"]
        self.servers = [RedisServer(list(args)) for _ in range(primaries * (1 + replicas))]
        #: When (epoch seconds) the last failover was seen done (before a killed node is restarted).
        self.named_at = 0.0

    @property
    def url(self) -> str:
        """``redis+cluster://`` URL naming every node."""
        return "redis+cluster://" + ",".join(f"127.0.0.1:{server.port}" for server in self.servers)

    def start(self, timeout: float = 30.0) -> ClusterTopology:
        """Start the nodes, form the cluster, and return once every node reports it ``ok``."""
        cli = shutil.which("redis-cli")
        if cli is None:
            raise RedisServerUnavailable(f"redis-cli was not found on PATH; {INSTALL_HINT}")
        for server in self.servers:
            server.start()
        nodes = [f"127.0.0.1:{server.port}" for server in self.servers]
        command = [cli, "--cluster", "create", *nodes, "--cluster-replicas", str(self.replicas), "--cluster-yes"]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while not self._settled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster did not become ok within {timeout} s")
            time.sleep(0.05)
        return self

    def _settled(self) -> bool:
        """Every node says the cluster is ok, and every replica is in sync with its primary."""
        if not all(self._state(server) == "ok" for server in self.servers):
            return False
        following = 0
        for server in self.servers:
            with contextlib.suppress(redis.RedisError), server.client(socket_timeout=2) as client:
                info = client.info("replication")
                following += info.get("role") == "slave" and info.get("master_link_status") == "up"
        return following == len(self.servers) - len(self.servers) // (1 + self.replicas)

    def owner_of(self, key: str) -> RedisServer:
        """The primary serving ``key``'s slot."""
        return self._owner_as_seen_by(key, next(server for server in self.servers if server.process is not None))

    def failover_slot_of(self, key: str, timeout: float = 40.0) -> RedisServer:
        """``CLUSTER FAILOVER`` on a replica of ``key``'s primary; returns the new primary once every
        node agrees on it."""
        deadline = time.monotonic() + timeout
        replica = self._replica_of(self.owner_of(key), deadline)
        asked_at = -float("inf")
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if self.owner_of(key).port == replica.port:
                    if self._settled():
                        self.named_at = time.time()
                        return replica
                elif time.monotonic() - asked_at > _MANUAL_FAILOVER_LIMIT:
                    # Redis quietly abandons a manual failover the primary cannot finish in its own 5 s
                    # (a loaded machine, a replica catching up); ask again rather than wait it out.
                    asked_at = time.monotonic()
                    with replica.client(socket_timeout=2) as client:
                        client.execute_command("CLUSTER", "FAILOVER")
            time.sleep(0.05)
        raise TimeoutError(f"CLUSTER FAILOVER of {key!r}'s slot did not finish within {timeout} s")

    def _replica_of(self, primary: RedisServer, deadline: float) -> RedisServer:
        """A replica of ``primary`` in sync with it, waiting until ``deadline`` for one (after an earlier
        failover or restart a node may not have rejoined yet)."""
        while True:
            with contextlib.suppress(redis.RedisError):
                with primary.client(socket_timeout=2) as client:
                    lines = client.execute_command("CLUSTER", "REPLICAS", self._id(primary))
                replica_ids = {bytes(line).split()[0].decode() for line in lines}
                replicas = [server for server in self.servers if self._id(server) in replica_ids]
                if replicas and self._settled():
                    return replicas[0]
            if time.monotonic() > deadline:
                raise TimeoutError(f"no replica of the primary at port {primary.port} is in sync")
            time.sleep(0.05)

    def kill_slot_owner(self, key: str, timeout: float = 60.0) -> RedisServer:
        """SIGKILL the primary of ``key``'s slot, wait for its replica to take over, restart the killed
        node (it rejoins as a replica, from its nodes.conf); returns the new primary."""
        victim = self.owner_of(key)
        victim.kill()
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(redis.RedisError, LookupError, StopIteration):
                new = self._owner_as_seen_by(key, next(s for s in self.servers if s is not victim))
                if new.port != victim.port:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"no replica took over {key!r}'s slot within {timeout} s")
            time.sleep(0.05)
        self.named_at = time.time()
        victim.start()
        while not self._settled():
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cluster did not settle within {timeout} s of the kill")
            time.sleep(0.05)
        return new

    def _owner_as_seen_by(self, key: str, server: RedisServer) -> RedisServer:
        slot = key_slot(key.encode())
        with server.client(socket_timeout=2) as client:
            for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                if start <= slot <= end:
                    return self._server_on(int(primary[1]))
        raise LookupError(f"no node serves slot {slot}")

    def _server_on(self, port: int) -> RedisServer:
        return next(server for server in self.servers if server.port == port)

    @staticmethod
    def _id(server: RedisServer) -> str:
        with server.client(socket_timeout=2) as client:
            return bytes(client.execute_command("CLUSTER", "MYID")).decode()

    @staticmethod
    def _state(server: RedisServer) -> str:
        with contextlib.suppress(redis.RedisError), server.client(socket_timeout=2) as client:
            return str(client.cluster("info").get("cluster_state", ""))
        return ""

    def stop(self) -> None:
        """Stop every node (by pid) and delete their directories."""
        for server in self.servers:
            server.close()

    def __enter__(self) -> ClusterTopology:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
