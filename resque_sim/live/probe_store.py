"""Every Redis key and command of a live run, in one place: the checks before it, the probe jobs it
pushes, the probe records it reads, and the clean-up after it.

A live run touches only its namespace: it pushes probe jobs through the library's client (so payloads
and queue bookkeeping are Resque's own), and owns two keys of its own, ``<ns>:resque-sim:run:<run>`` (set
while it runs, so a second run on the same namespace is refused) and ``<ns>:resque-sim:probe:<run>``
(the probes' records).  Both are deleted at the end, with any probe job still queued.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from typing import Any

import redis

from resque_impl import Resque, ResqueError
from resque_impl.codec import decode_payload
from resque_impl.connection import connect
from resque_impl.errors import PayloadDecodeError
from resque_impl.keys import DEFAULT_NAMESPACE, Keys
from resque_impl.store import Store
from resque_sim.live.probe import PROBE_CLASS, probe_records_key

__all__ = ["LiveError", "LiveStore"]


def _gone_from_this_host(worker_id: str) -> bool:
    """Whether ``worker_id`` names a process of this host that no longer exists: a registration left by a
    killed worker, which the next worker to start prunes, and which must not block a run."""
    host, _, rest = worker_id.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


class LiveError(RuntimeError):
    """A live run cannot start as asked; the message says what to do instead."""


class LiveStore:
    """The Redis a live run replays into.  :meth:`open` checks it answers."""

    def __init__(self, resque: Resque, url: str) -> None:
        #: Payload class names of this run's probe jobs (the scenario's, when its workers know them).
        self.classes: set[str] = {PROBE_CLASS}
        self.resque = resque
        self.url = url
        self.namespace = resque.namespace
        self._client: redis.Redis = resque.redis

    @classmethod
    def open(cls, url: str) -> LiveStore:
        """Connect to ``url`` (its namespace, or ``resque``); :class:`LiveError` if it does not answer."""
        try:
            connection = connect(url)
            store = Store(connection.client, Keys(connection.namespace or DEFAULT_NAMESPACE), connection.description)
            store.client.ping()
        except (ResqueError, redis.RedisError) as error:
            raise LiveError(f"cannot reach Redis at {url} ({error}); start it or fix the URL") from None
        return cls(Resque(store=store), url)

    # -- before the run ----------------------------------------------------------------------------
    def _probe_keys(self) -> list[str]:
        return sorted(key.decode() for key in self._client.scan_iter(match=f"{self.namespace}:resque-sim:*"))

    def refusal(self, *, attach: bool, allow_flush: bool) -> str | None:
        """Why a live run must not start here, or ``None``.  ``allow_flush`` first empties the namespace's
        queues and deletes other runs' probe keys (never anything else)."""
        queued = {queue: size for queue, size in self.resque.store.queue_sizes(self.resque.queues()).items() if size}
        probe_keys = self._probe_keys()
        if allow_flush:
            for queue in queued:
                self.resque.remove_queue(queue)
            if probe_keys:
                self._client.delete(*probe_keys)
            queued, probe_keys = {}, []
        where = f"namespace {self.namespace!r} at {self.url}"
        if queued:
            return (
                f"the {where} holds {sum(queued.values())} queued jobs (in {', '.join(sorted(queued))}); "
                "use an empty namespace (e.g. ?namespace=sim or host:port/sim) or pass --allow-flush to remove them"
            )
        if probe_keys:
            return (
                f"the {where} holds another live run's probe keys ({probe_keys[0]}); wait for it to end, "
                "or pass --allow-flush to delete them"
            )
        workers = [worker_id for worker_id in self.resque.workers() if not _gone_from_this_host(worker_id)]
        if workers and not attach:
            return (
                f"{len(workers)} workers are registered in the {where} and would take the probe jobs; "
                "stop them, or pass --attach to measure them instead of starting workers"
            )
        if not workers and attach:
            return (
                f"--attach needs workers serving the {where}, and none is registered; start some "
                "(resque-impl work --jobs resque_sim.live.probe, or a Ruby worker requiring the file "
                "resque-sim --ruby-probe prints), or drop --attach"
            )
        return None

    def begin(self, run: str) -> None:
        """Mark ``run`` as under way, so a second live run on this namespace is refused."""
        marker = {"host": socket.gethostname(), "pid": os.getpid(), "started": self.server_time()}
        self._client.set(self._run_key(run), json.dumps(marker))

    # -- during the run ----------------------------------------------------------------------------
    def server_time(self) -> float:
        """Redis's clock, the one probe records use."""
        return self.resque.store.server_time()

    def push(self, queue: str, args: Sequence[Any], job_class: str = PROBE_CLASS) -> None:
        """Enqueue one probe job on ``queue`` under payload class ``job_class`` (Resque's ``push``: no
        hooks); ``job_class`` must be in :attr:`classes`."""
        self.resque.push(queue, {"class": job_class, "args": list(args)})

    def finished_count(self, run: str) -> int:
        """How many probe jobs of ``run`` have finished."""
        return int(self._client.llen(probe_records_key(self.namespace, run)))

    def worker_ids(self) -> list[str]:
        return self.resque.workers()

    def busy_with(self, run: str) -> int:
        """How many registered workers are working on a probe job of ``run`` now."""
        busy = 0
        for record in self.resque.working().values():
            try:
                payload = json.loads(record).get("payload") or {}
            except ValueError:
                continue
            args = payload.get("args") or [None]
            busy += payload.get("class") in self.classes and args[0] == run
        return busy

    # -- after the run -----------------------------------------------------------------------------
    def records(self, run: str) -> list[dict[str, Any]]:
        """Every probe record of ``run``, in the order they were written."""
        raw = self._client.lrange(probe_records_key(self.namespace, run), 0, -1)
        return [json.loads(item) for item in raw]

    def remove_queued(self, run: str, queues: Iterable[str]) -> int:
        """Take ``run``'s probe jobs that no worker has reserved out of ``queues``; returns how many."""

        def ours(raw: bytes) -> bool:
            try:
                payload = decode_payload(raw)
            except PayloadDecodeError:
                return False
            return payload.class_name in self.classes and bool(payload.args) and payload.args[0] == run

        return sum(self.resque.store.remove_matching(queue, ours) for queue in queues)

    def end(self, run: str) -> None:
        """Delete ``run``'s probe keys."""
        self._client.delete(self._run_key(run), probe_records_key(self.namespace, run))

    def close(self) -> None:
        self._client.close()

    def _run_key(self, run: str) -> str:
        return f"{self.namespace}:resque-sim:run:{run}"
