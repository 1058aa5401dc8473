"""resque-scheduler's dynamic schedules: recurring jobs defined at run time and kept in Redis.

::

    r.set_schedule("cleanup", {"class": "CleanupJob", "every": "1h", "queue": "low", "args": [7]})
    r.remove_schedule("cleanup")
    r.fetch_schedule("cleanup"); r.dynamic_schedules()

Definitions are stored as resque-scheduler 5.0 stores them (JSON in ``persistent_schedules``, the name
flagged in ``schedules_changed``), so a Ruby app's ``Resque.set_schedule`` reaches a Python scheduler
and the other way round. Schedulers read them when run with ``--dynamic`` (``DYNAMIC_SCHEDULE``). A
definition is checked by the scheduler that loads it: one it cannot read is logged and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from resque_impl.codec import dumps, loads, validate_args
from resque_impl.errors import NotSerializableError, ScheduleError

if TYPE_CHECKING:
    from resque_impl.store import StoreProtocol

__all__ = ["DynamicSchedules"]


class DynamicSchedules:
    """resque-scheduler's ``SchedulingExtensions`` for persistent schedules, mixed into ``Resque``."""

    if TYPE_CHECKING:
        # A property on Resque (a test mode may stand in for it; see resque_impl.testmode).
        @property
        def store(self) -> StoreProtocol: ...

    def set_schedule(self, name: str, config: Mapping[str, Any]) -> None:
        """Create or replace the dynamic schedule ``name`` (keys as in a schedule file)."""
        if not isinstance(name, str) or not name:
            raise ScheduleError(f"a schedule name must be a non-empty string, got {name!r}")
        if not isinstance(config, Mapping) or not all(isinstance(key, str) for key in config):
            raise ScheduleError(f"schedule {name!r}: the definition must be a mapping with string keys")
        definition = {key: value for key, value in config.items() if key != "persist"}
        if config.get("persist", True) is False:
            raise ScheduleError(
                f"schedule {name!r}: non-persistent schedules live in one scheduler's memory; "
                "put the entry in the schedule file instead"
            )
        try:
            validate_args([definition], root=f"schedule {name!r}")
        except NotSerializableError as error:
            raise ScheduleError(str(error)) from None
        self.store.persistent_schedule_set(name, dumps(definition))

    def remove_schedule(self, name: str) -> None:
        """Delete the dynamic schedule ``name`` (no error if there is none)."""
        self.store.persistent_schedule_remove(name)

    def dynamic_schedules(self) -> dict[str, Any]:
        """Every dynamic schedule's definition, by name (an unreadable one as its raw text)."""
        found: dict[str, Any] = {}
        for name, raw in sorted(self.store.persistent_schedules().items()):
            try:
                found[name] = loads(raw)
            except ValueError:
                found[name] = raw.decode("utf-8", "replace")
        return found

    def fetch_schedule(self, name: str) -> Any:
        """The definition of the dynamic schedule ``name``, or ``None``."""
        return self.dynamic_schedules().get(name)
