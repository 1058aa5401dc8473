"""``DashboardView``: everything the dashboard shows, read through the store, as plain JSON-able data.

Each method returns the data of one page: the HTML templates render it and the JSON API returns it
unchanged, so the two never disagree. Nothing here writes to Redis. Reads are bounded whatever the
data: queues and failure lists are read a page at a time (``LRANGE``), sizes with ``LLEN``, keys with
``SCAN``, and filters over failures use the incremental :class:`FailureIndex`. The scheduler's pages
come from :class:`~resque_impl.web.scheduler_view.SchedulerViews`, the stats page's from
:class:`~resque_impl.web.stats_view.StatsViews`.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError
from resque_impl.failure import FailureRecord, MultipleBackend, RedisBackend, RedisMultiQueueBackend
from resque_impl.latency import read_latencies
from resque_impl.scheduler.schedule import ScheduleEntry
from resque_impl.store import Store
from resque_impl.store.dashboard import WorkerDetails
from resque_impl.web.failure_index import FailureIndex, ListIndex
from resque_impl.web.params import Limits, page_start
from resque_impl.web.scheduler_view import SchedulerViews
from resque_impl.web.stats_view import StatsViews
from resque_impl.web.timefmt import age

__all__ = ["STALE_AFTER", "DashboardView", "Limits"]

#: Seconds after which a heartbeat is stale: Ruby Resque prunes such workers.
STALE_AFTER = 300.0


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _loads(raw: bytes | str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply to decode
        return None


def _host_pid_queues(worker_id: str) -> tuple[str, str, list[str]]:
    host, _, rest = worker_id.partition(":")
    pid, _, queues = rest.partition(":")
    return host, pid, [queue for queue in queues.split(",") if queue]


class DashboardView(SchedulerViews, StatsViews):
    """Read-only views over one :class:`Resque` for the dashboard's pages.

    The resque's store must be Redis-backed (a real server or fakeredis): the in-memory store has no
    ``INFO`` or keyspace to browse. ``schedule`` holds the recurring entries of a schedule file, shown
    beside the dynamic schedules kept in Redis.
    """

    def __init__(self, resque: Resque, limits: Limits | None = None, schedule: Sequence[ScheduleEntry] = ()) -> None:
        store = resque.store
        if not isinstance(store, Store):
            raise ConfigurationError(
                f"the dashboard reads Redis directly, but this Resque uses {store.description!r}; "
                "give it a Resque connected to Redis (or to fakeredis.FakeRedis())"
            )
        self.resque = resque
        self.store: Store = store
        self.limits = limits or Limits()
        self.file_schedule = tuple(schedule)
        self.index = FailureIndex(resque.store, self.limits.index_budget, self.limits.index_seconds)

    def now(self) -> float:
        return self.resque.clock.time()

    # -- jobs ----------------------------------------------------------------------------------------
    @staticmethod
    def job(raw: bytes, position: int | None = None) -> dict[str, Any]:
        """A queued payload as the pages show it; an entry that is not a payload keeps its text."""
        data = _loads(raw)
        if isinstance(data, dict) and isinstance(data.get("class"), str):
            extras = {key: value for key, value in data.items() if key not in ("class", "args")}
            args = data.get("args")
            return {
                "position": position,
                "class": data["class"],
                "args": args if isinstance(args, list) else [],
                "extras": extras,
                "raw": None,
            }
        return {"position": position, "class": None, "args": [], "extras": {}, "raw": _text(raw)}

    def _working(self, raw: bytes | None) -> dict[str, Any] | None:
        """A working-on record as the pages show it (``None`` for an idle worker)."""
        if not raw:
            return None
        record = _loads(raw)
        if not isinstance(record, dict):
            return {"queue": None, "run_at": None, "running_for": None, "class": None, "args": [],
                    "raw": _text(raw)}  # fmt: skip
        payload = record.get("payload")
        payload = payload if isinstance(payload, dict) else {}
        args = payload.get("args")
        run_at = record.get("run_at")
        return {
            "queue": record.get("queue") if isinstance(record.get("queue"), str) else None,
            "run_at": run_at if isinstance(run_at, str) else None,
            "running_for": age(run_at, self.now()),
            "class": payload.get("class") if isinstance(payload.get("class"), str) else None,
            "args": args if isinstance(args, list) else [],
            "raw": None,
        }

    # -- overview and queues -------------------------------------------------------------------------
    def queue_sizes(self) -> list[dict[str, Any]]:
        sizes = self.store.queue_sizes(self.resque.queues())
        return [{"name": name, "size": size} for name, size in sizes.items()]

    def stats(self) -> dict[str, Any]:
        """Ruby's ``Resque.info`` plus what the overview adds."""
        info = self.resque.info()
        shown = ("pending", "processed", "failed", "queues", "workers", "working", "servers", "environment")
        return {key: info[key] for key in shown} | {"namespace": self.resque.namespace}

    def overview(self) -> dict[str, Any]:
        working = self.working()
        return {
            "stats": self.stats(),
            "queues": self.queue_sizes(),
            "working": working["working"],
        }

    def queues(self) -> dict[str, Any]:
        """The queues with their sizes and latency (:mod:`resque_impl.latency`: ``latency`` in seconds,
        ``None`` when unknown, and ``latency_state``); with the multi-queue failure backend, each failed
        list too (``email_failed``, ...) as resque-web lists them, with the job queue it filters the
        failed page by."""
        queues = self.queue_sizes()
        latencies = read_latencies(self.store, [queue["name"] for queue in queues], self.now())
        for queue in queues:
            latency = latencies[queue["name"]]
            queue["latency"], queue["latency_state"] = latency.seconds, latency.state
        backend = self._list_backend()
        failed_lists = [
            {
                "name": name,
                "queue": name.removesuffix("_failed") if name != "failed" else None,
                "size": self.store.failure_count(self._key(name)),
            }
            for name in (sorted(backend.queues()) if isinstance(backend, RedisMultiQueueBackend) else [])
        ]
        return {
            "queues": queues,
            "pending": sum(queue["size"] for queue in queues),
            "failed": self.resque.failures.count(),
            "failed_lists": failed_lists,
            "latency_unknown": sum(1 for latency in latencies.values() if not latency.known),
        }

    def queue(self, name: str, start: int, per_page: int) -> dict[str, Any]:
        size = self.store.queue_size(name)
        start = page_start(start, per_page, size)
        raws = self.store.queue_range(name, start, per_page)
        return {
            "queue": name,
            "known": name in self.resque.queues(),
            "size": size,
            "start": start,
            "per_page": per_page,
            "jobs": [self.job(raw, position) for position, raw in enumerate(raws, start)],
        }

    # -- workers -------------------------------------------------------------------------------------
    def _worker(self, details: WorkerDetails) -> dict[str, Any]:
        host, pid, queues = _host_pid_queues(details.id)
        now = self.now()
        heartbeat_age = age(details.heartbeat, now)
        job = self._working(details.working_on)
        return {
            "id": details.id,
            "host": host,
            "pid": pid,
            "queues": queues,
            "state": "working" if job else "idle",
            "started": details.started,
            "started_age": age(details.started, now),
            "heartbeat": details.heartbeat,
            "heartbeat_age": heartbeat_age,
            "stale": heartbeat_age is not None and heartbeat_age > STALE_AFTER,
            "processed": details.processed,
            "failed": details.failed,
            "job": job,
        }

    def _workers(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        details = self.store.worker_details(list(ids))
        return [self._worker(entry) for entry in details.values()]

    def workers(self) -> dict[str, Any]:
        workers = self._workers(self.resque.workers())
        hosts: dict[str, list[dict[str, Any]]] = {}
        for worker in workers:
            hosts.setdefault(worker["host"], []).append(worker)
        return {
            "count": len(workers),
            "working": sum(1 for worker in workers if worker["job"]),
            "hosts": [{"host": host, "workers": members} for host, members in sorted(hosts.items())],
        }

    def worker(self, worker_id: str) -> dict[str, Any]:
        registered = worker_id in self.resque.workers()
        found = self._workers([worker_id])[0] if registered else None
        return {"id": worker_id, "worker": found}

    def working(self) -> dict[str, Any]:
        records = self.store.working_on(self.resque.workers())
        jobs = []
        for worker_id, raw in records.items():
            job = self._working(raw)
            if job is not None:
                host, _, _ = _host_pid_queues(worker_id)
                jobs.append({"worker": worker_id, "host": host, **job})
        jobs.sort(key=lambda job: job["run_at"] or "")
        return {"working": jobs, "workers": len(records)}

    # -- failures ------------------------------------------------------------------------------------
    def _list_backend(self) -> RedisBackend | RedisMultiQueueBackend | None:
        """The failure backend when it keeps records in Redis lists (the fast paths need that)."""
        backend: Any = self.resque.failures
        if isinstance(backend, MultipleBackend):
            backend = backend.primary
        return backend if isinstance(backend, RedisBackend | RedisMultiQueueBackend) else None

    def failure(self, record: FailureRecord) -> dict[str, Any]:
        payload = record.payload
        return {
            "id": record.id,
            "list": record.list_name,
            "failed_at": record.failed_at,
            "failed_age": age(record.failed_at, self.now()),
            "queue": record.queue,
            "class": record.class_name,
            "args": record.args,
            "payload": payload if not isinstance(payload, dict) else None,
            "exception": record.exception,
            "error": record.error,
            "backtrace": record.backtrace,
            "worker": record.worker,
            "retried_at": record.retried_at,
        }

    def failed(
        self, start: int, per_page: int, queue: str | None = None, class_name: str | None = None
    ) -> dict[str, Any]:
        """A page of failure records, newest first, optionally of one job queue and/or class."""
        backend = self._list_backend()
        filtered = queue is not None or class_name is not None
        coverage: dict[str, Any] | None = None
        if backend is None:
            total = self.resque.failures.count(queue, class_name)
            start = page_start(start, per_page, total)
            records = list(self.resque.failures.each(start, per_page, queue=queue, class_name=class_name))
        elif not filtered:
            lists = [(name, self.store.failure_count(self._key(name))) for name in backend.queues()]
            total = sum(size for _, size in lists)
            start = page_start(start, per_page, total)
            records = self._newest(lists, start, per_page)
        indexes = self._indexes(backend.queues()) if backend is not None else {}
        if backend is not None and filtered:
            total, start, records, coverage = self._filtered(indexes, start, per_page, queue, class_name)
        summary = self._summary(indexes) if backend is not None else None
        return {
            "total": total,
            "start": start,
            "per_page": per_page,
            "filters": {"queue": queue, "class": class_name},
            "records": [self.failure(record) for record in records],
            "summary": summary,
            "coverage": coverage or (summary["coverage"] if summary else None),
            "lists": backend.queues() if backend is not None else [],
        }

    def _key(self, list_name: str) -> str:
        return self.store.keys.key(list_name)

    def _newest(self, lists: list[tuple[str, int]], start: int, count: int) -> list[FailureRecord]:
        """Records ``start`` to ``start + count - 1`` counted from the newest, across the lists taken
        as one in list-name order."""
        records: list[FailureRecord] = []
        skip = start
        for name, size in reversed(lists):
            if skip >= size:
                skip -= size
                continue
            want = min(count - len(records), size - skip)
            first = size - skip - want
            raws = self.store.failure_range(self._key(name), first, want)
            chunk = [FailureRecord.read(name, index, raw) for index, raw in enumerate(raws, first)]
            records.extend(reversed(chunk))
            skip = 0
            if len(records) >= count:
                break
        return records

    def _indexes(self, lists: list[str]) -> dict[str, ListIndex]:
        """Each failure list's index, grown by this request's budget (once per request)."""
        return {name: self.index.refresh(self._key(name)) for name in lists}

    def _filtered(
        self, indexes: dict[str, ListIndex], start: int, count: int, queue: str | None, class_name: str | None
    ) -> tuple[int, int, list[FailureRecord], dict[str, Any]]:
        matches: list[tuple[str, int]] = []
        indexed = size = 0
        for name, index in reversed(indexes.items()):
            indexed += index.hi - index.lo
            size += index.size
            for position, cls, job_queue in index.newest_first():
                if (queue is None or job_queue == queue) and (class_name is None or cls == class_name):
                    matches.append((name, position))
        total = len(matches)
        start = page_start(start, count, total)
        records: list[FailureRecord] = []
        for name, position in matches[start : start + count]:
            key = self._key(name)
            raws = self.store.failure_range(key, position, 1)
            record = FailureRecord.read(name, position, raws[0]) if raws else None
            if (
                record is None
                or (queue is not None and record.queue != queue)
                or (class_name is not None and record.class_name != class_name)
            ):
                self.index.forget(key)
                continue
            records.append(record)
        coverage = {"indexed": indexed, "total": size, "complete": indexed == size}
        return total, start, records, coverage

    def _summary(self, indexes: dict[str, ListIndex]) -> dict[str, Any]:
        """Records per job class and per queue (from the index; see ``coverage``)."""
        classes: Counter[str | None] = Counter()
        queues: Counter[str | None] = Counter()
        indexed = size = 0
        for index in indexes.values():
            classes.update(index.classes)
            queues.update(index.queues)
            indexed += index.hi - index.lo
            size += index.size
        most = self.limits.max_groups
        return {
            "classes": [{"name": name, "count": n} for name, n in classes.most_common(most)],
            "queues": [{"name": name, "count": n} for name, n in queues.most_common(most)],
            "more_classes": max(0, len(classes) - most),
            "more_queues": max(0, len(queues) - most),
            "coverage": {"indexed": indexed, "total": size, "complete": indexed == size},
        }
