"""``Store``: the one place that sends Redis commands.

Commands are grouped by what they touch (queues, stats, failures, workers, the worker's reserve and
acknowledge path, delayed jobs, recurring schedules, locks, metrics), one module each; the
groups combine into :class:`Store`. Everything is keyed through :class:`resque_impl.keys.Keys` and
stays byte-compatible with Ruby Resque. Connection and timeout errors surface as
:class:`resque_impl.errors.ResqueConnectionError`.
"""

from __future__ import annotations

from resque_impl.store.base import translate_connection_errors
from resque_impl.store.dashboard import DashboardCommands
from resque_impl.store.delayed import DelayedCommands
from resque_impl.store.failures import FailureCommands
from resque_impl.store.fetch import Ack, FetchCommands, Fetched, Subscription
from resque_impl.store.locks import LockCommands
from resque_impl.store.metrics import MetricCommands
from resque_impl.store.protocol import StoreProtocol
from resque_impl.store.queues import QueueCommands
from resque_impl.store.schedules import ScheduleCommands
from resque_impl.store.server import ServerCommands
from resque_impl.store.stats import StatCommands
from resque_impl.store.workers import WorkerCommands

__all__ = ["Ack", "Fetched", "Store", "StoreProtocol", "Subscription"]


@translate_connection_errors
class Store(
    QueueCommands,
    StatCommands,
    FailureCommands,
    WorkerCommands,
    FetchCommands,
    DashboardCommands,
    DelayedCommands,
    ScheduleCommands,
    LockCommands,
    MetricCommands,
    ServerCommands,
):
    """Every Redis command the library sends, for one client and namespace."""
