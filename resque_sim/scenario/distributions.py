"""Distribution specs (of seconds for durations, of MB for working sets); :mod:`resque_sim.distributions`
samples them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import numpy.typing as npt
from annotated_types import Ge, Gt
from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from resque_sim.scenario.base import Model
from resque_sim.scenario.csv_columns import check_column, read_column, resolve_csv
from resque_sim.scenario.errors import FieldProblem
from resque_sim.scenario.units import Name, parse_duration, parse_megabytes

__all__ = [
    "ConstantDist",
    "Distribution",
    "DurationDistribution",
    "EmpiricalDist",
    "ExponentialDist",
    "GammaDist",
    "LognormalDist",
    "SizeDistribution",
]


class ExponentialDist(Model):
    """Exponential with the given ``mean`` (cv = 1; the M in M/M/c)."""

    dist: Literal["exponential"]
    mean: Annotated[float, Gt(0)]


class ConstantDist(Model):
    """Always ``value`` (cv = 0; the D in M/D/1)."""

    dist: Literal["constant"]
    value: Annotated[float, Ge(0)]


class LognormalDist(Model):
    """Lognormal fixed by its ``median`` and 99th percentile ``p99`` (which must be above the median)."""

    dist: Literal["lognormal"]
    median: Annotated[float, Gt(0)]
    p99: float

    @model_validator(mode="after")
    def _p99_above_median(self) -> LognormalDist:
        if not self.p99 > self.median:
            raise FieldProblem(f"must be above the median ({self.median:g}), got {self.p99:g}", loc=("p99",))
        return self


class GammaDist(Model):
    """Gamma with the given ``mean`` and coefficient of variation ``cv`` (std / mean, > 0)."""

    dist: Literal["gamma"]
    mean: Annotated[float, Gt(0)]
    cv: Annotated[float, Gt(0)]


class EmpiricalDist(Model):
    """Resamples the numbers in column ``column`` of ``csv`` (seconds or MB, like the field it sits in)."""

    dist: Literal["empirical"]
    csv: Path
    column: Name

    @field_validator("csv")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        return resolve_csv(path, info)

    @model_validator(mode="after")
    def _readable(self) -> EmpiricalDist:
        check_column(self.csv, self.column, "column", numbers=True)
        return self

    def values(self) -> npt.NDArray[np.float64]:
        """The column as a read-only float array."""
        return read_column(self.csv, self.column, numbers=True)


Distribution = Annotated[
    ExponentialDist | ConstantDist | LognormalDist | GammaDist | EmpiricalDist, Field(discriminator="dist")
]
"""Any distribution; its numbers are in the unit of the field holding it (seconds or MB)."""

_QUANTITY_FIELDS = ("mean", "value", "median", "p99")  # the fields carrying a unit (gamma's cv has none)


def _in_unit(parse: Callable[[object], float]) -> BeforeValidator:
    """Parse a distribution's quantity fields with the unit of the field holding it (e.g. ``0.5s``)."""

    def parse_quantities(data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        parsed = dict(data)
        for key in _QUANTITY_FIELDS:
            if key in parsed:
                try:
                    parsed[key] = parse(parsed[key])
                except ValueError as error:
                    raise FieldProblem(str(error), loc=(key,)) from None
        return parsed

    return BeforeValidator(parse_quantities)


DurationDistribution = Annotated[Distribution, _in_unit(parse_duration)]
SizeDistribution = Annotated[Distribution, _in_unit(parse_megabytes)]
