"""Per-class job metrics recorded by this library's workers, per minute and per day, in Redis.

:class:`JobMetricsRecorder` is a subscriber to the job-event stream (:mod:`resque_impl.events`) that
:meth:`Worker.work <resque_impl.worker.Worker.work>` attaches unless ``WorkerOptions(job_metrics=False)``
(``--no-job-metrics``, ``RESQUE_JOB_METRICS=false``); :func:`read_job_metrics` reads them back for the
dashboard, and :func:`read_history` the processed and failed totals per day or minute. :mod:`.layout`
documents the keys. :func:`mark_deploy` records a deploy marker.
"""

from resque_impl.job_metrics.activity import ArrivalSeries, QueueActivity, QueueMinute, read_queue_activity
from resque_impl.job_metrics.capacity import (
    Recommendation,
    erlang_c,
    erlang_c_workers,
    publish_recommendation,
    recommended_workers,
)
from resque_impl.job_metrics.deploys import Deploy, mark_deploy, read_deploys
from resque_impl.job_metrics.history import MAX_DAYS, MAX_HISTORY_MINUTES, History, HistoryPoint, Unit, read_history
from resque_impl.job_metrics.layout import BUCKETS, DAY_TTL, MINUTE_TTL
from resque_impl.job_metrics.recorder import JobMetricsRecorder
from resque_impl.job_metrics.report import (
    MAX_MINUTES,
    ClassMetrics,
    JobMetricsReport,
    MinuteTotals,
    histogram_json,
    minutes_json,
    quantile,
    read_job_metrics,
    read_job_metrics_days,
)

__all__ = [
    "BUCKETS",
    "DAY_TTL",
    "MAX_DAYS",
    "MAX_HISTORY_MINUTES",
    "MAX_MINUTES",
    "MINUTE_TTL",
    "ClassMetrics",
    "History",
    "HistoryPoint",
    "JobMetricsRecorder",
    "JobMetricsReport",
    "MinuteTotals",
    "Unit",
    "histogram_json",
    "minutes_json",
    "quantile",
    "read_history",
    "read_job_metrics",
    "read_job_metrics_days",
    "ArrivalSeries",
    "QueueActivity",
    "QueueMinute",
    "read_queue_activity",
    "Recommendation",
    "erlang_c",
    "erlang_c_workers",
    "publish_recommendation",
    "recommended_workers",
    "Deploy",
    "mark_deploy",
    "read_deploys",
]
