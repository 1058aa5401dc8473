"""Plugins built only on public hooks and the job-event stream: mix them into a job class.

::

    class SyncAccount(Retry, Unique, Lock, Timing, resque_impl.Job):
        queue = "sync"

========  ==================================================================================
Retry     failed runs are scheduled again with backoff; the attempt travels in the payload
Unique    an enqueue is skipped while an identical job is queued or running (with a TTL)
Lock      at most one job per lock name runs at a time; the others are put back
Timing    each run's duration goes to a per-class histogram (Prometheus) and optionally statsd
========  ==================================================================================

``around_perform`` hooks nest in alphabetical order: lock (outermost), retry. Timing is a subscriber
of the job-event stream, attached by every worker (see :mod:`resque_impl.plugins.timing`).
"""

from resque_impl.plugins.lock import Lock
from resque_impl.plugins.retry import RETRY_ATTEMPT_KEY, Retry
from resque_impl.plugins.timing import DEFAULT_BUCKETS, Timing, bucket_label
from resque_impl.plugins.unique import Unique

__all__ = ["DEFAULT_BUCKETS", "RETRY_ATTEMPT_KEY", "Lock", "Retry", "Timing", "Unique", "bucket_label"]
