"""Running jobs in a test, through the real worker steps, in this process.

:class:`InProcessWorker` is what ``Sandbox.drain`` / ``perform_one`` and the ``resque_worker``
fixture use: a :class:`~resque_impl.worker.Worker` without forking, driven step by step as its
production loop drives it with ``--no-fork``: register, reserve (queue priority, wildcards,
exclusions, reliable fetch into the worker's in-flight list), perform (every hook; a job timeout as
in production), record the failure, acknowledge (stats, working-on record, in-flight entry),
unregister. So a job behaves here as it will under ``resque-impl work``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

from resque_impl.client import Resque
from resque_impl.codec import loads
from resque_impl.errors import JobTimeoutError, TermException
from resque_impl.testing.errors import DrainLimitError, JobFailedError
from resque_impl.testing.performed import Performed
from resque_impl.worker import Outcome, ReservedJob, Worker, WorkerOptions
from resque_impl.worker.limits import alarm, job_timeout

__all__ = ["DEFAULT_MAX_JOBS", "HOSTNAME", "InProcessWorker", "performed_record"]

#: How many jobs ``drain`` runs before deciding a job must be enqueueing jobs forever.
DEFAULT_MAX_JOBS = 10_000
#: The host name in the ids of test workers (``resque-test:<n>:<queues>``).
HOSTNAME = "resque-test"
_numbers = itertools.count(1)


def performed_record(job: ReservedJob, outcome: Outcome) -> Performed:
    """What a test mode records about one finished job."""
    return Performed(job.queue, job.raw, job.payload, outcome.status, outcome.exception, outcome.error)


def _backtrace(outcome: Outcome) -> list[str]:
    if outcome.record is None:
        return []
    backtrace: Any = loads(outcome.record).get("backtrace")
    return [str(line) for line in backtrace] if isinstance(backtrace, list) else []


class InProcessWorker:
    """A worker for tests: runs jobs of ``resque`` in this thread with the real worker steps.

    :param resque: whose queues to work.
    :param log: told about every job that finishes (a sandbox keeps them in ``performed``).
    :param options: worker settings (default: Ruby Resque's, reliable fetch on); forking is always off.
    """

    def __init__(
        self,
        resque: Resque,
        *,
        log: Callable[[Performed], None] | None = None,
        options: WorkerOptions | None = None,
    ) -> None:
        self.resque = resque
        self.options = (options or WorkerOptions()).replace(fork_per_job=False)
        #: Every job this worker finished, oldest first.
        self.performed: list[Performed] = []
        self._log = log

    def __repr__(self) -> str:
        return f"<InProcessWorker for {self.resque!r}>"

    def worker(self, queues: Sequence[str]) -> Worker:
        """A new registered-to-be :class:`Worker` for ``queues`` (``["*"]`` if empty), with an id of
        its own (``resque-test:<n>:<queues>``)."""
        return Worker(
            list(queues) or ["*"],
            resque=self.resque,
            options=self.options,
            hostname=HOSTNAME,
            pid=next(_numbers),
            local_pids=lambda: (),
        )

    def perform_one(self, *queues: str, raise_errors: bool = True) -> Performed | None:
        """Run the next job of ``queues`` (priority order; default ``*``); ``None`` if all are empty.

        A failing job is recorded as a worker records it; then, with ``raise_errors``,
        :class:`JobFailedError` is raised.
        """
        worker = self.worker(queues)
        worker.register()
        try:
            job = worker.reserve()
            return None if job is None else self._run(worker, job, raise_errors)
        finally:
            worker.unregister()

    def drain(self, *queues: str, max_jobs: int = DEFAULT_MAX_JOBS, raise_errors: bool = True) -> list[Performed]:
        """Run jobs from ``queues`` (priority order; default ``*``), including jobs those jobs enqueue,
        until every queue is empty; returns what ran.

        Stops at the first failing job with :class:`JobFailedError` (after recording it as a worker
        does) unless ``raise_errors`` is false; raises :class:`DrainLimitError` after ``max_jobs``.
        """
        worker = self.worker(queues)
        ran: list[Performed] = []
        worker.register()
        try:
            while (job := worker.reserve()) is not None:
                if len(ran) >= max_jobs:
                    worker.release(job)
                    waiting = self.resque.store.queue_sizes(worker.queue_list())
                    raise DrainLimitError(max_jobs, {queue: size for queue, size in waiting.items() if size})
                ran.append(self._run(worker, job, raise_errors))
        finally:
            worker.unregister()
        return ran

    def _run(self, worker: Worker, job: ReservedJob, raise_errors: bool) -> Performed:
        outcome = self.perform(worker, job)
        worker.done(job, outcome)
        record = performed_record(job, outcome)
        self.performed.append(record)
        if self._log is not None:
            self._log(record)
        if outcome.failed and raise_errors:
            raise JobFailedError(f"job failed: {record.describe()}", _backtrace(outcome))
        return record

    @staticmethod
    def perform(worker: Worker, job: ReservedJob) -> Outcome:
        """Run ``job`` as the no-fork production loop does (with its timeout; never raising), without
        recording or acknowledging it."""
        outcome: Outcome | None = None
        try:
            with alarm(job_timeout(worker, job)):
                outcome = worker.perform(job)
                return outcome  # noqa: RET504 - kept for the except clause below
        except (JobTimeoutError, TermException) as error:
            # The alarm or a signal may strike just after perform returned; perform catches it inside.
            return outcome if outcome is not None else worker.fail(job, error)
