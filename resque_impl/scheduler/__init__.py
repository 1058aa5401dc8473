"""resque-scheduler's scheduler process: delayed jobs and recurring schedules (see :mod:`.process`).

The producer side (``enqueue_at``, ``enqueue_in``, ``remove_delayed`` ...) is on
:class:`~resque_impl.client.Resque` (see :mod:`resque_impl.delayed`).
"""

from resque_impl.scheduler.lock import DEFAULT_LOCK_TIMEOUT, MasterLock, default_identity
from resque_impl.scheduler.process import DEFAULT_INTERVAL, Scheduler
from resque_impl.scheduler.recurring import Recurring, enqueue_entry
from resque_impl.scheduler.schedule import (
    CronTrigger,
    EveryTrigger,
    ScheduleEntry,
    load_schedule_file,
    parse_duration,
    parse_schedule,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_LOCK_TIMEOUT",
    "CronTrigger",
    "EveryTrigger",
    "MasterLock",
    "Recurring",
    "ScheduleEntry",
    "Scheduler",
    "default_identity",
    "enqueue_entry",
    "load_schedule_file",
    "parse_duration",
    "parse_schedule",
]
