"""Run-time metrics per job class: a histogram in Redis (for Prometheus) and statsd timers.

::

    class Report(Timing, resque_impl.Job):
        queue = "reports"
        timing_statsd = StatsdClient("127.0.0.1", 8125)    # optional: also send a timer per run

Each run's ``perform_time`` (how long the job's ``perform`` method ran, hooks excluded, measured with
the worker's clock in the process that ran it) is added to ``metrics:duration:<class>`` (exported as
``resque_job_duration_seconds``), failed runs and runs a Retry hook rescheduled included; runs whose
``perform`` was never called (skipped by a hook, a lock not taken, a child killed before it reported)
are not counted.

The recording is a subscriber of the job-event stream (:class:`TimingRecorder`, on ``job.finished``
and ``job.failed``), in the worker's own process: a job that forks sends its perform time back with
its outcome, and the worker records it once Redis has acknowledged the job. Every
:class:`~resque_impl.worker.Worker` and inline mode attach it to their Resque's bus; nothing is needed
beyond mixing :class:`Timing` in.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Protocol

from resque_impl.events import JOB_FAILED, JOB_FINISHED, EventBus
from resque_impl.plugins.base import resque_for
from resque_impl.registry import Registry

__all__ = ["DEFAULT_BUCKETS", "Timing", "TimingRecorder", "TimingSink", "attach_timing", "bucket_label"]

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
    def record_timing(cls, seconds: float) -> None:
        """Add one run of ``seconds`` to this class's histogram (and statsd timer, if configured)."""
        resque = resque_for(cls)
        name = resque.registry.name_of(cls)
        resque.store.record_duration(name, seconds, bucket_label(seconds, cls.timing_buckets))
        if cls.timing_statsd is not None and math.isfinite(seconds):
            cls.timing_statsd.timing(f"jobs.{name}.duration", seconds * 1000)


class TimingRecorder:
    """The subscriber that records the runs of :class:`Timing` classes found in ``registry`` (the
    registry of the worker announcing them). Stateless, so it is safe from any thread; two recorders
    for one registry are equal, so attaching again delivers each event once."""

    __slots__ = ("registry",)

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimingRecorder) and other.registry is self.registry

    def __hash__(self) -> int:
        return id(self.registry)

    def __call__(self, name: str, measurements: Mapping[str, float], metadata: Mapping[str, Any]) -> None:
        seconds = measurements.get("perform_time")
        if seconds is None:
            return
        job_class = self.registry.get(str(metadata.get("class")))
        if isinstance(job_class, type) and issubclass(job_class, Timing):
            job_class.record_timing(max(0.0, seconds))


def attach_timing(bus: EventBus, registry: Registry) -> None:
    """Have ``bus`` record the runs of the :class:`Timing` classes in ``registry`` (idempotent)."""
    bus.subscribe((JOB_FINISHED, JOB_FAILED), TimingRecorder(registry))
