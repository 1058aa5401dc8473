"""Start and stop a private ``redis-server`` on a free loopback port, for tests.

::

    with RedisServer() as server:
        client = redis.Redis.from_url(server.url)

The server keeps nothing on disk unless asked (``extra_args``), listens only on 127.0.0.1, and is
stopped by its own pid, so a test never touches a Redis it did not start.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import redis

__all__ = ["RedisServer", "RedisServerUnavailable"]

INSTALL_HINT = "install it with `apt-get install -y redis-server` (Debian/Ubuntu) or `brew install redis`"


class RedisServerUnavailable(RuntimeError):
    """No ``redis-server`` binary, or it would not start; the message says how to fix it."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process owned by the caller.

    :param extra_args: more server options, e.g. ``["--appendonly", "yes"]``.
    :param binary: the executable (default: ``redis-server`` on PATH).
    :param config: the text of a configuration file to start from (a sentinel needs one it can rewrite).
    """

    def __init__(self, extra_args: list[str] | None = None, binary: str = "redis-server", config: str = "") -> None:
        self.binary = shutil.which(binary) or ""
        self.extra_args = list(extra_args or [])
        self.config = config
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp = tempfile.TemporaryDirectory(prefix="resque-redis-")
        self.dir = Path(self._tmp.name)

    @staticmethod
    def available(binary: str = "redis-server") -> bool:
        """Whether a server binary is on PATH."""
        return shutil.which(binary) is not None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def client(self, **kwargs: Any) -> redis.Redis:
        """A new client for this server."""
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def start(self, timeout: float = 10.0) -> RedisServer:
        """Start the server (on the port it had before, after a :meth:`stop`) and wait until it answers."""
        if not self.binary:
            raise RedisServerUnavailable(f"redis-server was not found on PATH; {INSTALL_HINT}")
        for _attempt in range(5):
            port = self.port or _free_port()
            config = []
            if self.config:
                (self.dir / "redis.conf").write_text(self.config)
                config = [str(self.dir / "redis.conf")]
            command = [
                self.binary, *config, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir), "--daemonize", "no",
                "--logfile", str(self.dir / "redis.log"), *self.extra_args,
            ]  # fmt: skip
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready(port, timeout):
                self.port = port
                return self
            self._terminate()
        log = (self.dir / "redis.log").read_text(errors="replace")[-2000:] if (self.dir / "redis.log").exists() else ""
        raise RedisServerUnavailable(f"redis-server did not start; its log ends with:\n{log}")

    def _wait_ready(self, port: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    return False
                with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                    if client.ping():
                        return True
                time.sleep(0.02)
            return False
        finally:
            client.close()

    def _terminate(self, timeout: float = 5.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def stop(self) -> None:
        """Stop the server by its pid (SIGTERM, then SIGKILL after 5 s)."""
        self._terminate()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def close(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
