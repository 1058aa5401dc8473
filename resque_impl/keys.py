"""Every Redis key name the library uses, and nowhere else.

Names follow Ruby Resque 3.0 and resque-scheduler 5.0 exactly (``<namespace>:<key>``), so processes
of both languages share one Redis. Keys that exist only in this implementation are marked *extension*;
Ruby Resque never reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

__all__ = ["DEFAULT_NAMESPACE", "Keys"]

DEFAULT_NAMESPACE = "resque"


@dataclass(frozen=True)
class Keys:
    """Key names for one namespace (``resque`` unless configured)."""

    namespace: str = DEFAULT_NAMESPACE

    #: What :meth:`delayed_bucket` puts before a timestamp.
    DELAYED_BUCKET_PREFIX: ClassVar[str] = "delayed:"

    def key(self, name: str) -> str:
        """Any key inside the namespace."""
        return f"{self.namespace}:{name}"

    @property
    def hash_tag(self) -> str | None:
        """The namespace's Redis Cluster hash tag (``resque`` for ``{resque}``), or ``None``.

        With one, every key of the namespace hashes to that tag's slot, so multi-key commands and Lua
        scripts never cross slots (Redis hashes only what is between a key's first ``{`` and the
        first ``}`` after it, when that is not empty).
        """
        start = self.namespace.find("{")
        end = self.namespace.find("}", start + 1) if start >= 0 else -1
        return self.namespace[start + 1 : end] if end > start + 1 else None

    @property
    def patterns(self) -> tuple[str, ...]:
        """SCAN patterns that together match every key of this namespace (the in-flight lists of
        :meth:`inflight` start with a hash tag), e.g. to delete a test's namespace."""
        return (self.key("*"), "{" + self.key("*"))

    # -- queues -----------------------------------------------------------------------------------
    @property
    def queues(self) -> str:
        """Set of every queue name ever pushed to."""
        return self.key("queues")

    def queue(self, queue: str) -> str:
        """List of payloads waiting in ``queue`` (RPUSH to enqueue, LPOP to reserve)."""
        return self.key(f"queue:{queue}")

    @property
    def queue_prefix(self) -> str:
        """What :meth:`queue` puts before a queue name."""
        return self.key("queue:")

    @property
    def notify_channel(self) -> str:
        """*Extension*: pub/sub channel on which our producers announce pushes (message = queue name)."""
        return self.key("notify")

    # -- workers ----------------------------------------------------------------------------------
    @property
    def workers(self) -> str:
        """Set of registered worker ids (``host:pid:queues``)."""
        return self.key("workers")

    def worker(self, worker_id: str) -> str:
        """The working-on record of a busy worker."""
        return self.key(f"worker:{worker_id}")

    def worker_started(self, worker_id: str) -> str:
        """When a worker registered."""
        return self.key(f"worker:{worker_id}:started")

    @property
    def heartbeats(self) -> str:
        """Hash of worker id -> last heartbeat time."""
        return self.key("workers:heartbeat")

    @property
    def pause_all(self) -> str:
        """``"true"`` here pauses every worker."""
        return self.key("pause-all-workers")

    @property
    def pruning_lock(self) -> str:
        """Held (SET NX EX 60) by the one worker pruning dead workers."""
        return self.key("pruning_dead_workers_in_progress")

    def retiring(self, worker_id: str) -> str:
        """*Extension*: held (SET NX, 30 s) by the one process retiring the dead worker ``worker_id``."""
        return self.key(f"pruning:{worker_id}")

    def inflight(self, queue: str, worker_id: str) -> str:
        """*Extension*: reliable fetch's per-worker in-flight list for one queue.

        Hash-tagged with its queue (``{resque:queue:<q>}:inflight:<worker id>``) to keep it in the
        queue's Redis Cluster slot; under a namespace with a hash tag of its own (:attr:`hash_tag`),
        where every key shares one slot, it is ``<namespace>:inflight:<worker id>:queue:<q>``.
        """
        if self.hash_tag is not None:
            return self.key(f"inflight:{worker_id}:queue:{queue}")
        return "{" + self.queue(queue) + "}" + f":inflight:{worker_id}"

    def inflight_queues(self, worker_id: str) -> str:
        """*Extension*: set of queues in which ``worker_id`` may hold in-flight jobs."""
        return self.key(f"inflight:{worker_id}")

    @property
    def recoveries(self) -> str:
        """*Extension*: hash of payload -> times it was recovered from a dead worker."""
        return self.key("inflight:recoveries")

    # -- stats ------------------------------------------------------------------------------------
    def stat(self, name: str) -> str:
        """A counter such as ``stat:processed``."""
        return self.key(f"stat:{name}")

    def worker_stat(self, name: str, worker_id: str) -> str:
        """A per-worker counter such as ``stat:processed:<worker id>``."""
        return self.key(f"stat:{name}:{worker_id}")

    # -- failures ---------------------------------------------------------------------------------
    @property
    def failed(self) -> str:
        """The ``redis`` failure backend's list of failure records."""
        return self.key("failed")

    def failed_queue(self, queue: str) -> str:
        """The ``redis_multi_queue`` backend's per-queue failure list, ``<queue>_failed``."""
        return self.key(f"{queue}_failed")

    @property
    def failed_queues(self) -> str:
        """The ``redis_multi_queue`` backend's set of failure list names."""
        return self.key("failed_queues")

    # -- resque-scheduler -------------------------------------------------------------------------
    @property
    def delayed_schedule(self) -> str:
        """Sorted set of epoch seconds that have delayed jobs (member = score = the timestamp)."""
        return self.key("delayed_queue_schedule")

    @classmethod
    def delayed_bucket(cls, timestamp: int) -> str:
        """``delayed:<ts>`` without the namespace: what the ``timestamps:<item>`` sets hold."""
        return f"{cls.DELAYED_BUCKET_PREFIX}{timestamp}"

    def delayed(self, timestamp: int) -> str:
        """List of delayed items due at ``timestamp``."""
        return self.key(self.delayed_bucket(timestamp))

    def delayed_timestamps(self, item: str) -> str:
        """Set of ``delayed:<ts>`` names holding the encoded ``item``."""
        return self.key(f"timestamps:{item}")

    @property
    def delayed_timestamps_prefix(self) -> str:
        """What :meth:`delayed_timestamps` puts before an item (Lua scripts build the key from it)."""
        return self.key("timestamps:")

    @property
    def scheduler_master_lock(self) -> str:
        """resque-scheduler's master lock; its raw name repeats the namespace."""
        return self.scheduler_master_lock_with_prefix("")

    def scheduler_master_lock_with_prefix(self, prefix: str) -> str:
        """The master lock under ``RESQUE_SCHEDULER_MASTER_LOCK_PREFIX`` (empty: :attr:`scheduler_master_lock`)."""
        infix = f"{prefix}:" if prefix else ""
        return self.key(f"{self.namespace}:{infix}resque_scheduler_master_lock")

    @property
    def schedules(self) -> str:
        """Hash of persistent (dynamic) schedule name -> encoded definition.

        resque-scheduler 4.2 renamed it from ``schedules`` to ``persistent_schedules``; schedules loaded
        from a YAML file are kept in each scheduler process, not in Redis.
        """
        return self.key("persistent_schedules")

    @property
    def schedules_changed(self) -> str:
        """Set of recurring schedule names changed since the scheduler last loaded them."""
        return self.key("schedules_changed")

    @property
    def last_enqueued_at(self) -> str:
        """Hash of recurring schedule name -> when it last enqueued (Ruby ``Time#to_s``)."""
        return self.key("delayed:last_enqueued_at")

    @property
    def schedule_ticks(self) -> str:
        """*Extension*: hash of recurring schedule name -> epoch of the last tick fired (or the anchor of
        an ``every`` schedule), so that each tick fires once however many schedulers run."""
        return self.key("schedule_ticks")

    # -- plugins and metrics (extensions) -----------------------------------------------------------
    def unique_job(self, class_name: str, digest: str) -> str:
        """*Extension*: held while a job with this identity is queued or running (unique plugin)."""
        return self.key(f"plugins:unique:{class_name}:{digest}")

    def job_lock(self, name: str) -> str:
        """*Extension*: held while a job holding lock ``name`` runs (lock plugin)."""
        return self.key(f"plugins:lock:{name}")

    def job_durations(self, class_name: str) -> str:
        """*Extension*: hash of histogram bucket -> count, plus ``count`` and ``sum``, of a class's run times."""
        return self.key(f"metrics:duration:{class_name}")

    @property
    def job_duration_classes(self) -> str:
        """*Extension*: set of class names that have a :meth:`job_durations` hash."""
        return self.key("metrics:duration_classes")

    def job_metrics_minute(self, minute: str) -> str:
        """*Extension*: hash of per-class job metrics for one UTC minute ``YYYYMMDDHHMM``, expiring
        (see :mod:`resque_impl.job_metrics.layout`)."""
        return self.key(f"metrics:job:{minute}")

    def job_metrics_block(self, block: str) -> str:
        """*Extension*: hash of per-class job metrics for ten UTC minutes ``YYYYMMDDHHM`` (the minutes'
        names without their last digit), expiring."""
        return self.key(f"metrics:job:10m:{block}")

    def job_metrics_day(self, day: str) -> str:
        """*Extension*: hash of per-class job metrics for one UTC day ``YYYYMMDD``, expiring."""
        return self.key(f"metrics:job:day:{day}")

    def queue_metrics_minute(self, minute: str) -> str:
        """*Extension*: hash of per-queue activity (jobs per class, sampled depths) for one UTC minute
        ``YYYYMMDDHHMM``, expiring (see :mod:`resque_impl.job_metrics.layout`)."""
        return self.key(f"metrics:queue:{minute}")

    @property
    def deploys(self) -> str:
        """*Extension*: capped, expiring list of deploy markers, newest first (JSON ``{label, at}``)."""
        return self.key("metrics:deploys")

    @property
    def plans(self) -> str:
        """*Extension*: capped, expiring list of published capacity plans, newest first (JSON)."""
        return self.key("metrics:plans")
