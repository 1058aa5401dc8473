"""Per-class job metrics recorded by this library's workers, per minute and per day, in Redis.

:class:`JobMetricsRecorder` is a subscriber to the job-event stream (:mod:`resque_impl.events`) that
:meth:`Worker.work <resque_impl.worker.Worker.work>` attaches unless ``WorkerOptions(job_metrics=False)``
(``--no-job-metrics``, ``RESQUE_JOB_METRICS=false``); :func:`read_job_metrics` reads them back for the
dashboard. :mod:`.layout` documents the keys.
"""

from resque_impl.job_metrics.layout import BUCKETS, DAY_TTL, MINUTE_TTL
from resque_impl.job_metrics.recorder import JobMetricsRecorder
from resque_impl.job_metrics.report import (
    MAX_MINUTES,
    ClassMetrics,
    JobMetricsReport,
    MinuteTotals,
    quantile,
    read_job_metrics,
)

__all__ = [
    "BUCKETS",
    "DAY_TTL",
    "MAX_MINUTES",
    "MINUTE_TTL",
    "ClassMetrics",
    "JobMetricsRecorder",
    "JobMetricsReport",
    "MinuteTotals",
    "quantile",
    "read_job_metrics",
]
