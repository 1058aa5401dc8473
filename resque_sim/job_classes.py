"""The simulated job classes, registered in a simulation's own registry as an application registers its
own: ``perform`` does nothing but raise the drawn exception of the job's current attempt, and a class
with a retry policy mixes in the library's :class:`~resque_impl.plugins.Retry`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from resque_impl import Registry, Resque
from resque_impl.plugins import Retry
from resque_sim.distributions import JobDraws
from resque_sim.scenario import JobSpec, RetryPolicy

__all__ = ["ClassInfo", "JobClasses", "JobInFlight"]


class JobInFlight:
    """A job in flight: its draws, the row of its current attempt, and what that attempt raises."""

    __slots__ = ("attempt", "class_code", "draws", "raises", "row")

    def __init__(self, draws: JobDraws, class_code: int) -> None:
        self.draws = draws
        self.class_code = class_code
        self.attempt = 0
        self.row = -1
        self.raises: str | None = None


class ClassInfo(NamedTuple):
    """What the engine needs per job class, looked up by class code on the hot path."""

    name: str
    job_class: type
    queue: str
    queue_code: int
    leak_mb: float
    retry: RetryPolicy | None
    cpu_fraction: float = 0.0


class JobClasses:
    """Registers job classes in ``registry`` for ``resque``, whose jobs are ``jobs[job_id]``.

    A retried attempt's jitter is ``jitter_draw()`` (the failed attempt's own draw), and each retry the
    scheduler releases is reported to ``released(job_id)``.
    """

    def __init__(
        self,
        resque: Resque,
        registry: Registry,
        jobs: Mapping[int, JobInFlight],
        jitter_draw: Callable[[], float],
        released: Callable[[int], None],
    ) -> None:
        self._resque = resque
        self._registry = registry
        self._jobs = jobs
        self._jitter = _DrawnJitter(jitter_draw)
        self._released = released
        self._exceptions: dict[str, type[Exception]] = {}

    def register(self, name: str, spec: JobSpec, queue_code: int) -> ClassInfo:
        """Register the job class ``name`` (enqueued on ``spec.queue``, whose code is ``queue_code``)."""
        jobs = self._jobs
        exception = self.exception

        def perform(job_id: int) -> None:
            raises = jobs[job_id].raises
            if raises is not None:
                raise exception(raises)(f"simulated {raises}")

        attributes: dict[str, Any] = {"queue": spec.queue, "perform": staticmethod(perform), "resque": self._resque}
        retry = spec.failure.retry if spec.failure.retry is not None and spec.failure.retry.max > 0 else None
        bases: tuple[type, ...] = ()
        if retry is not None:
            bases = (Retry,)
            attributes |= _retry_settings(retry, self._jitter)
            attributes["after_enqueue_simulator"] = staticmethod(self._released)
        job_class = self._registry.register(type(f"SimulatedJob{len(self._registry)}", bases, attributes), name)
        return ClassInfo(name, job_class, spec.queue, queue_code, spec.memory.leak_mb, retry, spec.cpu_fraction)

    def exception(self, name: str) -> type[Exception]:
        """An exception class whose failure records name ``name`` (Ruby-style names like ``Net::ReadTimeout``)."""
        found = self._exceptions.get(name)
        if found is None:
            bases = (Exception,)
            found = self._exceptions[name] = type(
                f"SimulatedError{len(self._exceptions)}", bases, {"resque_name": name}
            )
        return found


class _DrawnJitter:
    """Stands in for the Retry plugin's ``retry_random``: its jitter comes from the failed attempt's own
    draw, so retries keep common random numbers across a sweep."""

    def __init__(self, draw: Callable[[], float]) -> None:
        self._draw = draw

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self._draw()


def _retry_settings(policy: RetryPolicy, jitter: _DrawnJitter) -> dict[str, Any]:
    """The Retry plugin's class attributes for a scenario's retry policy (no cap on the delay, as the
    scenario has none; ``linear`` as the list of its delays)."""
    backoff: str | list[float]
    if isinstance(policy.backoff, tuple):
        backoff = list(policy.backoff)
    elif policy.backoff == "linear":
        backoff = [policy.base * retry for retry in range(1, policy.max + 1)]
    else:
        backoff = policy.backoff
    return {
        "retry_limit": policy.max,
        "retry_backoff": backoff,
        "retry_delay": policy.base,
        "retry_max_delay": math.inf,
        "retry_jitter": policy.jitter,
        "retry_random": jitter,
    }
