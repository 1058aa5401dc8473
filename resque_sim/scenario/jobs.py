"""Job classes: queue, run time, failures with their retries, and memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import BeforeValidator, Field, model_validator

from resque_sim.scenario.base import FrozenDict, Model, Weights
from resque_sim.scenario.distributions import ConstantDist, DurationDistribution, SizeDistribution
from resque_sim.scenario.errors import FieldProblem, show
from resque_sim.scenario.units import Fraction, Megabytes, Name, Seconds, parse_duration

__all__ = ["FailureSpec", "JobMemory", "JobSpec", "RetryPolicy"]


def _parse_backoff(value: object) -> object:
    if value == []:
        raise ValueError("is an empty list of delays; give at least one, or a named backoff")
    if isinstance(value, (list, tuple)):
        return tuple(_backoff_step(step, index) for index, step in enumerate(value))
    if value not in ("exponential", "constant", "linear"):
        raise ValueError(f"{show(value)} is not a backoff; use exponential, constant, linear or a list of delays")
    return value


def _backoff_step(step: object, index: int) -> float:
    try:
        return parse_duration(step)
    except ValueError as error:
        raise FieldProblem(str(error), loc=(index,)) from None


class RetryPolicy(Model):
    """Retries after a failure: ``max`` retries, delays from ``backoff`` and ``base``, scaled by ``jitter``.

    Retry ``n`` (1-based) waits ``base`` (constant), ``base * n`` (linear), ``base * 2**(n-1)``
    (exponential), or the n-th listed delay (the last one once the list runs out; ``base`` is then unused).
    ``jitter`` j in [0, 1] scales each delay by a factor uniform in [1 - j, 1 + j].  Defaults follow
    resque-retry: 1 retry (or one per listed delay), constant backoff, ``base`` 0 s, no jitter.
    """

    max: Annotated[int, Ge(0)] = 1
    backoff: Annotated[
        Literal["exponential", "constant", "linear"] | tuple[float, ...], BeforeValidator(_parse_backoff)
    ] = "constant"
    base: Seconds = 0.0
    jitter: Fraction = 0.0

    @model_validator(mode="before")
    @classmethod
    def _one_retry_per_listed_delay(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("backoff"), list) and "max" not in data:
            return {**data, "max": len(data["backoff"])}
        return data

    def delay(self, retry: int, jitter_draw: float) -> float:
        """Seconds before retry number ``retry`` (1-based); ``jitter_draw`` is a uniform [0, 1) draw."""
        if retry < 1:
            raise ValueError(f"retry numbers start at 1, got {retry}")
        if isinstance(self.backoff, tuple):
            delay = self.backoff[min(retry, len(self.backoff)) - 1]
        elif self.backoff == "exponential":
            delay = self.base * 2.0 ** (retry - 1)
        elif self.backoff == "linear":
            delay = self.base * retry
        else:
            delay = self.base
        return delay * (1.0 + self.jitter * (2.0 * jitter_draw - 1.0))


class FailureSpec(Model):
    """Each attempt raises with ``probability``; the exception class is drawn from ``exceptions`` weights.

    Defaults: ``exceptions`` ``{RuntimeError: 1}`` (Ruby's default for ``raise``), no ``retry``.
    """

    probability: Fraction
    exceptions: Weights = Field(default_factory=lambda: FrozenDict({"RuntimeError": 1.0}))
    retry: RetryPolicy | None = None


class JobMemory(Model):
    """Memory one attempt needs (``working_set_mb``, drawn per attempt) and leaks (``leak_mb``) in the worker.

    Defaults: a constant working set of 0 MB, no leak.
    """

    working_set_mb: SizeDistribution = Field(default_factory=lambda: ConstantDist(dist="constant", value=0.0))
    leak_mb: Megabytes = 0.0


class JobSpec(Model):
    """A job class: the ``queue`` it is enqueued on, how long ``perform`` takes, failures and memory.

    ``cpu_fraction`` (0..1, default 0) is the share of ``duration`` spent computing rather than waiting:
    job slots of one process (a pool's ``concurrency``) wait together but compute one at a time
    (:mod:`resque_sim.cpu`).
    """

    queue: Name
    duration: DurationDistribution
    cpu_fraction: Fraction = 0.0
    failure: FailureSpec = Field(default_factory=lambda: FailureSpec(probability=0.0))
    memory: JobMemory = Field(default_factory=JobMemory)

    @property
    def max_attempts(self) -> int:
        """The first attempt plus every allowed retry."""
        retry = self.failure.retry
        return 1 + (retry.max if retry is not None else 0)
