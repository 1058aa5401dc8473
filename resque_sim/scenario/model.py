"""The whole scenario: its fields, the checks across them, copies with one value changed, and validation."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from annotated_types import Ge
from pydantic import Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from resque_sim.scenario.arrivals import ArrivalStream, TraceArrivals
from resque_sim.scenario.base import FrozenMap, Model
from resque_sim.scenario.errors import FieldProblem, ScenarioError, show
from resque_sim.scenario.goals import Slo, Sweep
from resque_sim.scenario.jobs import JobSpec
from resque_sim.scenario.messages import scenario_error
from resque_sim.scenario.paths import require_field, set_value
from resque_sim.scenario.units import Name, PositiveSeconds, Seconds
from resque_sim.scenario.workers import WorkerPool

__all__ = ["DEFAULT_REDIS_URL", "Scenario", "parse_scenario"]


DEFAULT_REDIS_URL = "redis://localhost:6379/0"


class Scenario(Model):
    """A whole scenario file, validated and normalised (see :mod:`resque_sim.scenario` for units and defaults)."""

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

    def copy_data(self) -> dict[str, Any]:
        """The scenario as data that :func:`parse_scenario` reads back to an equal scenario, for copies
        with changes. A pool's ``fork_per_job`` is left out unless the scenario set it: its default
        (true) is refused beside ``concurrency`` above 1, which a copy may set or already has."""
        data = self.model_dump(mode="json", by_alias=True)
        for pool, pool_data in zip(self.workers, data["workers"], strict=True):
            if "fork_per_job" not in pool.model_fields_set:
                del pool_data["fork_per_job"]
        return data

    def with_value(self, param: str, value: Any) -> Scenario:
        """A re-validated copy with the field at path ``param`` set to ``value`` (as written in YAML).

        Raises ``ScenarioError`` naming this scenario's source when the path or value is not valid.
        """
        data = self.copy_data()
        try:
            set_value(data, param, value)
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
            raise ValueError(f"unsupported scenario version {show(version)}; this simulator reads version 1")
        return version

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Scenario:
        if self.warmup >= self.duration:
            raise FieldProblem(f"must be shorter than duration ({self.duration:g}s)", loc=("warmup",))
        if self.url is not None and self.backend != "redis":
            raise FieldProblem(f"only used by the redis backend, not {self.backend}", loc=("url",))
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
                raise FieldProblem(
                    f"is required when several jobs are defined, e.g. {{{example}}}",
                    loc=("arrivals", index, "mix"),
                )
            else:
                for job_class in stream.mix:
                    if job_class not in self.jobs:
                        raise FieldProblem(
                            f"{show(job_class)} is not a job defined under jobs ({self._job_list()})",
                            loc=("arrivals", index, "mix", job_class),
                        )

    def _check_trace_classes(self, trace: TraceArrivals, index: int) -> None:
        for row, job_class in enumerate(trace.classes(), start=2):
            if job_class not in self.jobs:
                raise FieldProblem(
                    f"{trace.csv.name} row {row} names {show(job_class)}, which is not a job "
                    f"defined under jobs ({self._job_list()})",
                    loc=("arrivals", index, "process", "class_column"),
                )

    def _check_workers(self) -> None:
        _unique([pool.pool for pool in self.workers], "workers", "pool")
        for name, job in self.jobs.items():
            if not any(pool.serves(job.queue) for pool in self.workers):
                raise FieldProblem(
                    f'no worker pool serves queue {show(job.queue)}; add it (or "*") to a pool\'s queues',
                    loc=("jobs", name, "queue"),
                )

    def _check_slos(self) -> None:
        for index, slo in enumerate(self.slo):
            if slo.queue is not None and slo.queue not in self.queues:
                raise FieldProblem(
                    f"no job uses queue {show(slo.queue)} (queues: {', '.join(self.queues)})",
                    loc=("slo", index, "queue"),
                )

    def _check_sweep(self, sweep: Sweep) -> None:
        try:
            require_field(self.model_dump(mode="json", by_alias=True), sweep.param)
        except ValueError as error:
            raise FieldProblem(str(error), loc=("sweep", "param")) from None
        for index, value in enumerate(sweep.values):
            try:
                self.with_value(sweep.param, value)
            except ScenarioError as error:
                raise FieldProblem(
                    f"{show(value)} does not fit {sweep.param}: {error.message}",
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
            raise FieldProblem(f"{show(name)} is used twice; give each entry its own {key}", loc=(field, index, key))
        seen.add(name)


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
        raise scenario_error(error, data, source) from None
    scenario._source = source
    return scenario
