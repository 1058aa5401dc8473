"""Seeded random streams, distribution samplers and arrival generators for the simulator.

What a caller (the SimPy engine) needs::

    sampler = JobSampler(scenario, seed)                 # seed = scenario.seed + replication
    for arrival in arrivals(scenario, seed):             # every stream merged, in time order, < duration
        yield env.timeout(arrival.time - env.now)
        draws = sampler.draw(arrival.job_class)           # everything random about this job, fixed now
        first = draws.attempt(1)                          # .duration .exception .working_set_mb ...

Reproducibility: every random number comes from a *named stream*, ``random_stream(seed, name)``, a numpy
``Generator`` derived from the seed and a SHA-256 of the name, so results never depend on
``PYTHONHASHSEED``, on the order streams are created in, or on how many numbers other streams used.
Names in use: ``arrivals/<stream>`` (times), ``mix/<stream>`` (job classes) and
``job/<class>/attempt<n>/<duration|failure|exception|memory|jitter>``; pick other prefixes for new
streams (e.g. ``worker/<pool>/<i>``).

Common random numbers: arrivals depend only on their own stream's parameters, and the k-th job of a class
gets the same draws whatever else changes (worker count, failure probability, retry limit, other classes),
because each quantity of each attempt has its own stream, consumed in arrival order.  So the points of a
sweep differ only by the swept parameter.

Also here: ``sample(dist, rng, size)`` for any scenario distribution, ``moments(dist)`` (exact mean and
variance, e.g. for Pollaczek-Khinchine), ``intensity(process, t)`` (the arrival rate over time) and
``arrival_times(process, duration, rng)`` (sorted numpy chunks, for vectorised use).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from resque_sim.scenario import (
    ArrivalProcess,
    ArrivalStream,
    BurstArrivals,
    ConstantArrivals,
    ConstantDist,
    Distribution,
    DiurnalArrivals,
    EmpiricalDist,
    ExponentialDist,
    GammaDist,
    JobSpec,
    LognormalDist,
    PoissonArrivals,
    RampArrivals,
    RateProcess,
    Scenario,
    SpikeArrivals,
    TraceArrivals,
)

__all__ = [
    "Z_99",
    "Arrival",
    "AttemptDraws",
    "JobDraws",
    "JobSampler",
    "Moments",
    "arrival_times",
    "arrivals",
    "intensity",
    "lognormal_parameters",
    "moments",
    "random_stream",
    "sample",
]

Floats = npt.NDArray[np.float64]

Z_99 = 2.3263478740408408
"""The standard normal 99th percentile: a lognormal's p99 is ``median * exp(Z_99 * sigma)``."""

_MAX_CHUNK = 1 << 16  # arrivals are generated this many at a time at most, to bound memory
_JOB_BATCH = 1024  # per-job draws are made this many jobs at a time


# --------------------------------------------------------------------------------------------------
# Named streams
# --------------------------------------------------------------------------------------------------


def random_stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator for ``name`` under ``seed`` (a non-negative int); same inputs, same numbers.

    The name's SHA-256 becomes the ``spawn_key`` of a ``SeedSequence``, the mechanism numpy provides for
    independent child streams; Python's ``hash()`` is avoided because it changes with PYTHONHASHSEED.
    """
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    spawn_key = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, len(digest), 4))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=spawn_key)))


# --------------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------------


def lognormal_parameters(median: float, p99: float) -> tuple[float, float]:
    """``(mu, sigma)`` of the underlying normal: ``mu = ln(median)``, ``sigma = ln(p99 / median) / Z_99``."""
    return math.log(median), math.log(p99 / median) / Z_99


def sample(dist: Distribution, rng: np.random.Generator, size: int) -> Floats:
    """``size`` independent draws from ``dist`` (in the unit of the field holding it)."""
    if isinstance(dist, ExponentialDist):
        return rng.exponential(dist.mean, size)
    if isinstance(dist, ConstantDist):
        return np.full(size, dist.value)
    if isinstance(dist, LognormalDist):
        mu, sigma = lognormal_parameters(dist.median, dist.p99)
        return rng.lognormal(mu, sigma, size)
    if isinstance(dist, GammaDist):
        shape = 1.0 / dist.cv**2  # a gamma's cv is 1/sqrt(shape)
        return rng.gamma(shape, dist.mean / shape, size)
    values = dist.values()
    return values[rng.integers(0, len(values), size)]


class Moments(NamedTuple):
    """Exact mean and variance of a distribution."""

    mean: float
    variance: float

    @property
    def second_moment(self) -> float:
        """E[X^2], as in the Pollaczek-Khinchine formula."""
        return self.variance + self.mean**2

    @property
    def cv(self) -> float:
        """Coefficient of variation, standard deviation / mean."""
        return math.sqrt(self.variance) / self.mean


def moments(dist: Distribution) -> Moments:
    """The exact moments of ``dist`` (for ``empirical``, those of resampling its values)."""
    if isinstance(dist, ExponentialDist):
        return Moments(dist.mean, dist.mean**2)
    if isinstance(dist, ConstantDist):
        return Moments(dist.value, 0.0)
    if isinstance(dist, LognormalDist):
        mu, sigma = lognormal_parameters(dist.median, dist.p99)
        return Moments(math.exp(mu + sigma**2 / 2), math.expm1(sigma**2) * math.exp(2 * mu + sigma**2))
    if isinstance(dist, GammaDist):
        return Moments(dist.mean, (dist.cv * dist.mean) ** 2)
    assert isinstance(dist, EmpiricalDist)
    values = dist.values()
    return Moments(float(values.mean()), float(values.var()))


def _category_bounds(weights: Iterable[float]) -> Floats:
    """Cumulative bounds for picking categories by weight with ``searchsorted(bounds, uniform, "right")``."""
    bounds = np.cumsum(list(weights))
    bounds[-1] = np.inf  # rounding must never let a uniform draw fall past the last category
    return bounds


# --------------------------------------------------------------------------------------------------
# Arrival times
# --------------------------------------------------------------------------------------------------


def intensity(process: RateProcess, t: npt.ArrayLike) -> Floats:
    """The arrival rate (per second) of ``process`` at times ``t`` (seconds), vectorised."""
    t = np.asarray(t, dtype=np.float64)
    if isinstance(process, (ConstantArrivals, PoissonArrivals)):
        return np.full_like(t, process.rate)
    if isinstance(process, SpikeArrivals):
        in_spike = (process.start <= t) & (t < process.start + process.duration)
        return np.where(in_spike, process.peak, process.base)
    if isinstance(process, RampArrivals):
        progress = np.clip((t - process.start) / process.duration, 0.0, 1.0)
        return process.from_ + (process.to - process.from_) * progress
    phase = 2 * np.pi * (t - process.peak_at) / process.period
    return process.mean * (1.0 + process.amplitude * np.cos(phase))


def arrival_times(process: ArrivalProcess, duration: float, rng: np.random.Generator) -> Iterator[Floats]:
    """Arrival times in [0, ``duration``) as consecutive sorted chunks (at most 65,536 each).

    constant: every ``1/rate`` from 0; poisson: exponential gaps; spike, ramp, diurnal: a Poisson process
    with that time-varying rate, by Lewis-Shedler thinning on pieces with their own rate bound; burst:
    ``size`` equal times at ``at``, ``at + every``, ...; trace: the file's times, sorted.
    """
    if isinstance(process, ConstantArrivals):
        return _constant_times(process.rate, duration)
    if isinstance(process, BurstArrivals):
        return _burst_times(process, duration)
    if isinstance(process, TraceArrivals):
        return (times for times, _ in _trace_rows(process, duration))
    return _poisson_process_times(process, duration, rng)


def _constant_times(rate: float, duration: float) -> Iterator[Floats]:
    count = math.ceil(duration * rate)
    for first in range(0, count, _MAX_CHUNK):
        yield np.arange(first, min(first + _MAX_CHUNK, count)) / rate


def _burst_times(process: BurstArrivals, duration: float) -> Iterator[Floats]:
    at = process.at
    while at < duration:
        for first in range(0, process.size, _MAX_CHUNK):
            yield np.full(min(_MAX_CHUNK, process.size - first), at)
        if process.every is None:
            return
        at += process.every


def _trace_rows(process: TraceArrivals, duration: float) -> Iterator[tuple[Floats, npt.NDArray[np.object_] | None]]:
    """The trace's (times, classes or None) in time order, cut at ``duration``, in chunks."""
    times = process.times()
    order = np.argsort(times, kind="stable")  # stable: rows with equal times keep their file order
    order = order[times[order] < duration]
    classes = process.classes()[order] if process.class_column is not None else None
    for first in range(0, len(order), _MAX_CHUNK):
        chunk = slice(first, first + _MAX_CHUNK)
        yield times[order[chunk]], None if classes is None else classes[chunk]


_PoissonProcess = PoissonArrivals | SpikeArrivals | RampArrivals | DiurnalArrivals  # (in)homogeneous


class _Piece(NamedTuple):
    """A time interval of a Poisson process with a rate bound; ``thinned`` when the rate varies inside."""

    start: float
    end: float
    bound: float
    thinned: bool


def _pieces(process: _PoissonProcess, duration: float) -> list[_Piece]:
    """Intervals with a tight rate bound each, so thinning rejects few candidates even for a tall spike."""
    if isinstance(process, PoissonArrivals):
        pieces = [_Piece(0.0, math.inf, process.rate, thinned=False)]
    elif isinstance(process, SpikeArrivals):
        end = process.start + process.duration
        pieces = [
            _Piece(0.0, process.start, process.base, thinned=False),
            _Piece(process.start, end, process.peak, thinned=False),
            _Piece(end, math.inf, process.base, thinned=False),
        ]
    elif isinstance(process, RampArrivals):
        end = process.start + process.duration
        pieces = [
            _Piece(0.0, process.start, process.from_, thinned=False),
            _Piece(process.start, end, max(process.from_, process.to), thinned=True),
            _Piece(end, math.inf, process.to, thinned=False),
        ]
    else:
        pieces = [_Piece(0.0, math.inf, process.mean * (1.0 + process.amplitude), thinned=True)]
    clipped = (piece._replace(end=min(piece.end, duration)) for piece in pieces)
    return [piece for piece in clipped if piece.end > piece.start and piece.bound > 0]


def _poisson_process_times(process: _PoissonProcess, duration: float, rng: np.random.Generator) -> Iterator[Floats]:
    for piece in _pieces(process, duration):
        yield from _piece_times(process, piece, rng)


def _piece_times(process: _PoissonProcess, piece: _Piece, rng: np.random.Generator) -> Iterator[Floats]:
    """Candidates at rate ``piece.bound`` by exponential gaps; on a ``thinned`` piece each is kept with
    probability ``intensity(t) / bound`` (Lewis & Shedler 1979), leaving a Poisson process of that rate.
    """
    expected = piece.bound * (piece.end - piece.start)
    # usually one draw covers the piece: the expected count plus four standard deviations
    chunk = int(min(_MAX_CHUNK, max(64.0, expected + 4.0 * math.sqrt(expected))))
    last = piece.start
    while last < piece.end:
        candidates = last + np.cumsum(rng.exponential(1.0 / piece.bound, chunk))
        last = float(candidates[-1])
        candidates = candidates[candidates < piece.end]
        if piece.thinned:
            candidates = candidates[rng.random(len(candidates)) * piece.bound < intensity(process, candidates)]
        if len(candidates):
            yield candidates


# --------------------------------------------------------------------------------------------------
# Arrivals of jobs
# --------------------------------------------------------------------------------------------------


class Arrival(NamedTuple):
    """One job arriving: at ``time`` (seconds), from arrival stream ``stream``, of class ``job_class``."""

    time: float
    stream: str
    job_class: str


def arrivals(scenario: Scenario, seed: int) -> Iterator[Arrival]:
    """Every stream's arrivals in [0, duration), merged in time order.

    Ties keep a deterministic order (by stream name, then within a stream in generation order).
    """
    streams = [_stream_arrivals(stream, scenario.duration, seed) for stream in scenario.arrivals]
    return streams[0] if len(streams) == 1 else heapq.merge(*streams)


def _stream_arrivals(stream: ArrivalStream, duration: float, seed: int) -> Iterator[Arrival]:
    process = stream.process
    if isinstance(process, TraceArrivals) and stream.classes_from_trace:
        for times, classes in _trace_rows(process, duration):
            assert classes is not None
            yield from map(Arrival, times.tolist(), repeat(stream.name), classes.tolist())
        return
    assert stream.mix is not None  # validated: a stream without trace classes has a mix
    names = np.array(list(stream.mix), dtype=object)
    bounds = _category_bounds(stream.mix.values())
    mix_rng = random_stream(seed, f"mix/{stream.name}")
    for times in arrival_times(process, duration, random_stream(seed, f"arrivals/{stream.name}")):
        classes = names[np.searchsorted(bounds, mix_rng.random(len(times)), side="right")]
        yield from map(Arrival, times.tolist(), repeat(stream.name), classes.tolist())


# --------------------------------------------------------------------------------------------------
# Per-job draws (common random numbers)
# --------------------------------------------------------------------------------------------------


class AttemptDraws(NamedTuple):
    """What happens in one attempt of a job: how long ``perform`` runs, whether and what it raises,
    the memory it needs, and the uniform draw that sets the retry delay's jitter after it fails.
    """

    duration: float
    exception: str | None  # None: this attempt succeeds
    working_set_mb: float
    retry_jitter: float

    @property
    def fails(self) -> bool:
        return self.exception is not None


class _AttemptColumns(NamedTuple):
    """One batch of draws for one attempt number, a list per quantity (index = job within the batch)."""

    durations: list[float]
    exceptions: list[str | None]
    working_sets_mb: list[float]
    retry_jitters: list[float]


class JobDraws:
    """Every random outcome of one job, fixed when it arrives: the draws of each possible attempt.

    A view into its batch's columns, so drawing a job is cheap and attempts are built only when used.
    """

    __slots__ = ("_columns", "_index")

    def __init__(self, columns: tuple[_AttemptColumns, ...], index: int) -> None:
        self._columns = columns
        self._index = index

    @property
    def max_attempts(self) -> int:
        """The first attempt plus every retry the job's policy allows."""
        return len(self._columns)

    def attempt(self, number: int) -> AttemptDraws:
        """The draws of attempt ``number``, counted from 1 like ``jobs.csv``'s ``attempt`` column."""
        if not 1 <= number <= len(self._columns):
            raise IndexError(f"attempt {number} is outside 1..{len(self._columns)}")
        columns, index = self._columns[number - 1], self._index
        return AttemptDraws(
            columns.durations[index],
            columns.exceptions[index],
            columns.working_sets_mb[index],
            columns.retry_jitters[index],
        )


class JobSampler:
    """Hands out each job's draws in arrival order, from streams named per class, attempt and quantity.

    Draws are made ``_JOB_BATCH`` jobs at a time: vectorised, and fixed so that runs stay comparable
    (numpy may use a stream differently for different call sizes).
    """

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self._draws = {name: _class_draws(name, spec, seed) for name, spec in scenario.jobs.items()}

    def draw(self, job_class: str) -> JobDraws:
        """The draws of the next job of ``job_class``."""
        return next(self._draws[job_class])


def _class_draws(name: str, spec: JobSpec, seed: int) -> Iterator[JobDraws]:
    attempts = [_AttemptStreams(spec, seed, f"job/{name}/attempt{n}") for n in range(1, spec.max_attempts + 1)]
    while True:
        columns = tuple(attempt.draw(_JOB_BATCH) for attempt in attempts)
        yield from map(JobDraws, repeat(columns, _JOB_BATCH), range(_JOB_BATCH))


class _AttemptStreams:
    """The five streams of one attempt number of one job class.

    One stream per quantity, so changing how one quantity is distributed never shifts another's numbers.
    """

    def __init__(self, spec: JobSpec, seed: int, prefix: str) -> None:
        self._spec = spec
        self._duration = random_stream(seed, f"{prefix}/duration")
        self._failure = random_stream(seed, f"{prefix}/failure")
        self._exception = random_stream(seed, f"{prefix}/exception")
        self._memory = random_stream(seed, f"{prefix}/memory")
        self._jitter = random_stream(seed, f"{prefix}/jitter")
        self._exception_names = list(spec.failure.exceptions)
        self._exception_bounds = _category_bounds(spec.failure.exceptions.values())

    def draw(self, size: int) -> _AttemptColumns:
        durations = sample(self._spec.duration, self._duration, size).tolist()
        fails = (self._failure.random(size) < self._spec.failure.probability).tolist()
        kinds = np.searchsorted(self._exception_bounds, self._exception.random(size), side="right").tolist()
        names = self._exception_names
        exceptions = [names[kind] if failed else None for failed, kind in zip(fails, kinds, strict=True)]
        working_sets = sample(self._spec.memory.working_set_mb, self._memory, size).tolist()
        jitters = self._jitter.random(size).tolist()
        return _AttemptColumns(durations, exceptions, working_sets, jitters)
