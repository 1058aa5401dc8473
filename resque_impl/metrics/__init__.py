"""Metrics exporters: Prometheus exposition (``/metrics``) and statsd gauges and timers.

Both read through the store at each collection, so any process (the dashboard, ``resque-impl
metrics``) can export a Redis shared with Ruby. See :mod:`.prometheus` for the metric names and
:mod:`.statsd` for the statsd ones. Needs the ``metrics`` extra (``prometheus-client``, ``statsd``).
:class:`StatsdEvents` sends per-job counters and timers from the job-event stream instead.
"""

from resque_impl.metrics.prometheus import CONTENT_TYPE_LATEST, ResqueCollector, render_metrics
from resque_impl.metrics.snapshot import Histogram, QueueStats, Snapshot, take_snapshot
from resque_impl.metrics.statsd import StatsdClient, StatsdReporter
from resque_impl.metrics.statsd_events import StatsdEvents

__all__ = [
    "CONTENT_TYPE_LATEST",
    "Histogram",
    "QueueStats",
    "ResqueCollector",
    "Snapshot",
    "StatsdClient",
    "StatsdEvents",
    "StatsdReporter",
    "render_metrics",
    "take_snapshot",
]
