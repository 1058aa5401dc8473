"""What a run is judged by (SLOs) and what it varies (a sweep)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Gt, Lt
from pydantic import Field, ValidationInfo, field_validator, model_validator

from resque_sim.scenario.base import Model
from resque_sim.scenario.errors import FieldProblem, show
from resque_sim.scenario.units import Name, parse_duration, parse_fraction, parse_megabytes

__all__ = ["Slo", "SloMetric", "Sweep"]


SloMetric = Literal["wait", "latency", "failure_rate", "max_depth", "utilization", "peak_rss_mb"]
_TIME_METRICS = ("wait", "latency")
_QUEUE_METRICS = ("wait", "latency", "failure_rate", "max_depth")


class Slo(Model):
    """An upper bound ``max`` on a ``metric`` (named like the summary.json fields), optionally per ``queue``.

    ``wait``/``latency`` take a duration and an optional ``percentile`` in (0, 100) (default: the mean);
    ``failure_rate``/``utilization`` a fraction; ``max_depth`` a number of jobs; ``peak_rss_mb`` MB.
    """

    metric: SloMetric
    queue: Name | None = None
    percentile: Annotated[float, Gt(0), Lt(100)] | None = None
    max: float

    @field_validator("max", mode="before")
    @classmethod
    def _parse_limit(cls, value: object, info: ValidationInfo) -> object:
        metric = info.data.get("metric")
        if metric is None:
            return 0.0  # the metric itself is invalid and reported; a limit cannot be judged without it
        if metric in _TIME_METRICS:
            return parse_duration(value)
        if metric in ("failure_rate", "utilization"):
            return parse_fraction(value)
        if metric == "peak_rss_mb":
            return parse_megabytes(value)
        # max_depth, the one metric left, counts jobs
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ValueError(f"{show(value)} is not a queue depth; use a whole number of jobs")
        return value

    @model_validator(mode="after")
    def _fields_fit_metric(self) -> Slo:
        if self.percentile is not None and self.metric not in _TIME_METRICS:
            raise FieldProblem(f"only applies to wait and latency, not {self.metric}", loc=("percentile",))
        if self.queue is not None and self.metric not in _QUEUE_METRICS:
            raise FieldProblem(f"{self.metric} is measured for the whole run, not per queue", loc=("queue",))
        return self


class Sweep(Model):
    """Runs the scenario once per value of the field at path ``param`` (e.g. ``workers.default.count``)."""

    param: Name
    values: Annotated[tuple[Any, ...], Field(min_length=1)]
