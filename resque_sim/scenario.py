"""Scenario files (schema v1, DESIGN.md section 5): YAML in, validated and frozen objects out.

What a caller needs:

- ``load_scenario(path, overrides=("workers.default.count=24",))`` returns a :class:`Scenario`, or raises
  :class:`ScenarioError` (a ``ValueError``) whose text is one line per problem, naming the file, the field
  and what is expected::

      spike.yaml: arrivals[0].process.rate: "5/sec" is not a rate; use N/s, N/m or N/h

  ``parse_scenario(data, source=..., base_dir=...)`` does the same for a mapping built in code.
- Units are normalised once, here: every time is float **seconds** (``30m``, ``0.5s`` or bare seconds),
  every rate float **per second** (``5/s``, ``300/m``, ``1000/h`` or a bare number per second), every
  memory size float **MB**, probabilities and SLO fractions floats in [0, 1].  ``mix`` and failure
  ``exceptions`` weights are normalised to sum to 1.
- ``scenario.with_value("workers.default.count", 24)`` returns a new, re-validated scenario (one sweep
  point).  Field paths are dotted; list items are addressed by index (``arrivals.0`` or ``arrivals[0]``)
  or by name (``workers.<pool>``, ``arrivals.<name>``).  ``--set`` overrides use the same paths.
- CSV-backed data (``empirical`` durations, ``trace`` arrivals) is read and checked at validation; read
  it with ``EmpiricalDist.values()``, ``TraceArrivals.times()`` and ``TraceArrivals.classes()``.

Defaults where the contract is silent (each model's docstring repeats its own):

- scenario: ``version`` 1, ``name`` = file stem, ``seed`` 0, ``replications`` 1, ``warmup`` 0 s,
  ``backend`` fake, ``url`` ``redis://localhost:6379/0`` for the redis backend (none otherwise),
  ``workers`` one pool ``default`` of 1 worker on ``["*"]``, no ``slo``, no ``sweep``.
- arrivals: ``name`` = the process type; ``mix`` may be left out when exactly one job is defined.
- jobs: ``failure`` never fails; ``memory`` a working set of 0 MB and no leak.
- everything else is listed on the models below.
"""

from __future__ import annotations

import csv
import difflib
import functools
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal, TypeGuard, TypeVar

import numpy as np
import numpy.typing as npt
import yaml
from annotated_types import Ge, Gt, Lt
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WrapSerializer,
    field_validator,
    model_validator,
)

__all__ = [
    "DEFAULT_REDIS_URL",
    "ArrivalProcess",
    "ArrivalStream",
    "BurstArrivals",
    "ConstantArrivals",
    "ConstantDist",
    "Distribution",
    "DiurnalArrivals",
    "EmpiricalDist",
    "ExponentialDist",
    "FailureSpec",
    "GammaDist",
    "JobMemory",
    "JobSpec",
    "LognormalDist",
    "PoissonArrivals",
    "RampArrivals",
    "RateProcess",
    "RestartPolicy",
    "RetryPolicy",
    "Scenario",
    "ScenarioError",
    "Slo",
    "SloMetric",
    "SpikeArrivals",
    "Sweep",
    "TraceArrivals",
    "WorkerMemory",
    "WorkerPool",
    "load_scenario",
    "parse_duration",
    "parse_rate",
    "parse_scenario",
]

DEFAULT_REDIS_URL = "redis://localhost:6379/0"

K = TypeVar("K")
V = TypeVar("V")


# --------------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------------


class ScenarioError(ValueError):
    """A scenario that cannot be used.  ``str()`` is one ``file: path: message`` line per problem.

    ``file``, ``path`` and ``message`` describe the first problem (``path`` is ``""`` for whole-file
    problems such as YAML syntax); ``problems`` holds every ``(path, message)`` pair; ``line`` is the
    1-based YAML line for syntax errors, else ``None``.
    """

    def __init__(
        self,
        file: str,
        path: str,
        message: str,
        *,
        more: Sequence[tuple[str, str]] = (),
        line: int | None = None,
    ) -> None:
        self.file = file
        self.path = path
        self.message = message
        self.problems: tuple[tuple[str, str], ...] = ((path, message), *more)
        self.line = line
        super().__init__("\n".join(_error_line(file, p, m) for p, m in self.problems))


def _error_line(file: str, path: str, message: str) -> str:
    return f"{file}: {path}: {message}" if path else f"{file}: {message}"


class _FieldProblem(ValueError):
    """Raised by validators for a problem below the model being validated (``loc`` is relative)."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


def _show(value: object) -> str:
    """Render a user's value the way they wrote it in YAML (strings quoted, true/false, null)."""
    return json.dumps(value, default=str, ensure_ascii=False)


# --------------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------------

_NUMBER = r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_DURATION_RE = re.compile(rf"\s*({_NUMBER})\s*(ms|s|m|h|d)?\s*")
_RATE_RE = re.compile(rf"\s*({_NUMBER})\s*/\s*(s|m|h)\s*")
_PERCENT_RE = re.compile(rf"\s*({_NUMBER})\s*%\s*")
_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass, but `true` is never a sensible number of seconds
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_duration(value: object) -> float:
    """Seconds from ``250ms``, ``0.5s``, ``30m``, ``2h``, ``1d`` or a bare (non-negative) number of seconds.

    Raises ``ValueError`` with a message fit for a user.
    """
    if _is_number(value):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{_show(value)} is not a duration; durations are finite and not negative")
        return float(value)
    match = _DURATION_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{_show(value)} is not a duration; use a number with ms, s, m, h or d (e.g. 500ms, 30s, 10m),"
            " or a bare number of seconds"
        )
    return float(match[1]) * _SECONDS_PER_UNIT[match[2] or "s"]


def parse_rate(value: object) -> float:
    """Events per second from ``5/s``, ``300/m``, ``1000/h`` or a bare (non-negative) number per second."""
    if _is_number(value) and math.isfinite(value) and value >= 0:
        return float(value)
    match = _RATE_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{_show(value)} is not a rate; use N/s, N/m or N/h")
    return float(match[1]) / _SECONDS_PER_UNIT[match[2]]


def _parse_fraction(value: object) -> float:
    """A probability or share: a number in [0, 1] or a percentage string like ``5%``."""
    if _is_number(value):
        fraction = float(value)
    elif isinstance(value, str) and (match := _PERCENT_RE.fullmatch(value)):
        fraction = float(match[1]) / 100
    else:
        raise ValueError(f"{_show(value)} is not a fraction; use a number from 0 to 1, or a percentage like 5%")
    if not 0 <= fraction <= 1:
        raise ValueError(f"{_show(value)} is outside 0..1")
    return fraction


def _parse_megabytes(value: object) -> float:
    if not (_is_number(value) and math.isfinite(value) and value >= 0):
        raise ValueError(f"{_show(value)} is not a size; use a non-negative number of megabytes")
    return float(value)


def _split_queue_list(value: object) -> object:
    """Queues may also be written like Resque's QUEUES variable: ``"critical,email,*"``."""
    return [queue.strip() for queue in value.split(",")] if isinstance(value, str) else value


def _parse_interval(value: object) -> float | str:
    if value == "instant":
        return value
    seconds = parse_duration(value)
    if seconds == 0:
        # Resque's INTERVAL=0 means "drain the queues and exit", which a simulated pool cannot model
        raise ValueError(
            'must be above 0 (Resque\'s INTERVAL=0 drains and exits); use "instant" '
            "for workers woken at once on enqueue"
        )
    return seconds


Seconds = Annotated[float, BeforeValidator(parse_duration)]
PositiveSeconds = Annotated[Seconds, Gt(0)]
Rate = Annotated[float, BeforeValidator(parse_rate)]
PositiveRate = Annotated[Rate, Gt(0)]
Fraction = Annotated[float, BeforeValidator(_parse_fraction)]
Megabytes = Annotated[float, BeforeValidator(_parse_megabytes)]
PositiveMegabytes = Annotated[Megabytes, Gt(0)]
Name = Annotated[str, Field(min_length=1)]


# --------------------------------------------------------------------------------------------------
# Immutable containers
# --------------------------------------------------------------------------------------------------


class _FrozenDict(Mapping[K, V]):
    """A read-only mapping that, unlike ``MappingProxyType``, pickles (replications may run in processes)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[K, V]) -> None:
        self._items = dict(items)

    def __getitem__(self, key: K) -> V:
        return self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


def _normalised_weights(weights: Mapping[str, float]) -> _FrozenDict[str, float]:
    """Check every weight is positive and scale them to sum to 1 (so ``{A: 7, B: 3}`` means 70/30)."""
    if not weights:
        raise ValueError("must name at least one entry with a positive weight")
    for key, weight in weights.items():
        if weight <= 0:
            raise _FieldProblem(f"weight {_show(weight)} must be positive", loc=(key,))
    total = sum(weights.values())
    return _FrozenDict({key: weight / total for key, weight in weights.items()})


_AS_DICT = WrapSerializer(lambda value, handler: handler(dict(value)))
FrozenMap = Annotated[Mapping[K, V], AfterValidator(_FrozenDict), _AS_DICT]
Weights = Annotated[Mapping[str, float], AfterValidator(_normalised_weights), _AS_DICT]


# --------------------------------------------------------------------------------------------------
# CSV columns (empirical durations, traces)
# --------------------------------------------------------------------------------------------------


class _UnreadableFile(ValueError):
    """The CSV file itself cannot be read (as opposed to a problem with the column asked for)."""


def _read_column(path: Path, column: str, *, numbers: bool) -> npt.NDArray[Any]:
    """One CSV column as a read-only array (floats >= 0 when ``numbers``).

    Cached while the file is unchanged: validation reads it, and then every sampler reads it again.
    """
    try:
        stat = path.stat()
        return _read_column_cached(path, column, numbers, stat.st_mtime_ns, stat.st_size)
    except OSError as error:
        raise _UnreadableFile(f"cannot read {path}: {error.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise _UnreadableFile(f"cannot read {path} as CSV: {error}") from None


def _check_column(path: Path, column: str, column_field: str, *, numbers: bool) -> None:
    """Read a column during validation, blaming ``csv`` or ``column_field``, whichever needs fixing."""
    try:
        _read_column(path, column, numbers=numbers)
    except _UnreadableFile as error:
        raise _FieldProblem(str(error), loc=("csv",)) from None
    except ValueError as error:
        raise _FieldProblem(str(error), loc=(column_field,)) from None


@functools.lru_cache(maxsize=16)
def _read_column_cached(path: Path, column: str, numbers: bool, _mtime_ns: int, _size: int) -> npt.NDArray[Any]:
    # the modification time and size only take part in the cache key, so an edited file is read again
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if column not in (reader.fieldnames or ()):
            raise ValueError(
                f"{path.name} has no column {_show(column)} (columns: {', '.join(reader.fieldnames or ())})"
            )
        cells = [row[column] for row in reader]
    if not cells:
        raise ValueError(f"{path.name} has no rows")
    values = (
        np.array([_csv_number(cell, path, row) for row, cell in enumerate(cells, start=2)])
        if numbers
        else np.array(cells, dtype=object)
    )
    values.flags.writeable = False  # shared through the cache, so nobody may change it
    return values


def _csv_number(cell: str | None, path: Path, row: int) -> float:
    try:
        number = float(cell or "")
    except ValueError:
        number = math.nan
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{path.name} row {row}: {_show(cell)} is not a non-negative number")
    return number


def _resolve_csv(path: Path, info: ValidationInfo) -> Path:
    """Relative CSV paths are relative to the scenario file's folder (``base_dir`` in the context).

    The result is absolute so that a re-validated copy (``with_value``) finds the same file.
    """
    base_dir = Path((info.context or {}).get("base_dir", "."))
    return path if path.is_absolute() else (base_dir / path).absolute()


# --------------------------------------------------------------------------------------------------
# Base model
# --------------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _reject_unknown_fields(cls, data: Any) -> Any:
        """Name the unknown field and suggest the nearest known one (``extra="forbid"`` alone cannot)."""
        if isinstance(data, Mapping):
            known = [field.alias or name for name, field in cls.model_fields.items()]
            for key in data:
                if key not in known:
                    close = difflib.get_close_matches(str(key), known, n=1)
                    hint = f'did you mean "{close[0]}"?' if close else f"known fields: {', '.join(known)}"
                    raise _FieldProblem(f"unknown field; {hint}", loc=(str(key),))
        return data


# --------------------------------------------------------------------------------------------------
# Distributions (of seconds for durations, of MB for working sets)
# --------------------------------------------------------------------------------------------------


class ExponentialDist(_Model):
    """Exponential with the given ``mean`` (cv = 1; the M in M/M/c)."""

    dist: Literal["exponential"]
    mean: Annotated[float, Gt(0)]


class ConstantDist(_Model):
    """Always ``value`` (cv = 0; the D in M/D/1)."""

    dist: Literal["constant"]
    value: Annotated[float, Ge(0)]


class LognormalDist(_Model):
    """Lognormal fixed by its ``median`` and 99th percentile ``p99`` (which must be above the median)."""

    dist: Literal["lognormal"]
    median: Annotated[float, Gt(0)]
    p99: float

    @model_validator(mode="after")
    def _p99_above_median(self) -> LognormalDist:
        if not self.p99 > self.median:
            raise _FieldProblem(f"must be above the median ({self.median:g}), got {self.p99:g}", loc=("p99",))
        return self


class GammaDist(_Model):
    """Gamma with the given ``mean`` and coefficient of variation ``cv`` (std / mean, > 0)."""

    dist: Literal["gamma"]
    mean: Annotated[float, Gt(0)]
    cv: Annotated[float, Gt(0)]


class EmpiricalDist(_Model):
    """Resamples the numbers in column ``column`` of ``csv`` (seconds or MB, like the field it sits in)."""

    dist: Literal["empirical"]
    csv: Path
    column: Name

    @field_validator("csv")
    @classmethod
    def _resolve(cls, path: Path, info: ValidationInfo) -> Path:
        return _resolve_csv(path, info)

    @model_validator(mode="after")
    def _readable(self) -> EmpiricalDist:
        _check_column(self.csv, self.column, "column", numbers=True)
        return self

    def values(self) -> npt.NDArray[np.float64]:
        """The column as a read-only float array."""
        return _read_column(self.csv, self.column, numbers=True)


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
                    raise _FieldProblem(str(error), loc=(key,)) from None
        return parsed

    return BeforeValidator(parse_quantities)


DurationDistribution = Annotated[Distribution, _in_unit(parse_duration)]
SizeDistribution = Annotated[Distribution, _in_unit(_parse_megabytes)]


# --------------------------------------------------------------------------------------------------
# Arrival processes
# --------------------------------------------------------------------------------------------------


class ConstantArrivals(_Model):
    """Deterministic arrivals every ``1/rate`` seconds, the first at time 0."""

    type: Literal["constant"]
    rate: PositiveRate


class PoissonArrivals(_Model):
    """A homogeneous Poisson process (exponential gaps with mean ``1/rate``)."""

    type: Literal["poisson"]
    rate: PositiveRate


class SpikeArrivals(_Model):
    """Poisson at ``base``, switching to ``peak`` during [``start``, ``start + duration``)."""

    type: Literal["spike"]
    base: Rate
    peak: Rate
    start: Seconds
    duration: PositiveSeconds

    @model_validator(mode="after")
    def _some_traffic(self) -> SpikeArrivals:
        if self.base == 0 and self.peak == 0:
            raise _FieldProblem("base and peak cannot both be 0", loc=("peak",))
        return self


class RampArrivals(_Model):
    """Poisson at ``from`` until ``start`` (default 0 s), linear to ``to`` over ``duration``, then ``to``."""

    type: Literal["ramp"]
    from_: Rate = Field(alias="from")
    to: Rate
    start: Seconds = 0.0
    duration: PositiveSeconds

    @model_validator(mode="after")
    def _some_traffic(self) -> RampArrivals:
        if self.from_ == 0 and self.to == 0:
            raise _FieldProblem("from and to cannot both be 0", loc=("to",))
        return self


class DiurnalArrivals(_Model):
    """Poisson with rate ``mean * (1 + amplitude * cos(2 pi (t - peak_at) / period))``.

    ``amplitude`` is a fraction of the mean in [0, 1] so the rate never goes negative.  Defaults: ``period``
    24 h, ``peak_at`` 12 h (time 0 is midnight, busiest at noon).
    """

    type: Literal["diurnal"]
    mean: PositiveRate
    amplitude: Fraction
    period: PositiveSeconds = 86400.0
    peak_at: Seconds = 43200.0


class BurstArrivals(_Model):
    """``size`` jobs all at time ``at`` (default 0 s), repeated every ``every`` seconds if given."""

    type: Literal["burst"]
    at: Seconds = 0.0
    every: PositiveSeconds | None = None
    size: Annotated[int, Ge(1)]


class TraceArrivals(_Model):
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
        return _resolve_csv(path, info)

    @model_validator(mode="after")
    def _readable(self) -> TraceArrivals:
        _check_column(self.csv, self.time_column, "time_column", numbers=True)
        if self.class_column is not None:
            _check_column(self.csv, self.class_column, "class_column", numbers=False)
        return self

    def times(self) -> npt.NDArray[np.float64]:
        """Arrival times in file order, as a read-only float array."""
        return _read_column(self.csv, self.time_column, numbers=True)

    def classes(self) -> npt.NDArray[np.object_]:
        """Job class names in file order (``class_column`` must be set)."""
        if self.class_column is None:
            raise ValueError("this trace has no class_column; its classes come from the stream's mix")
        return _read_column(self.csv, self.class_column, numbers=False)


ArrivalProcess = Annotated[
    ConstantArrivals | PoissonArrivals | SpikeArrivals | RampArrivals | DiurnalArrivals | BurstArrivals | TraceArrivals,
    Field(discriminator="type"),
]
RateProcess = ConstantArrivals | PoissonArrivals | SpikeArrivals | RampArrivals | DiurnalArrivals
"""Processes defined by an arrival rate over time (everything except burst and trace)."""


class ArrivalStream(_Model):
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
            raise _FieldProblem("not used: this trace takes job classes from its class_column", loc=("mix",))
        return self


# --------------------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------------------


def _parse_backoff(value: object) -> object:
    if value == []:
        raise ValueError("is an empty list of delays; give at least one, or a named backoff")
    if isinstance(value, (list, tuple)):
        return tuple(_backoff_step(step, index) for index, step in enumerate(value))
    if value not in ("exponential", "constant", "linear"):
        raise ValueError(f"{_show(value)} is not a backoff; use exponential, constant, linear or a list of delays")
    return value


def _backoff_step(step: object, index: int) -> float:
    try:
        return parse_duration(step)
    except ValueError as error:
        raise _FieldProblem(str(error), loc=(index,)) from None


class RetryPolicy(_Model):
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


class FailureSpec(_Model):
    """Each attempt raises with ``probability``; the exception class is drawn from ``exceptions`` weights.

    Defaults: ``exceptions`` ``{RuntimeError: 1}`` (Ruby's default for ``raise``), no ``retry``.
    """

    probability: Fraction
    exceptions: Weights = Field(default_factory=lambda: _FrozenDict({"RuntimeError": 1.0}))
    retry: RetryPolicy | None = None


class JobMemory(_Model):
    """Memory one attempt needs (``working_set_mb``, drawn per attempt) and leaks (``leak_mb``) in the worker.

    Defaults: a constant working set of 0 MB, no leak.
    """

    working_set_mb: SizeDistribution = Field(default_factory=lambda: ConstantDist(dist="constant", value=0.0))
    leak_mb: Megabytes = 0.0


class JobSpec(_Model):
    """A job class: the ``queue`` it is enqueued on, how long ``perform`` takes, failures and memory."""

    queue: Name
    duration: DurationDistribution
    failure: FailureSpec = Field(default_factory=lambda: FailureSpec(probability=0.0))
    memory: JobMemory = Field(default_factory=JobMemory)

    @property
    def max_attempts(self) -> int:
        """The first attempt plus every allowed retry."""
        retry = self.failure.retry
        return 1 + (retry.max if retry is not None else 0)


# --------------------------------------------------------------------------------------------------
# Workers
# --------------------------------------------------------------------------------------------------


class WorkerMemory(_Model):
    """Worker process memory: ``base_mb`` at boot (default 50), the share of each job's working set it keeps
    when jobs run in-process (``retention``, default 0) and the size at which it is OOM-killed
    (``oom_limit_mb``, default none).
    """

    base_mb: Megabytes = 50.0
    retention: Fraction = 0.0
    oom_limit_mb: PositiveMegabytes | None = None

    @model_validator(mode="after")
    def _limit_above_base(self) -> WorkerMemory:
        if self.oom_limit_mb is not None and self.oom_limit_mb <= self.base_mb:
            raise _FieldProblem(f"must be above base_mb ({self.base_mb})", loc=("oom_limit_mb",))
        return self


class RestartPolicy(_Model):
    """When a worker replaces itself, and how long the replacement takes to boot.

    A worker restarts after ``max_jobs`` jobs (plus a per-worker uniform 0..``max_jobs_jitter`` so a pool
    does not restart in lockstep), above ``max_rss_mb``, or after ``max_age`` seconds; each limit defaults
    to none.  ``boot_time`` (default 0 s) is the time before a replacement reserves its first job.
    """

    max_jobs: Annotated[int, Ge(1)] | None = None
    max_jobs_jitter: Annotated[int, Ge(0)] = 0
    max_rss_mb: PositiveMegabytes | None = None
    max_age: PositiveSeconds | None = None
    boot_time: Seconds = 0.0

    @model_validator(mode="after")
    def _jitter_needs_max_jobs(self) -> RestartPolicy:
        if self.max_jobs_jitter and self.max_jobs is None:
            raise _FieldProblem("needs max_jobs", loc=("max_jobs_jitter",))
        return self


class WorkerPool(_Model):
    """``count`` identical workers reserving from ``queues`` in strict priority (Resque patterns allowed).

    ``queues`` is a list or a comma-separated string like Resque's QUEUES.
    Defaults: ``pool`` "default", ``count`` 1, ``queues`` ["*"], ``interval`` 5 s (Resque's default;
    ``"instant"`` = woken at once on enqueue), ``fork_per_job`` true, ``fork_overhead`` 0 s (added to every
    forked job), default ``memory`` and no ``restart`` limits.  What a real worker spends besides perform,
    each 0 s unless set here or by a calibration (docs/calibration.md): ``job_overhead`` (added to every
    job, forked or not: the fetch and acknowledge round trips), ``wake_latency`` (an instant worker's delay
    between a push and its reserve) and ``poll_cost`` (added to a polling worker's interval).
    """

    pool: Name = "default"
    count: Annotated[int, Ge(1)] = 1
    queues: Annotated[tuple[Name, ...], BeforeValidator(_split_queue_list), Field(min_length=1)] = ("*",)
    interval: Annotated[float | Literal["instant"], BeforeValidator(_parse_interval)] = 5.0
    fork_per_job: bool = True
    fork_overhead: Seconds = 0.0
    job_overhead: Seconds = 0.0
    wake_latency: Seconds = 0.0
    poll_cost: Seconds = 0.0
    memory: WorkerMemory = Field(default_factory=WorkerMemory)
    restart: RestartPolicy = Field(default_factory=RestartPolicy)

    @model_validator(mode="after")
    def _restart_above_base(self) -> WorkerPool:
        max_rss = self.restart.max_rss_mb
        if max_rss is not None and max_rss <= self.memory.base_mb:
            raise _FieldProblem(
                f"must be above memory.base_mb ({self.memory.base_mb}), or every job would restart the worker",
                loc=("restart", "max_rss_mb"),
            )
        return self

    def serves(self, queue: str) -> bool:
        """Whether one of ``queues`` matches ``queue`` (fnmatch patterns, minus ``!name`` exclusions)."""
        patterns = [p for p in self.queues if not p.startswith("!")]
        excluded = [p[1:] for p in self.queues if p.startswith("!")]
        return any(fnmatchcase(queue, p) for p in patterns) and not any(fnmatchcase(queue, p) for p in excluded)


# --------------------------------------------------------------------------------------------------
# SLOs and sweeps
# --------------------------------------------------------------------------------------------------

SloMetric = Literal["wait", "latency", "failure_rate", "max_depth", "utilization", "peak_rss_mb"]
_TIME_METRICS = ("wait", "latency")
_QUEUE_METRICS = ("wait", "latency", "failure_rate", "max_depth")


class Slo(_Model):
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
            return _parse_fraction(value)
        if metric == "peak_rss_mb":
            return _parse_megabytes(value)
        # max_depth, the one metric left, counts jobs
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise ValueError(f"{_show(value)} is not a queue depth; use a whole number of jobs")
        return value

    @model_validator(mode="after")
    def _fields_fit_metric(self) -> Slo:
        if self.percentile is not None and self.metric not in _TIME_METRICS:
            raise _FieldProblem(f"only applies to wait and latency, not {self.metric}", loc=("percentile",))
        if self.queue is not None and self.metric not in _QUEUE_METRICS:
            raise _FieldProblem(f"{self.metric} is measured for the whole run, not per queue", loc=("queue",))
        return self


class Sweep(_Model):
    """Runs the scenario once per value of the field at path ``param`` (e.g. ``workers.default.count``)."""

    param: Name
    values: Annotated[tuple[Any, ...], Field(min_length=1)]


# --------------------------------------------------------------------------------------------------
# Field paths (for --set overrides, sweeps and with_value)
# --------------------------------------------------------------------------------------------------

_NAME_KEYS = ("pool", "name")  # list items can be addressed by these keys as well as by index


def _path_tokens(path: str) -> list[str]:
    tokens = re.sub(r"\[(\d+)\]", r".\1", path).split(".")
    if not all(tokens):
        raise ValueError(f"{_show(path)} is not a field path; write e.g. workers.default.count or arrivals[0].mix")
    return tokens


def _list_index(items: list[Any], token: str, walked: str) -> int:
    if token.isdigit():
        if int(token) >= len(items):
            raise ValueError(f"{walked} has {len(items)} entries, so there is no entry {token}")
        return int(token)
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and any(item.get(key) == token for key in _NAME_KEYS):
            return index
    names = [str(item.get(key)) for item in items if isinstance(item, Mapping) for key in _NAME_KEYS if key in item]
    raise ValueError(f"{walked} has no entry named {_show(token)} (names: {', '.join(names) or 'none'})")


def _walk(data: dict[str, Any], path: str, *, create: bool) -> tuple[Any, str | int]:
    """The container holding the last field of ``path`` and that field's key (or list index).

    With ``create``, missing mappings along the way are added (so ``--set`` can fill optional sections);
    without it, every step but the last must exist.
    """
    *parents, last = _path_tokens(path)
    node: Any = data
    for depth, token in enumerate(parents):
        key = _key(node, token, ".".join(parents[:depth]))
        if isinstance(node, dict) and node.get(key) is None:
            if not create:
                raise ValueError(f"{'.'.join(parents[:depth]) or 'the scenario'} has no field {_show(token)}")
            node[key] = {}
        node = node[key]
    return node, _key(node, last, ".".join(parents))


def _key(node: Any, token: str, walked: str) -> str | int:
    """How ``token`` addresses an item of ``node``, the value at path ``walked``."""
    if isinstance(node, list):
        return _list_index(node, token, walked)
    if isinstance(node, dict):
        return token
    raise ValueError(f"{walked} is {_show(node)}, which has no field {_show(token)}")


def _set_value(data: dict[str, Any], path: str, value: Any) -> None:
    container, key = _walk(data, path, create=True)
    container[key] = value


def _require_field(data: dict[str, Any], path: str) -> None:
    container, key = _walk(data, path, create=False)
    if isinstance(container, dict) and key not in container:
        raise ValueError(f"no field {_show(path)} in this scenario")


# --------------------------------------------------------------------------------------------------
# The scenario
# --------------------------------------------------------------------------------------------------


class Scenario(_Model):
    """A whole scenario file, validated and normalised (see the module docstring for units and defaults)."""

    version: int = 1
    name: Name
    seed: Annotated[int, Ge(0)] = 0
    replications: Annotated[int, Ge(1)] = 1
    duration: PositiveSeconds
    warmup: Seconds = 0.0
    backend: Literal["fake", "memory", "redis"] = "fake"
    url: Name | None = None
    arrivals: Annotated[tuple[ArrivalStream, ...], Field(min_length=1)]
    jobs: Annotated[FrozenMap[str, JobSpec], Field(min_length=1)]
    workers: Annotated[tuple[WorkerPool, ...], Field(min_length=1)] = (WorkerPool(),)
    slo: tuple[Slo, ...] = ()
    sweep: Sweep | None = None

    _source: str = PrivateAttr(default="<scenario>")

    @property
    def source(self) -> str:
        """The file this scenario came from, as named in error messages."""
        return self._source

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue some job is enqueued on, sorted."""
        return tuple(sorted({job.queue for job in self.jobs.values()}))

    def pool(self, name: str) -> WorkerPool:
        """The worker pool called ``name``."""
        for pool in self.workers:
            if pool.pool == name:
                return pool
        raise KeyError(name)

    def with_value(self, param: str, value: Any) -> Scenario:
        """A re-validated copy with the field at path ``param`` set to ``value`` (as written in YAML).

        Raises ``ScenarioError`` naming this scenario's source when the path or value is not valid.
        """
        data = self.model_dump(mode="json", by_alias=True)
        try:
            _set_value(data, param, value)
        except ValueError as error:
            raise ScenarioError(self._source, param, str(error)) from None
        # the sweep was checked with this scenario, so its values need no second check
        return parse_scenario(data, source=self._source, check_sweep=False)

    # --- validation ------------------------------------------------------------------------------

    @model_validator(mode="before")
    @classmethod
    def _contextual_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        """Defaults that depend on the file or on other fields: name, redis url, single-job mix."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        context = info.context or {}
        if "name" not in data and context.get("default_name"):
            data["name"] = context["default_name"]
        if data.get("backend") == "redis" and "url" not in data:
            data["url"] = DEFAULT_REDIS_URL
        jobs, arrivals = data.get("jobs"), data.get("arrivals")
        if isinstance(jobs, Mapping) and len(jobs) == 1 and isinstance(arrivals, list):
            data["arrivals"] = [_with_default_mix(stream, next(iter(jobs))) for stream in arrivals]
        return data

    @field_validator("version", mode="before")
    @classmethod
    def _supported_version(cls, version: object) -> object:
        if version != 1:
            raise ValueError(f"unsupported scenario version {_show(version)}; this simulator reads version 1")
        return version

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        if self.warmup >= self.duration:
            raise _FieldProblem(f"must be shorter than duration ({self.duration:g}s)", loc=("warmup",))
        if self.url is not None and self.backend != "redis":
            raise _FieldProblem(f"only used by the redis backend, not {self.backend}", loc=("url",))
        self._check_arrivals()
        self._check_workers()
        self._check_slos()
        if self.sweep is not None and (info.context or {}).get("check_sweep", True):
            self._check_sweep(self.sweep)
        return self

    def _check_arrivals(self) -> None:
        _unique([stream.name for stream in self.arrivals], "arrivals", "name")
        for index, stream in enumerate(self.arrivals):
            if isinstance(stream.process, TraceArrivals) and stream.classes_from_trace:
                self._check_trace_classes(stream.process, index)
            elif stream.mix is None:
                example = ", ".join(f"{name}: 1" for name in self.jobs)
                raise _FieldProblem(
                    f"is required when several jobs are defined, e.g. {{{example}}}",
                    loc=("arrivals", index, "mix"),
                )
            else:
                for job_class in stream.mix:
                    if job_class not in self.jobs:
                        raise _FieldProblem(
                            f"{_show(job_class)} is not a job defined under jobs ({self._job_list()})",
                            loc=("arrivals", index, "mix", job_class),
                        )

    def _check_trace_classes(self, trace: TraceArrivals, index: int) -> None:
        for row, job_class in enumerate(trace.classes(), start=2):
            if job_class not in self.jobs:
                raise _FieldProblem(
                    f"{trace.csv.name} row {row} names {_show(job_class)}, which is not a job "
                    f"defined under jobs ({self._job_list()})",
                    loc=("arrivals", index, "process", "class_column"),
                )

    def _check_workers(self) -> None:
        _unique([pool.pool for pool in self.workers], "workers", "pool")
        for name, job in self.jobs.items():
            if not any(pool.serves(job.queue) for pool in self.workers):
                raise _FieldProblem(
                    f'no worker pool serves queue {_show(job.queue)}; add it (or "*") to a pool\'s queues',
                    loc=("jobs", name, "queue"),
                )

    def _check_slos(self) -> None:
        for index, slo in enumerate(self.slo):
            if slo.queue is not None and slo.queue not in self.queues:
                raise _FieldProblem(
                    f"no job uses queue {_show(slo.queue)} (queues: {', '.join(self.queues)})",
                    loc=("slo", index, "queue"),
                )

    def _check_sweep(self, sweep: Sweep) -> None:
        try:
            _require_field(self.model_dump(mode="json", by_alias=True), sweep.param)
        except ValueError as error:
            raise _FieldProblem(str(error), loc=("sweep", "param")) from None
        for index, value in enumerate(sweep.values):
            try:
                self.with_value(sweep.param, value)
            except ScenarioError as error:
                raise _FieldProblem(
                    f"{_show(value)} does not fit {sweep.param}: {error.message}",
                    loc=("sweep", "values", index),
                ) from None

    def _job_list(self) -> str:
        return ", ".join(self.jobs)


def _with_default_mix(stream: object, only_job: str) -> object:
    """With a single job defined, a stream without ``mix`` (and without trace classes) creates that job."""
    if not isinstance(stream, Mapping) or "mix" in stream:
        return stream
    process = stream.get("process")
    if isinstance(process, Mapping) and process.get("type") == "trace" and process.get("class_column"):
        return stream
    return {**stream, "mix": {only_job: 1.0}}


def _unique(names: list[str], field: str, key: str) -> None:
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            raise _FieldProblem(f"{_show(name)} is used twice; give each entry its own {key}", loc=(field, index, key))
        seen.add(name)


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate the scenario file at ``path``.

    ``overrides`` are ``--set`` strings ``path=value`` (``workers.default.count=24``, ``duration=10m``),
    applied in order to the raw YAML before validation; each value is parsed as YAML.  Raises
    ``ScenarioError`` for a missing or unreadable file, bad YAML, a bad override or an invalid scenario.
    """
    file = os.fspath(path)
    data = _read_yaml(Path(file), file)
    for override in overrides:
        _apply_override(data, override, file)
    return parse_scenario(data, source=file, base_dir=Path(file).parent, default_name=Path(file).stem)


def parse_scenario(
    data: Mapping[str, Any],
    *,
    source: str = "<scenario>",
    base_dir: str | os.PathLike[str] = ".",
    default_name: str | None = None,
    check_sweep: bool = True,
) -> Scenario:
    """Validate a scenario mapping (as loaded from YAML).

    ``source`` names it in errors; relative CSV paths resolve against ``base_dir``; ``default_name`` is
    used when the data has no ``name``; ``check_sweep=False`` skips trying every sweep value.
    """
    context = {"base_dir": Path(base_dir), "default_name": default_name, "check_sweep": check_sweep}
    try:
        scenario = Scenario.model_validate(data, context=context)
    except ValidationError as error:
        raise _scenario_error(error, data, source) from None
    scenario._source = source
    return scenario


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys, which plain YAML loaders silently drop."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {_show(key)}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, file: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ScenarioError(file, "", f"cannot read the file: {reason}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, file) from None
    if not isinstance(data, dict):
        found = "an empty file" if data is None else _show(data)
        raise ScenarioError(file, "", f"expected a mapping of scenario fields (version, name, ...), got {found}")
    return data


def _yaml_error(error: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    where = f"line {line}, column {mark.column + 1}: " if mark is not None else ""
    # the context ("while parsing a flow mapping", with its own line) often points at the real mistake
    context = error.context or ""
    if error.context and error.context_mark is not None and error.problem:
        context = f" ({error.context} at line {error.context_mark.line + 1})"
    return ScenarioError(file, "", f"{where}invalid YAML: {error.problem or ''}{context}", line=line)


def _apply_override(data: dict[str, Any], override: str, file: str) -> None:
    path, equals, text = override.partition("=")
    path = path.strip()
    if not equals or not path:
        raise ScenarioError(
            file, "", f"--set {_show(override)} must look like path=value, e.g. workers.default.count=24"
        )
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ScenarioError(file, path, f"--set value {_show(text)} is not valid YAML") from None
    try:
        _set_value(data, path, value)
    except ValueError as error:
        raise ScenarioError(file, path, f"--set: {error}") from None


# --------------------------------------------------------------------------------------------------
# Pydantic errors -> ScenarioError
# --------------------------------------------------------------------------------------------------

_TAGS = {
    "type": "constant, poisson, spike, ramp, diurnal, burst, trace",
    "dist": "exponential, constant, lognormal, gamma, empirical",
}
_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "tuple": "a list",
    "dict": "a mapping",
    "model": "a mapping",
}
_BOUNDS = {
    "greater_than": ("gt", "above"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "below"),
    "less_than_equal": ("le", "at most"),
}


def _scenario_error(error: ValidationError, data: object, source: str) -> ScenarioError:
    located = [_located_message(details) for details in error.errors(include_url=False)]
    problems: list[tuple[str, str]] = []
    for loc, message in located:
        # pydantic also reports a parent (e.g. "arrivals: must not be empty") when a child fails; the
        # child's message is the one that says what to fix
        if any(other[: len(loc)] == loc and len(other) > len(loc) for other, _ in located):
            continue
        problem = (_display_path(loc, data), message)
        if problem not in problems:
            problems.append(problem)
    (path, message), *more = problems
    return ScenarioError(source, path, message, more=more)


def _located_message(details: Any) -> tuple[tuple[str | int, ...], str]:
    """The full location and a plain-words message for one pydantic error."""
    loc: tuple[str | int, ...] = tuple(details["loc"])
    kind: str = details["type"]
    ctx: dict[str, Any] = details.get("ctx") or {}
    value = details.get("input")
    cause = ctx.get("error")
    if isinstance(cause, _FieldProblem):
        return loc + cause.loc, str(cause)
    if isinstance(cause, ValueError):
        return loc, str(cause)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'")
        shown = _show(ctx["tag"]) + " is not a known " + key if "tag" in ctx else "is required"
        return (*loc, key), f"{shown}; use one of {_TAGS[key]}"
    return loc, _describe(kind, ctx, value, details["msg"])


def _describe(kind: str, ctx: dict[str, Any], value: object, fallback: str) -> str:
    if kind == "missing":
        return "is required"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx[key]:g}, got {_show(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "literal_error":
        return f"{_show(value)} is not one of {ctx['expected']}"
    if kind == "finite_number":
        return f"{_show(value)} is not a finite number"
    base = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
    if base in _EXPECTED:
        return f"expected {_EXPECTED[base]}, got {_show(value)}"
    return fallback[:1].lower() + fallback[1:]


def _display_path(loc: tuple[str | int, ...], data: object) -> str:
    """``arrivals[0].process.rate`` from a pydantic location, dropping the union tags pydantic inserts.

    Pydantic adds the chosen member of a tagged union (``spike``) as an extra step; walking the user's data
    alongside tells such a step (not a key there, but equal to the node's ``type``/``dist``) from a field.
    """
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(node, Mapping) and step not in node and step in (node.get("type"), node.get("dist")):
            continue
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts)
