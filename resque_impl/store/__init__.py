"""``Store``: the one place that sends Redis commands.

Commands are grouped by what they touch (queues, stats, failures, workers, the server itself), one
module each; the groups combine into :class:`Store`. Everything is keyed through :class:`resque_impl.keys.Keys` and
stays byte-compatible with Ruby Resque. Connection and timeout errors surface as
:class:`resque_impl.errors.ResqueConnectionError`.
"""

from __future__ import annotations

from resque_impl.store.base import translate_connection_errors
from resque_impl.store.dashboard import DashboardCommands
from resque_impl.store.failures import FailureCommands
from resque_impl.store.protocol import StoreProtocol
from resque_impl.store.queues import QueueCommands
from resque_impl.store.server import ServerCommands
from resque_impl.store.stats import StatCommands
from resque_impl.store.workers import WorkerCommands

__all__ = ["Store", "StoreProtocol"]


@translate_connection_errors
class Store(QueueCommands, StatCommands, FailureCommands, WorkerCommands, DashboardCommands, ServerCommands):
    """Every Redis command the library sends, for one client and namespace."""
