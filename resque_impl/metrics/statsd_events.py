"""statsd counters and timers from the job-event stream, sent as jobs are pushed and run.

::

    client = StatsdClient("127.0.0.1", 8125, prefix="resque")
    resque.events.subscribe(ALL_EVENTS, StatsdEvents(client))     # on the Resque your workers use

Sent (after the client's prefix; class and queue names cleaned as :func:`statsd_name` does):

====================================  =======  ==============================================
metric                                type     from
====================================  =======  ==============================================
``jobs.enqueued``                     counter  ``job.enqueued`` (by ``count``)
``queues.<queue>.enqueued``           counter  ``job.enqueued``
``queues.<queue>.wait``               timer    ``job.reserved`` when the payload is stamped (ms)
``jobs.<class>.performed|skipped``    counter  ``job.finished`` (its ``status``)
``jobs.<class>.failed``               counter  ``job.failed``
``jobs.<class>.run_time``             timer    ``job.finished`` and ``job.failed`` (ms)
``jobs.<class>.perform_time``         timer    the same, when ``perform`` ran (ms)
``jobs.<class>.retried``              counter  ``job.retried``
``jobs.recovered``                    counter  ``job.recovered`` (by ``count``)
``jobs.scheduled``                    counter  ``job.scheduled`` (by ``count``)
====================================  =======  ==============================================

Each metric is one datagram, sent from the process that delivers the event (a worker's own process,
never its forked children); statsd aggregates them. Safe to call from several threads (each send is
one ``sendto`` on the client's socket), as a worker with job slots does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from resque_impl.events import (
    JOB_ENQUEUED,
    JOB_FAILED,
    JOB_FINISHED,
    JOB_RECOVERED,
    JOB_RESERVED,
    JOB_RETRIED,
    JOB_SCHEDULED,
)
from resque_impl.metrics.statsd import StatsdClient, statsd_name

__all__ = ["StatsdEvents"]


class StatsdEvents:
    """A job-event subscriber sending statsd counters and timers through ``client``."""

    def __init__(self, client: StatsdClient) -> None:
        self.client = client

    def __call__(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        client = self.client
        if name == JOB_ENQUEUED:
            count = int(measurements.get("count", 1))
            client.incr("jobs.enqueued", count)
            client.incr(f"queues.{statsd_name(metadata['queue'])}.enqueued", count)
        elif name == JOB_RESERVED:
            if "wait" in measurements:
                client.timing(f"queues.{statsd_name(metadata['queue'])}.wait", measurements["wait"] * 1000)
        elif name in (JOB_FINISHED, JOB_FAILED):
            job = f"jobs.{statsd_name(str(metadata['class']))}"
            client.incr(f"{job}.{metadata.get('status', 'failed')}")
            client.timing(f"{job}.run_time", measurements["run_time"] * 1000)
            if "perform_time" in measurements:
                client.timing(f"{job}.perform_time", measurements["perform_time"] * 1000)
        elif name == JOB_RETRIED:
            client.incr(f"jobs.{statsd_name(str(metadata['class']))}.retried")
        elif name in (JOB_RECOVERED, JOB_SCHEDULED):
            client.incr(f"jobs.{name.removeprefix('job.')}", int(measurements.get("count", 1)))
