"""``python -m resque_impl.demo``: enqueue a few jobs and work them, on an embedded Redis (no server).

It uses fakeredis in this process, so it needs nothing installed or running. It shows the whole path:
job classes registered under Ruby-style names, jobs enqueued as Ruby Resque would write them, a
worker (burst mode, no fork) draining the queues in priority order, and what that leaves behind:
stats, queue sizes and the failure record of the job that raised.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

import fakeredis

from resque_impl.client import Resque
from resque_impl.job import job
from resque_impl.registry import Registry
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions

__all__ = ["main", "run_demo"]


def _registry(log: list[str]) -> Registry:
    """The demo's job classes, in a registry of their own (the demo never touches the global one)."""
    registry = Registry()

    @job(queue="email", name="Demo::WelcomeEmail", registry=registry)
    class WelcomeEmail:
        @staticmethod
        def perform(user_id: int, address: str) -> None:
            log.append(f"sent a welcome email to user {user_id} <{address}>")

    @job(queue="critical", name="Demo::ChargeCard", registry=registry)
    class ChargeCard:
        @staticmethod
        def perform(order_id: int, cents: int) -> None:
            if cents <= 0:
                raise ValueError(f"order {order_id}: cannot charge {cents} cents")
            log.append(f"charged order {order_id}: ${cents / 100:.2f}")

        @staticmethod
        def on_failure_alert(error: BaseException, order_id: int, cents: int) -> None:
            log.append(f"on_failure hook: would page someone about order {order_id}")

    @job(queue="reports", name="Demo::DailyReport", registry=registry)
    class DailyReport:
        @staticmethod
        def perform(day: str) -> None:
            log.append(f"built the report for {day}")

    return registry


def run_demo(out: TextIO) -> dict[str, Any]:
    """Run the demo, writing a readable account to ``out``; returns the final ``Resque.info()``."""
    log: list[str] = []
    resque = Resque(fakeredis.FakeRedis(), registry=_registry(log))

    def say(text: str = "") -> None:
        print(text, file=out)

    say("resque-impl demo: an embedded Redis (fakeredis), three job classes, one worker\n")
    jobs: list[tuple[str, str, tuple[Any, ...]]] = [
        ("reports", "Demo::DailyReport", ("2026-11-27",)),
        ("email", "Demo::WelcomeEmail", (42, "ada@example.com")),
        ("critical", "Demo::ChargeCard", (1001, 2599)),
        ("email", "Demo::WelcomeEmail", (43, "alan@example.com")),
        ("critical", "Demo::ChargeCard", (1002, -5)),
    ]
    say("enqueued:")
    for queue, class_name, args in jobs:
        resque.enqueue_to(queue, class_name, *args)
        raw = resque.peek_raw(queue, resque.size(queue) - 1)[0].decode()
        say(f"  {queue:<9} {raw}")

    hooks = WorkerHooks()
    hooks.queue_empty(lambda worker: log.append("queue_empty hook: all queues drained"))
    worker = Worker(
        ["critical", "email", "*"],
        resque=resque,
        hooks=hooks,
        options=WorkerOptions(fork_per_job=False, burst=True),
    )
    say(f"\nworking queues critical, email, then * (everything else), as worker {worker.id}:")
    worker.work()
    for line in log:
        say(f"  {line}")

    info = resque.info()
    say(f"\nprocessed {info['processed']} jobs, {info['failed']} failed; workers left registered: {info['workers']}")
    sizes = resque.store.queue_sizes(resque.queues())
    say("queue sizes: " + ", ".join(f"{name}={size}" for name, size in sizes.items()))
    for record in resque.failures.all():
        say(f"\nfailure record (as Ruby's resque-web shows it) for {record.class_name}{tuple(record.args)}:")
        shown = {**record.data, "backtrace": record.backtrace[:1] + (["..."] if len(record.backtrace) > 1 else [])}
        say(json.dumps(shown, indent=2, ensure_ascii=False))
    say("\nnext: run a real worker with `resque-impl work --queues critical,email,'*' --jobs your.jobs`")
    return info


def main() -> None:
    run_demo(sys.stdout)


if __name__ == "__main__":
    main()
