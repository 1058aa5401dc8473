"""The worker: :class:`Worker` runs jobs from queues, like Ruby Resque's ``Resque::Worker``.

::

    from resque_impl import Resque
    from resque_impl.worker import Worker, WorkerOptions

    worker = Worker(["critical", "mail*", "*"], resque=Resque("redis://localhost:6379/0"))
    worker.work()                      # until TERM/INT/QUIT; see resque_impl.worker.signals

Each part lives in its own module: the steps (:mod:`.steps`, driven one at a time by the simulator),
queue patterns (:mod:`.patterns`), the production loop (:mod:`.loop`), forking (:mod:`.forking`),
signals (:mod:`.signals`), the heartbeat thread (:mod:`.heartbeat`), pruning (:mod:`.pruning`),
process titles (:mod:`.titles`), the fork server (:mod:`.forkserver`), which process is the
worker (:mod:`.process`), limits (:mod:`.limits`), hooks (:mod:`.hooks`), settings
(:mod:`.options`), the ``--count`` supervisor (:mod:`.supervisor`), and job slots for ``--concurrency``
(:mod:`.concurrency`, :mod:`.slots`)::

    work_concurrently(lambda: Worker(["mail"], resque=resque), WorkerOptions(), 20)   # 20 jobs at once
"""

from resque_impl.worker.concurrency import work_concurrently
from resque_impl.worker.hooks import HOOK_NAMES, WorkerHooks, default_worker_hooks
from resque_impl.worker.options import WorkerOptions
from resque_impl.worker.outcome import Outcome, ReservedJob
from resque_impl.worker.patterns import QueuePatterns
from resque_impl.worker.process import worker_pid
from resque_impl.worker.steps import Worker
from resque_impl.worker.supervisor import supervise

__all__ = [
    "HOOK_NAMES",
    "Outcome",
    "QueuePatterns",
    "ReservedJob",
    "Worker",
    "WorkerHooks",
    "WorkerOptions",
    "default_worker_hooks",
    "supervise",
    "work_concurrently",
    "worker_pid",
]
