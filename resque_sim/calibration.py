"""Calibration files: what ``resque-sim calibrate`` measured on a machine, and how a simulation uses it.

What a caller needs::

    calibration = load_calibration("calibration.yaml")     # CalibrationError (one line) if malformed
    scenario = apply_calibration(load_scenario("spike.yaml"), calibration)

A calibration holds the :data:`FIGURES`, each a :class:`Figure` (mean, p50, p95, stdev, samples, in
seconds), and the facts of the machine they were measured on (free-form strings and numbers).
``fork_start`` is optional: files written before it was measured load without it, and then a forking
pool charges its whole ``fork_overhead`` before perform, as it did when they were written.  What each
figure is, and how it was measured, is in docs/calibration.md; in short:

==================  =========================================================  ==========================
figure              what it is                                                 scenario field it fills
==================  =========================================================  ==========================
``job_overhead``    a non-forking worker's time per job besides perform            ``job_overhead``
``fork_overhead``   a forking worker's extra time per job, over ``job_overhead``   ``fork_overhead``
``fork_start``      the part of it before perform: fork and the child's start      ``fork_start``
``wake_latency``    push to reserve of an idle instant worker                      ``wake_latency``
``poll_cost``       a polling worker's period minus its interval                   ``poll_cost``
``boot_time``       a new worker process's start to its first reserve              ``restart.boot_time``
==================  =========================================================  ==========================

:func:`apply_calibration` fills each pool's field with the figure's **mean**, only where the scenario
file (or a ``--set``) does not give the field a value: a scenario's explicit values win.  ``fork_start``
is the measured part of the measured ``fork_overhead``, so a pool that sets its own ``fork_overhead``
does not take it (its whole ``fork_overhead`` precedes perform, unless it sets ``fork_start`` too).
The mean, not a draw per job: the engine adds a constant per job, which gets the service time's mean
exactly and understates its variance by the overhead's own (small next to the jobs'; the file keeps the
stdev so a reader can check).  Call it on a freshly loaded scenario: :meth:`Scenario.with_value` copies
every field as explicit.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import yaml
from annotated_types import Ge
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from resque_sim.scenario import Scenario, parse_scenario

__all__ = [
    "FIGURES",
    "OPTIONAL",
    "Calibration",
    "CalibrationError",
    "Figure",
    "Figures",
    "apply_calibration",
    "dump_calibration",
    "load_calibration",
    "overheads_in_effect",
]

FIGURES = ("job_overhead", "fork_overhead", "fork_start", "wake_latency", "poll_cost", "boot_time")
"""The figures a calibration can hold, in the order they are shown (all but :data:`OPTIONAL` required)."""
OPTIONAL = frozenset({"fork_start"})
"""Figures a file may lack (measured since a later version; :attr:`Calibration.measured` names those it has)."""

_POOL_FIELDS = {name: name for name in FIGURES if name != "boot_time"}
#: Pool fields a figure is not filled into when the pool sets the key's field itself (see the docstring).
_REFINES = {"fork_start": "fork_overhead"}


class CalibrationError(ValueError):
    """A calibration file that cannot be read or used; the text is one line naming the file and field."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


Seconds = Annotated[float, Ge(0)]


class Figure(_Model):
    """One measured figure, in seconds: its mean, median, 95th percentile and standard deviation over
    ``samples`` measurements."""

    mean: Seconds
    p50: Seconds
    p95: Seconds
    stdev: Seconds
    samples: Annotated[int, Ge(1)]


class Figures(_Model):
    """Every figure of :data:`FIGURES`, each required but those in :data:`OPTIONAL`."""

    job_overhead: Figure
    fork_overhead: Figure
    fork_start: Figure | None = None
    wake_latency: Figure
    poll_cost: Figure
    boot_time: Figure


class Calibration(_Model):
    """A calibration file's content: ``version`` 1, the ``figures`` and the ``machine`` they came from."""

    version: Literal[1] = 1
    figures: Figures
    machine: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    @property
    def measured(self) -> tuple[str, ...]:
        """The names of the figures this calibration holds, in :data:`FIGURES` order."""
        return tuple(name for name in FIGURES if getattr(self.figures, name) is not None)

    def figure(self, name: str) -> Figure:
        """The figure called ``name`` (one of :attr:`measured`; :class:`CalibrationError` for an optional
        figure the file lacks)."""
        found: Figure | None = getattr(self.figures, name)
        if found is None:
            raise CalibrationError(f"this calibration has no {name} (measured by a later resque-sim calibrate)")
        return found


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "the file"
    return f"{where}: {first['msg']}"


def load_calibration(path: str | os.PathLike[str]) -> Calibration:
    """Read the calibration file at ``path``; :class:`CalibrationError` (one line, naming the file and the
    field) when it is missing, not YAML or not a calibration."""
    file = os.fspath(path)
    try:
        data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
    except OSError as error:
        raise CalibrationError(f"{file}: cannot read the calibration file ({error.strerror or error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        raise CalibrationError(f"{file}: not valid YAML{line}") from None
    if not isinstance(data, Mapping):
        raise CalibrationError(f"{file}: not a calibration (expected a mapping with version, figures, machine)")
    try:
        return Calibration.model_validate(data)
    except ValidationError as error:
        raise CalibrationError(f"{file}: {_problem(error)}") from None


def dump_calibration(calibration: Calibration) -> str:
    """The calibration as the YAML text :func:`load_calibration` reads."""
    data = calibration.model_dump(mode="json")
    data["figures"] = {name: data["figures"][name] for name in calibration.measured}
    text: str = yaml.safe_dump(data, sort_keys=False)
    return text


def overheads_in_effect(scenario: Scenario) -> list[str]:
    """One line per worker pool: the overhead fields it simulates with (its own or calibrated)."""
    lines = []
    for pool in scenario.workers:
        values = {
            **{field: getattr(pool, field) for field in _POOL_FIELDS.values()},
            "boot_time": pool.restart.boot_time,
        }
        if pool.fork_start is None:  # not set nor calibrated: the whole fork_overhead precedes perform
            del values["fork_start"]
        lines.append(f"{pool.pool}: " + ", ".join(f"{name} {value * 1000:.3g} ms" for name, value in values.items()))
    return lines


def apply_calibration(scenario: Scenario, calibration: Calibration) -> Scenario:
    """``scenario`` with every worker pool's unset overhead fields filled from ``calibration`` (the
    figures' means; see the module docstring).  Fields the scenario sets keep their values (and a pool
    setting ``fork_overhead`` takes no ``fork_start``); a figure the calibration lacks (an older file's
    ``fork_start``) fills nothing.

    Apply it to the scenario as loaded: a copy made by :meth:`Scenario.with_value` has every field set
    (it is re-validated from a full dump), so nothing would be filled."""
    data = scenario.copy_data()
    for pool, pool_data in zip(scenario.workers, data["workers"], strict=True):
        for figure, field in _POOL_FIELDS.items():
            own = field in pool.model_fields_set or _REFINES.get(field) in pool.model_fields_set
            if not own and figure in calibration.measured:
                pool_data[field] = calibration.figure(figure).mean
        if "restart" not in pool.model_fields_set or "boot_time" not in pool.restart.model_fields_set:
            pool_data["restart"]["boot_time"] = calibration.figure("boot_time").mean
    return parse_scenario(data, source=scenario.source, check_sweep=False)
