"""Recurring schedules in resque-scheduler's YAML format, and when each one is due.

::

    clear_cache:
      cron: "0 */6 * * *"              # 5 fields, or 6 with seconds first; a time zone may follow:
      class: ClearCacheJob             #   "0 5 * * * Europe/Paris" (default UTC)
      queue: low                       # default: the class's queue
      args: [true]                     # a list is the arguments, a mapping or scalar is one argument
      description: Drop stale entries
    heartbeat:
      every: 30s                       # or [1h, {first_in: 10m}]; units ms s m h d w M y, combinable
      class: HeartbeatJob
      env: production, staging         # optional: load only where $RAILS_ENV (or --env) is listed

``class`` defaults to the entry's name; ``cron`` wins over ``every``; an empty ``cron``/``every``
declares a job that only runs when queued by hand. Cron times follow Debian cron around DST changes
(via cronsim): a time skipped by a spring-forward runs just after the change, and a fixed time
repeated by a fall-back runs once, while jobs every hour or more often keep their rhythm.

Every problem is a :class:`~resque_impl.errors.ScheduleError` naming the file and the entry. Reading a
file needs PyYAML and a cron entry cronsim (the ``scheduler`` extra); both are imported when first
needed, so the rest of the scheduler, and the test modes built on it, need no extra.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from resque_impl.codec import validate_args
from resque_impl.delayed import job_arguments
from resque_impl.durations import parse_duration
from resque_impl.errors import NotSerializableError, ScheduleError

__all__ = ["CronTrigger", "EveryTrigger", "ScheduleEntry", "load_schedule_file", "parse_duration", "parse_schedule"]

log = logging.getLogger(__name__)

_KNOWN_KEYS = frozenset({"cron", "every", "class", "queue", "args", "description", "env", "rails_env", "persist"})
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_EXTRA = "pip install 'resque-impl[scheduler]'"
_CRON_WORDS = frozenset((*_MONTHS, "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "L", "W", "LW"))


@dataclass(frozen=True)
class CronTrigger:
    """A cron expression (5 fields, or 6 with seconds first as rufus-scheduler reads them) in a zone."""

    expression: str
    zone: tzinfo = timezone.utc

    def __post_init__(self) -> None:
        from cronsim import CronSim  # noqa: PLC0415 - the scheduler extra, imported when needed

        CronSim(self.expression, datetime(2000, 1, 1, tzinfo=self.zone))  # CronSimError for a bad expression

    def _at(self, epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, self.zone)

    def latest(self, now: float) -> float | None:
        """The last tick at or before ``now``."""
        # Ticks are whole seconds, and going backwards cronsim yields those strictly before its start.
        # The start is made from an epoch, never by datetime arithmetic, which would lose the fold
        # that tells the two 01:30s of a DST fall-back apart.
        from cronsim import CronSim  # noqa: PLC0415 - the scheduler extra, imported when needed

        try:
            return next(CronSim(self.expression, self._at(math.floor(now) + 1), reverse=True)).timestamp()
        except StopIteration:
            return None

    def next_after(self, now: float) -> float | None:
        """The first tick after ``now``."""
        from cronsim import CronSim  # noqa: PLC0415 - the scheduler extra, imported when needed

        try:
            return next(CronSim(self.expression, self._at(now))).timestamp()
        except StopIteration:
            return None

    def __str__(self) -> str:
        zone = str(self.zone)
        return self.expression if zone == "UTC" else f"{self.expression} {zone}"


@dataclass(frozen=True)
class EveryTrigger:
    """Every ``period`` seconds; the first tick ``first_in`` seconds after the schedule was first seen
    (``period`` if not given). Ticks lie on one grid shared by every scheduler process."""

    period: float
    first_in: float | None = None
    text: str = ""

    def anchor(self, now: float) -> float:
        """The grid's origin for a schedule first seen at ``now`` (stored once, cluster-wide)."""
        return math.floor(now) + (self.period if self.first_in is None else self.first_in) - self.period

    def latest(self, now: float, last: float) -> float | None:
        """The last tick at or before ``now`` on the grid through ``last``, if later than ``last``."""
        if now < last + self.period:
            return None
        return last + math.floor((now - last) / self.period) * self.period

    def next_after(self, now: float, last: float) -> float:
        """The first tick after ``now`` on the grid through ``last``."""
        if now < last:
            return last
        return last + (math.floor((now - last) / self.period) + 1) * self.period

    def __str__(self) -> str:
        return self.text or f"{self.period:g}s"


@dataclass(frozen=True)
class ScheduleEntry:
    """One recurring job. ``trigger`` is ``None`` for a job that only runs when queued by hand."""

    name: str
    class_name: str
    queue: str | None
    args: list[Any]
    trigger: CronTrigger | EveryTrigger | None
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


def _is_zone(token: str) -> bool:
    words = re.findall(r"[A-Za-z]+", token)
    return any(word.upper() not in _CRON_WORDS for word in words)


def _cron(value: Any, where: str) -> CronTrigger:
    try:
        from cronsim import CronSimError  # noqa: PLC0415 - the scheduler extra
    except ModuleNotFoundError:
        raise ScheduleError(f"{where}: cron entries need cronsim: {_EXTRA}") from None
    if not isinstance(value, str):
        raise ScheduleError(f'{where}: cron must be a string such as "*/5 * * * *", got {value!r}')
    fields = value.split()
    zone: tzinfo = timezone.utc
    if len(fields) > 5 and _is_zone(fields[-1]):
        try:
            zone = ZoneInfo(fields[-1])
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"{where}: unknown time zone {fields[-1]!r}; use an IANA name such as Europe/Paris or UTC"
            ) from None
        fields = fields[:-1]
    if len(fields) not in (5, 6):
        raise ScheduleError(
            f"{where}: cron {value!r} has {len(fields)} fields; write 5 (minute hour day month weekday) or 6 "
            "(seconds first), optionally followed by a time zone"
        )
    try:
        return CronTrigger(" ".join(fields), zone)
    except CronSimError as error:
        raise ScheduleError(f"{where}: cron {value!r} is invalid: {error}") from None


def _every(value: Any, where: str) -> EveryTrigger:
    options: Mapping[str, Any] = {}
    if isinstance(value, list):
        if not 1 <= len(value) <= 2 or (len(value) == 2 and not isinstance(value[1], Mapping)):
            raise ScheduleError(f"{where}: every must be a duration or [duration, {{first_in: duration}}]")
        value, options = value[0], (value[1] if len(value) == 2 else {})
    unknown = set(options) - {"first_in"}
    if unknown:
        raise ScheduleError(f"{where}: every option(s) {sorted(unknown)} are not supported; only first_in is")
    first_in = options.get("first_in")
    return EveryTrigger(
        parse_duration(value, where),
        None if first_in is None else parse_duration(first_in, f"{where} first_in"),
        str(value),
    )


def _env_matches(config: Mapping[str, Any], env: str | None) -> bool:
    configured = config.get("rails_env") or config.get("env")
    if not configured:
        return True
    return env is not None and env in re.split(r"[\s,]+", str(configured).strip())


def _entry(name: str, config: Any, where: str) -> ScheduleEntry:
    if not isinstance(config, Mapping):
        raise ScheduleError(f"{where}: must be a mapping with cron or every, class, queue, args")
    unknown = sorted(set(map(str, config)) - _KNOWN_KEYS)
    if unknown:
        log.warning("%s: ignoring unknown key(s) %s", where, ", ".join(unknown))
    if "cron" not in config and "every" not in config:
        raise ScheduleError(f"{where}: has neither cron nor every (use an empty cron for a job queued only by hand)")
    class_name = config.get("class", name)
    if not isinstance(class_name, str) or not class_name.strip():
        raise ScheduleError(f"{where}: class must be a job class name such as EmailJob, got {class_name!r}")
    queue = config.get("queue")
    if queue is not None and (not isinstance(queue, str) or not queue):
        raise ScheduleError(f"{where}: queue must be a queue name, got {queue!r}")
    args = job_arguments(config.get("args"))
    try:
        validate_args(args, root=f"{where}: args")
    except NotSerializableError as error:
        raise ScheduleError(str(error)) from None
    trigger: CronTrigger | EveryTrigger | None = None
    if config.get("cron"):
        trigger = _cron(config["cron"], where)
    elif config.get("every"):
        trigger = _every(config["every"], where)
    description = config.get("description") or ""
    return ScheduleEntry(name, class_name, queue, args, trigger, str(description), dict(config))


def parse_schedule(data: Any, *, source: str = "schedule", env: str | None = None) -> list[ScheduleEntry]:
    """Entries from a mapping of name -> definition (a loaded YAML file, or Ruby's ``Resque.schedule``).

    Entries whose ``env``/``rails_env`` does not list ``env`` are left out, as resque-scheduler does.
    """
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise ScheduleError(f"{source}: must be a mapping of schedule names to definitions, got {type(data).__name__}")
    entries = []
    for name, config in data.items():
        where = f"{source}: entry {name!r}"
        if not isinstance(name, str) or not name:
            raise ScheduleError(f"{where}: a schedule name must be a non-empty string")
        if isinstance(config, Mapping) and not _env_matches(config, env):
            log.info("%s: skipped, its env does not include %r", where, env)
            continue
        entries.append(_entry(name, config, where))
    return entries


def load_schedule_file(path: str | Path, *, env: str | None = None) -> list[ScheduleEntry]:
    """Read and check a schedule YAML file (see the module docstring)."""
    source = str(path)
    try:
        import yaml  # noqa: PLC0415 - the scheduler extra
    except ModuleNotFoundError:
        raise ScheduleError(f"{source}: reading a schedule file needs PyYAML: {_EXTRA}") from None
    try:
        with Path(path).open(encoding="utf-8") as stream:
            data = yaml.safe_load(stream)  # read from the file, so YAML errors name it and the line
    except OSError as error:
        raise ScheduleError(f"{source}: cannot read the schedule file: {error.strerror or error}") from None
    except yaml.YAMLError as error:
        raise ScheduleError(f"{source}: not valid YAML: {error}") from None
    return parse_schedule(data, source=source, env=env)
