"""The dashboard under load: ``resque-impl web`` as its own process, and a thread fetching every page
(HTML and JSON twin) over and over, recording each answer's status and time."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any
from urllib.parse import quote

from tests.chaos.ledger import percentile
from tests.chaos.procs import Procs, wait_for

#: Pages with no parameters: each is fetched as HTML and as its ``/api`` twin where it has one.
_PAGES = ("/overview", "/working", "/queues", "/workers", "/failed", "/stats", "/stats/keys")
#: Seconds between two rounds of every page.
PAUSE = 0.5
_OTHER = ("/", "/overview?partial=1", "/failed?class=ChaosWork", "/stats.txt", "/metrics", "/health")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_dashboard(procs: Procs, url: str) -> str:
    """Start ``resque-impl web`` on a free port; returns its base URL once ``/health`` answers."""
    port = _free_port()
    proc = procs.cli("web", "--redis", url, "web", "--port", str(port))
    base = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        assert proc.running(), f"the dashboard exited:\n{proc.tail()}"
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    wait_for(healthy, "the dashboard to answer", 30)
    return base


class DashboardPoller:
    """Fetches every dashboard page in turn, on a thread, until :meth:`stop`."""

    def __init__(self, base: str, queue: str) -> None:
        self.base = base
        self.queue = queue
        self.statuses: Counter[int] = Counter()
        self.failures: list[dict[str, Any]] = []
        self.seconds: list[float] = []
        self.pages: set[str] = set()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dashboard-poller", daemon=True)

    def _paths(self) -> list[str]:
        paths = [*_PAGES, *("/api" + page for page in _PAGES), *_OTHER]
        paths += [f"/queues/{self.queue}", f"/api/queues/{self.queue}", "/stats/key?name=resque:queues"]
        workers = self._json("/api/workers")
        ids = [worker["id"] for host in workers.get("hosts", []) for worker in host.get("workers", [])]
        if ids:
            paths += [f"/workers/{quote(ids[0], safe='')}", f"/api/workers/{quote(ids[0], safe='')}"]
        return paths

    def _json(self, path: str) -> dict[str, Any]:
        status, body = self._get(path)
        if status != 200:
            return {}
        try:
            data = json.loads(body)
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _get(self, path: str) -> tuple[int, bytes]:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        except OSError as error:
            status, body = 0, str(error).encode()
        self.seconds.append(time.monotonic() - started)
        self.statuses[status] += 1
        self.pages.add(path.split("?", maxsplit=1)[0])
        if status != 200:
            self.failures.append({"path": path, "status": status, "body": body[:500].decode("utf-8", "replace")})
        return status, body

    def _run(self) -> None:
        # Every page in turn, then a pause: a few people watching the dashboard, not a load test.
        while not self._stopping.wait(PAUSE):
            for path in self._paths():
                if self._stopping.is_set():
                    return
                self._get(path)

    def start(self) -> DashboardPoller:
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop polling; returns the figures (requests by status, latency, any non-200 answers)."""
        self._stopping.set()
        self._thread.join(60)
        return {
            "requests": sum(self.statuses.values()),
            "pages": len(self.pages),
            "by_status": {str(status): count for status, count in sorted(self.statuses.items())},
            "latency_p50_s": round(percentile(self.seconds, 0.5) or 0.0, 3),
            "latency_p99_s": round(percentile(self.seconds, 0.99) or 0.0, 3),
            "latency_max_s": round(max(self.seconds, default=0.0), 3),
            "non_200": self.failures[:20],
        }
