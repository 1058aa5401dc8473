"""Prometheus exposition of a :class:`Resque`, read through its store at each scrape.

::

    body = render_metrics(resque)                  # bytes, with content type CONTENT_TYPE_LATEST
    registry.register(ResqueCollector(resque))     # or in a registry of your own

==========================================  =========  =============================================
metric                                      type       meaning
==========================================  =========  =============================================
``resque_queue_depth{queue}``               gauge      jobs waiting in the queue
``resque_queue_oldest_job_age_seconds``     gauge      queue latency: how long the next job has waited;
``{queue}``                                            0 when empty, absent when unknown (a head
                                                       payload without ``enqueued_at``)
``resque_queue_latency_known{queue}``       gauge      1 when that latency is known, 0 when not
``resque_workers``                          gauge      registered workers
``resque_workers_busy``                     gauge      workers running a job
``resque_jobs_processed_total``             counter    jobs finished (``stat:processed``)
``resque_jobs_failed_total``                counter    jobs failed (``stat:failed``)
``resque_failed_jobs``                      gauge      failure records kept
``resque_delayed_jobs``                     gauge      delayed jobs waiting for their time
``resque_delayed_timestamps``               gauge      distinct times with delayed jobs
``resque_delayed_overdue_seconds``          gauge      how long the earliest delayed job has been due
``resque_scheduler_master``                 gauge      1 while a scheduler holds the master lock
``resque_job_duration_seconds{class}``      histogram  run times (job classes using the Timing plugin)
``resque_recommended_workers``              gauge      workers the queue needs: from the last published
``{queue,source}``                                     plan (``source="plan"``) or an Erlang-C estimate
                                                       from the recent recording (``"erlang_c"``); see
                                                       :mod:`resque_impl.job_metrics.capacity`
==========================================  =========  =============================================
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from resque_impl.client import Resque
from resque_impl.job_metrics.capacity import WAIT_TARGET, recommended_workers
from resque_impl.metrics.snapshot import take_snapshot

__all__ = ["CONTENT_TYPE_LATEST", "ResqueCollector", "render_metrics"]


class ResqueCollector(Collector):
    """A Prometheus collector that reads one Resque namespace at each collection; ``wait_target`` is
    the wait (seconds) the Erlang-C estimate of ``resque_recommended_workers`` keeps 95 % of jobs under."""

    def __init__(self, resque: Resque, wait_target: float = WAIT_TARGET) -> None:
        self.resque = resque
        self.wait_target = wait_target

    def collect(self) -> Iterator[Metric]:
        snap = take_snapshot(self.resque)
        depth = GaugeMetricFamily("resque_queue_depth", "Jobs waiting in the queue.", labels=["queue"])
        age = GaugeMetricFamily(
            "resque_queue_oldest_job_age_seconds",
            "Seconds the next job of the queue has waited: 0 when empty, absent when unknown.",
            labels=["queue"],
        )
        known = GaugeMetricFamily(
            "resque_queue_latency_known",
            "1 when the queue's latency is known (empty, or its next payload has enqueued_at), else 0.",
            labels=["queue"],
        )
        for name, queue in snap.queues.items():
            depth.add_metric([name], queue.depth)
            known.add_metric([name], 0 if queue.oldest_age is None else 1)
            if queue.oldest_age is not None:
                age.add_metric([name], queue.oldest_age)
        yield depth
        yield age
        yield known
        yield GaugeMetricFamily("resque_workers", "Registered workers.", value=snap.workers)
        yield GaugeMetricFamily("resque_workers_busy", "Workers running a job.", value=snap.busy_workers)
        yield CounterMetricFamily("resque_jobs_processed", "Jobs finished, failed ones included.", value=snap.processed)
        yield CounterMetricFamily("resque_jobs_failed", "Jobs that failed.", value=snap.failed)
        yield GaugeMetricFamily("resque_failed_jobs", "Failure records kept.", value=snap.failed_records)
        yield GaugeMetricFamily("resque_delayed_jobs", "Delayed jobs waiting for their time.", value=snap.delayed_jobs)
        yield GaugeMetricFamily(
            "resque_delayed_timestamps", "Distinct times with delayed jobs.", value=snap.delayed_timestamps
        )
        yield GaugeMetricFamily(
            "resque_delayed_overdue_seconds",
            "Seconds the earliest delayed job has been due (a stalled scheduler shows here).",
            value=snap.delayed_overdue,
        )
        yield GaugeMetricFamily(
            "resque_scheduler_master",
            "1 while a scheduler holds the master lock.",
            value=1 if snap.scheduler_master else 0,
        )
        durations = HistogramMetricFamily(
            "resque_job_duration_seconds", "Job run times (classes using the Timing plugin).", labels=["class"]
        )
        for class_name, histogram in snap.durations.items():
            durations.add_metric(
                [class_name],
                [(_le(bound), count) for bound, count in histogram.buckets],
                histogram.total,
            )
        yield durations
        recommended = GaugeMetricFamily(
            "resque_recommended_workers",
            "Workers the queue needs: the last published plan, or an Erlang-C estimate from recent jobs.",
            labels=["queue", "source"],
        )
        for item in recommended_workers(self.resque.store, snap.taken_at, self.wait_target):
            recommended.add_metric([item.queue, item.source], item.workers)
        yield recommended


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def render_metrics(resque: Resque, wait_target: float = WAIT_TARGET) -> bytes:
    """The exposition text for ``resque`` (serve it with ``Content-Type: CONTENT_TYPE_LATEST``)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ResqueCollector(resque, wait_target))
    return generate_latest(registry)
