"""Arrival processes and the streams that pair one with a mix of job classes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from annotated_types import Ge
from pydantic import Field, ValidationInfo, field_validator, model_validator

from resque_sim.scenario.base import Model, Weights
from resque_sim.scenario.csv_columns import check_column, read_column, resolve_csv
from resque_sim.scenario.errors import FieldProblem
from resque_sim.scenario.units import Fraction, Name, PositiveRate, PositiveSeconds, Rate, Seconds

__all__ = [
    "ArrivalProcess",
    "ArrivalStream",
    "BurstArrivals",
    "ConstantArrivals",
    "DiurnalArrivals",
    "PoissonArrivals",
    "RampArrivals",
    "RateProcess",
    "SpikeArrivals",
    "TraceArrivals",
]


class ConstantArrivals(Model):
    """Deterministic arrivals every ``1/rate`` seconds, the first at time 0."""

    type: Literal["constant"]
    rate: PositiveRate


class PoissonArrivals(Model):
    """A homogeneous Poisson process (exponential gaps with mean ``1/rate``)."""

    type: Literal["poisson"]
    rate: PositiveRate


class SpikeArrivals(Model):
    """Poisson at ``base``, switching to ``peak`` during [``start``, ``start + duration``)."""

    type: Literal["spike"]
    base: Rate
    peak: Rate
    start: Seconds
    duration: PositiveSeconds

    @model_validator(mode="after")
    def _some_traffic(self) -> SpikeArrivals:
        if self.base == 0 and self.peak == 0:
            raise FieldProblem("base and peak cannot both be 0", loc=("peak",))
        return self


class RampArrivals(Model):
    """Poisson at ``from`` until ``start`` (default 0 s), linear to ``to`` over ``duration``, then ``to``."""

    type: Literal["ramp"]
    from_: Rate = Field(alias="from")
    to: Rate
    start: Seconds = 0.0
    duration: PositiveSeconds

    @model_validator(mode="after")
    def _some_traffic(self) -> RampArrivals:
        if self.from_ == 0 and self.to == 0:
            raise FieldProblem("from and to cannot both be 0", loc=("to",))
        return self


class DiurnalArrivals(Model):
    """Poisson with rate ``mean * (1 + amplitude * cos(2 pi (t - peak_at) / period))``.

    ``amplitude`` is a fraction of the mean in [0, 1] so the rate never goes negative.  Defaults: ``period``
    24 h, ``peak_at`` 12 h (time 0 is midnight, busiest at noon).
    """

    type: Literal["diurnal"]
    mean: PositiveRate
    amplitude: Fraction
    period: PositiveSeconds = 86400.0
    peak_at: Seconds = 43200.0


class BurstArrivals(Model):
    """``size`` jobs all at time ``at`` (default 0 s), repeated every ``every`` seconds if given."""

    type: Literal["burst"]
    at: Seconds = 0.0
    every: PositiveSeconds | None = None
    size: Annotated[int, Ge(1)]


class TraceArrivals(Model):
    """Replays arrival times (seconds from the start, column ``time_column``, default ``time``) from ``csv``.

    With ``class_column`` the job class of each row comes from the file and the stream needs no ``mix``;
    without it, classes are drawn from ``mix``.  Rows at or after the scenario's duration are ignored.
    """

    type: Literal["trace"]
    csv: Path
    time_column: Name = "time"
    class_column: Name | None = None

    @field_validator("csv")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        return resolve_csv(path, info)

    @model_validator(mode="after")
    def _readable(self) -> TraceArrivals:
        check_column(self.csv, self.time_column, "time_column", numbers=True)
        if self.class_column is not None:
            check_column(self.csv, self.class_column, "class_column", numbers=False)
        return self

    def times(self) -> npt.NDArray[np.float64]:
        """Arrival times in file order, as a read-only float array."""
        return read_column(self.csv, self.time_column, numbers=True)

    def classes(self) -> npt.NDArray[np.object_]:
        """Job class names in file order (``class_column`` must be set)."""
        if self.class_column is None:
            raise ValueError("this trace has no class_column; its classes come from the stream's mix")
        return read_column(self.csv, self.class_column, numbers=False)


ArrivalProcess = Annotated[
    ConstantArrivals | PoissonArrivals | SpikeArrivals | RampArrivals | DiurnalArrivals | BurstArrivals | TraceArrivals,
    Field(discriminator="type"),
]
RateProcess = ConstantArrivals | PoissonArrivals | SpikeArrivals | RampArrivals | DiurnalArrivals
"""Processes defined by an arrival rate over time (everything except burst and trace)."""


class ArrivalStream(Model):
    """One source of jobs: a ``process`` giving arrival times and a ``mix`` of job classes (weights).

    ``name`` defaults to the process type; ``mix`` weights are normalised to sum to 1.
    """

    name: Name
    process: ArrivalProcess
    mix: Weights | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_name(cls, data: Any) -> Any:
        process = data.get("process") if isinstance(data, Mapping) else None
        if isinstance(process, Mapping) and isinstance(process.get("type"), str) and "name" not in data:
            return {**data, "name": process["type"]}
        return data

    @property
    def classes_from_trace(self) -> bool:
        """Whether job classes come from a trace's ``class_column`` rather than from ``mix``."""
        return isinstance(self.process, TraceArrivals) and self.process.class_column is not None

    @model_validator(mode="after")
    def _mix_or_trace_classes(self) -> ArrivalStream:
        # a missing mix is reported by Scenario, which can name the jobs to put in it
        if self.classes_from_trace and self.mix is not None:
            raise FieldProblem("not used: this trace takes job classes from its class_column", loc=("mix",))
        return self
