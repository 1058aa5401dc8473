"""Where a forking worker's children come from, and the one it has not collected yet.

From the first job on, a :class:`~resque_impl.worker.forkserver.ForkServer` forks them (started while
the first job's child runs, and again if it dies); the worker forks a child itself where that child
must see the worker as it is at its job (``before_fork`` hooks, an undecodable payload), without
``prefork``, and while no server is running. A child that has reported is collected once the next one
has reported, or when the worker goes idle or stops: its exit (the kernel tearing down its copy of the
worker's page tables) overlaps what the worker does next.
"""

from __future__ import annotations

from resque_impl.worker.child import Child
from resque_impl.worker.contract import LoopWorker
from resque_impl.worker.forking import fork_job
from resque_impl.worker.forkserver import ForkServer
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.outcome import ReservedJob

__all__ = ["Forks"]


class Forks:
    """A forking worker's source of children (see the module's text)."""

    def __init__(self, worker: LoopWorker, options: WorkerOptions) -> None:
        self.worker = worker
        self.options = options
        self._server: ForkServer | None = None
        self._exiting: Child | None = None

    def child(self, job: ReservedJob, timeout: float | None) -> Child:
        """A child running ``job``: the fork server's, or one forked here."""
        return self._served(job, timeout) or fork_job(
            self.worker,
            job,
            timeout=timeout,
            term_child=self.options.term_child,
            memory_limit_mb=self.options.max_memory_mb,
        )

    def start_server(self, *, shutting_down: bool) -> None:
        """Start the fork server (again, if it died), while a job's child runs."""
        if self._server is not None and self._server.alive:
            return
        self._stop_server()
        if self.options.prefork and not (shutting_down or self.worker.hooks.get("before_fork")):
            self._server = ForkServer.start(self.worker, term_child=self.options.term_child)

    def reported(self, child: Child) -> None:
        """``child`` has reported: collect the one before it, and keep it to collect later."""
        self.reap()
        if not child.reaped:
            self._exiting = child

    def reap(self) -> None:
        """Collect the child that reported last, if it is not collected yet (waiting for its exit)."""
        if self._exiting is not None:
            self._exiting.reap()
            self._exiting = None

    def close(self) -> None:
        """Collect the last child and stop the fork server."""
        self.reap()
        self._stop_server()

    def _served(self, job: ReservedJob, timeout: float | None) -> Child | None:
        server = self._server
        if server is None or job.payload is None or self.worker.hooks.get("before_fork"):
            return None
        return server.run(job, timeout=timeout, memory_limit_mb=self.options.max_memory_mb)

    def _stop_server(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
