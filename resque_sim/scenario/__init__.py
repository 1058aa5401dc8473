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

The modules, each with one job: :mod:`.units` parses units; :mod:`.distributions`, :mod:`.arrivals`,
:mod:`.jobs`, :mod:`.workers` and :mod:`.goals` hold the models of each section; :mod:`.model` the whole
scenario and its cross-field checks; :mod:`.loading` reads files and ``--set`` overrides; :mod:`.paths`
walks field paths; :mod:`.messages` turns pydantic's errors into :class:`ScenarioError` lines.
"""

from resque_sim.scenario.arrivals import (
    ArrivalProcess,
    ArrivalStream,
    BurstArrivals,
    ConstantArrivals,
    DiurnalArrivals,
    PoissonArrivals,
    RampArrivals,
    RateProcess,
    SpikeArrivals,
    TraceArrivals,
)
from resque_sim.scenario.distributions import (
    ConstantDist,
    Distribution,
    EmpiricalDist,
    ExponentialDist,
    GammaDist,
    LognormalDist,
)
from resque_sim.scenario.errors import ScenarioError
from resque_sim.scenario.goals import Slo, SloMetric, Sweep
from resque_sim.scenario.jobs import FailureSpec, JobMemory, JobSpec, RetryPolicy
from resque_sim.scenario.loading import load_scenario
from resque_sim.scenario.model import DEFAULT_REDIS_URL, Scenario, parse_scenario
from resque_sim.scenario.units import parse_duration, parse_rate
from resque_sim.scenario.workers import RestartPolicy, WorkerMemory, WorkerPool

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
