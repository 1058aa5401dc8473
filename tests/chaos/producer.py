"""A producer thread that enqueues ledger jobs through the library and keeps count of what Redis
acknowledged.

An enqueue that fails with a connection error is retried until acknowledged (what an application
should do). Its first attempt may have landed before the connection broke, in which case the job is in
the queue twice. The library itself sends an enqueue again to a new primary after a failover when the
replicas did not confirm it (durable writes), logging that it may then be queued twice. Such jobs are
remembered in :attr:`Producer.retried` with the reason, so the ledger analysis can explain a second run
of them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from resque_impl import Resque
from resque_impl.errors import ResqueConnectionError
from tests.chaos.chaos_jobs import ChaosWork


class _SentAgain(logging.Handler):
    """Keeps the library's "goes again to the new primary" warnings logged by one thread."""

    def __init__(self, thread: threading.Thread) -> None:
        super().__init__(logging.WARNING)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread.ident and "goes again" in record.getMessage():
            self.messages.append(record.getMessage())


class Producer(threading.Thread):
    """Enqueues ``ChaosWork(job_id, sleep_ms)`` for each of ``jobs``, ``pace`` seconds apart, on
    ``queue``; stops early when :meth:`finish` is called."""

    def __init__(self, url: str, jobs: Sequence[tuple[str, int]], queue: str, pace: float) -> None:
        super().__init__(name="chaos-producer", daemon=True)
        self.url = url
        self.jobs = jobs
        self.queue = queue
        self.pace = pace
        self.acked: list[str] = []
        self.retried: dict[str, str] = {}
        self.attempts_failed = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        sent_again = _SentAgain(self)
        library = logging.getLogger("resque_impl.store")
        library.addHandler(sent_again)
        try:
            resque = Resque(self.url)
            for job_id, sleep_ms in self.jobs:
                while True:
                    try:
                        resque.enqueue_to(self.queue, ChaosWork, job_id, sleep_ms)
                        break
                    except ResqueConnectionError as error:
                        self.attempts_failed += 1
                        self.retried[job_id] = f"enqueue retried after {error}"
                        time.sleep(0.05)
                if sent_again.messages:
                    self.retried[job_id] = f"enqueue sent again by the library: {sent_again.messages[-1]}"
                    sent_again.messages.clear()
                self.acked.append(job_id)
                if self._stopping.wait(self.pace):
                    return
        except BaseException as error:  # reported by the test, which reads .error
            self.error = error
        finally:
            library.removeHandler(sent_again)

    def error_text(self) -> str | None:
        """The error that stopped the producer, named with its message (redis-py 8's ``repr`` of its own
        errors leaves the message out), or ``None``."""
        return None if self.error is None else f"{type(self.error).__name__}: {self.error}"

    def finish(self, timeout: float = 60.0) -> None:
        """Stop after the enqueue in hand; wait for the thread."""
        self._stopping.set()
        self.join(timeout)
