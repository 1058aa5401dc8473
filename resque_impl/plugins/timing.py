"""Run-time metrics per job class: a histogram in Redis (for Prometheus) and statsd timers.

::

    class Report(Timing, resque_impl.Job):
        queue = "reports"
        timing_statsd = StatsdClient("127.0.0.1", 8125)    # optional: also send a timer per run

An ``around_perform`` hook measures each run with the instance's clock, failed runs included, and
adds it to ``metrics:duration:<class>`` (exported as ``resque_job_duration_seconds``).
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any, ClassVar, Protocol

from resque_impl.plugins.base import resque_for

__all__ = ["DEFAULT_BUCKETS", "Timing", "TimingSink", "bucket_label"]

#: Upper bounds (seconds) of the run-time histogram's buckets.
DEFAULT_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
)  # fmt: skip


class TimingSink(Protocol):
    """Where timers go besides Redis (e.g. :class:`resque_impl.metrics.StatsdClient`)."""

    def timing(self, name: str, milliseconds: float) -> None: ...


def bucket_label(seconds: float, buckets: Sequence[float] = DEFAULT_BUCKETS) -> str:
    """The histogram field for a run of ``seconds``: ``le:<smallest bound not below it>``."""
    for bound in buckets:
        if seconds <= bound:
            return f"le:{float(bound)!r}"
    return "le:+Inf"


class Timing:
    """Mixin for job classes: record how long each run takes (see the module docstring)."""

    timing_buckets: ClassVar[Sequence[float]] = DEFAULT_BUCKETS
    timing_statsd: ClassVar[TimingSink | None] = None

    @classmethod
    def around_perform_timing(cls, *args: Any) -> Generator[None, None, None]:
        resque = resque_for(cls)
        started = resque.clock.time()
        try:
            yield
        finally:
            elapsed = max(0.0, resque.clock.time() - started)
            name = resque.registry.name_of(cls)
            resque.store.record_duration(name, elapsed, bucket_label(elapsed, cls.timing_buckets))
            if cls.timing_statsd is not None and math.isfinite(elapsed):
                cls.timing_statsd.timing(f"jobs.{name}.duration", elapsed * 1000)
