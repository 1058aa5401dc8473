"""The ceiling of the concurrency benchmark (:mod:`benchmarks.concurrency_peers`): N plain threads in one
process, each running :class:`~benchmarks.concurrency_tasks.IoWait` back to back, with no queue, no fetch
and no bookkeeping. What a worker with N slots reaches, as a fraction of this, is what its own per-job
work costs on this machine as loaded now, which the ideal N / 20 ms cannot tell.

    python -m benchmarks.concurrency_bare N JOBS MS
"""

from __future__ import annotations

import sys
import threading

from benchmarks.concurrency_tasks import IoWait

__all__ = ["run"]


def run(threads: int, jobs: int, ms: int) -> None:
    """Run ``jobs`` jobs waiting ``ms`` ms on ``threads`` threads (``jobs`` a multiple of ``threads``)."""

    def work() -> None:
        for _ in range(jobs // threads):
            IoWait.perform(ms)

    started = [threading.Thread(target=work) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()


if __name__ == "__main__":
    run(*(int(word) for word in sys.argv[1:4]))
