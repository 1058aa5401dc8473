"""Data for dashboard tests: workers, failures, delayed jobs and schedules written the way Ruby Resque and
resque-scheduler write them."""

from __future__ import annotations

from typing import Any

from resque_impl import Keys, Resque
from resque_impl.clock import format_failed_at, format_heartbeat, format_run_at, format_started
from resque_impl.codec import dumps
from resque_impl.keys import DEFAULT_NAMESPACE
from resque_impl.scheduler import ScheduleEntry, parse_schedule
from tests.conftest import load_fixture, loaded

__all__ = [
    "failure_record",
    "file_schedule",
    "load_ruby_fixtures",
    "register_worker",
    "seed_demo",
    "seed_scheduler",
]

#: A schedule file's entries, as a dashboard started with ``--schedule`` shows them.
SCHEDULE_FILE: dict[str, Any] = {
    "nightly_report": {
        "cron": "0 2 * * * Europe/Paris",
        "class": "ReportJob",
        "queue": "reports",
        "args": ["daily"],
        "description": "Yesterday's numbers for the ops channel",
    },
    "heartbeat": {"every": "30s", "class": "HeartbeatJob", "queue": "beats"},
    "reindex_search": {
        "cron": "",
        "class": "ReindexJob",
        "queue": "low",
        "description": "By hand, after a mapping change",
    },
}


def register_worker(
    client: Any,
    keys: Keys,
    worker_id: str,
    *,
    started: float,
    heartbeat: float | None = None,
    processed: int = 0,
    failed: int = 0,
    working: dict[str, Any] | None = None,
) -> None:
    """Write a worker's registration keys as a Ruby worker does (``working`` = queue/run_at/payload)."""
    client.sadd(keys.workers, worker_id)
    client.set(keys.worker_started(worker_id), format_started(started))
    if heartbeat is not None:
        client.hset(keys.heartbeats, worker_id, format_heartbeat(heartbeat))
    if processed:
        client.set(keys.worker_stat("processed", worker_id), processed)
    if failed:
        client.set(keys.worker_stat("failed", worker_id), failed)
    if working is not None:
        client.set(keys.worker(worker_id), dumps(working))


def working_record(queue: str, run_at: float, class_name: str, args: list[Any]) -> dict[str, Any]:
    return {"queue": queue, "run_at": format_run_at(run_at), "payload": {"class": class_name, "args": args}}


def failure_record(
    *,
    failed_at: float,
    class_name: str,
    args: list[Any],
    exception: str,
    error: str,
    backtrace: list[str],
    worker: str,
    queue: str,
) -> bytes:
    """A failure record's exact bytes, keys in Ruby's order."""
    return dumps(
        {
            "failed_at": format_failed_at(failed_at),
            "payload": {"class": class_name, "args": args},
            "exception": exception,
            "error": error,
            "backtrace": backtrace,
            "worker": worker,
            "queue": queue,
        }
    )


def load_ruby_fixtures(client: Any, namespace: str = DEFAULT_NAMESPACE) -> None:
    """A busy Ruby worker and the failures a Ruby worker recorded, from the golden dumps, in ``namespace``."""
    loaded(client, load_fixture("worker_processed_and_failed.json")["keys"], namespace)
    loaded(client, load_fixture("worker_busy.json")["keys"], namespace)


def seed_demo(resque: Resque, client: Any, now: float) -> None:
    """A small, realistic deployment: queues, workers on three hosts (one of them Ruby's), failures."""
    keys = resque.keys
    load_ruby_fixtures(client, keys.namespace)
    resque.enqueue_many("EmailJob", [(n, f"user{n}@example.com") for n in range(1240)], queue="email")
    resque.enqueue_many("ReportJob", [({"report": "daily", "day": n},) for n in range(37)], queue="reports")
    resque.enqueue_many("Billing::ChargeJob", [(n, 19.99, "EUR") for n in range(3)], queue="critical")
    resque.enqueue_to("low", "CleanupJob")
    resque.enqueue_to("low", "CleanupJob", {"older_than_days": 30, "dry_run": False, "tables": ["a", "b"]})
    client.incrby(keys.stat("processed"), 48210)
    client.incrby(keys.stat("failed"), 61)
    for n, host in enumerate(["web-1", "web-1", "jobs-2", "jobs-2", "jobs-2"]):
        worker_id = f"{host}:{4100 + n}:critical,email,reports"
        busy = n % 2 == 0
        register_worker(
            client,
            keys,
            worker_id,
            started=now - 3600 * (n + 1),
            heartbeat=now - 20 - n,
            processed=1000 * (n + 1),
            failed=n * 3,
            working=working_record("email", now - 4 - n * 7, "EmailJob", [n, f"user{n}@example.com"]) if busy else None,
        )
    register_worker(client, keys, "old-box:999:*", started=now - 86400 * 3, heartbeat=now - 900)
    classes = [
        ("EmailJob", "email", "Net::SMTPServerBusy", "454 4.7.0 Too many login attempts, slow down"),
        ("ReportJob", "reports", "ActiveRecord::StatementInvalid", "PG::QueryCanceled: canceling statement"),
        ("Billing::ChargeJob", "critical", "Stripe::CardError", "Your card was declined."),
    ]
    for n in range(45):
        class_name, queue, exception, error = classes[n % 3 if n % 5 else 0]
        resque.failures.save(
            failure_record(
                failed_at=now - 60 * (45 - n),
                class_name=class_name,
                args=[n, {"attempt": n % 4}],
                exception=exception,
                error=error,
                backtrace=[
                    f"app/jobs/{class_name.lower().replace('::', '/')}.rb:{10 + n}:in `perform'",
                    "gems/resque-3.0.0/lib/resque/job.rb:167:in `perform'",
                    "gems/resque-3.0.0/lib/resque/worker.rb:330:in `perform'",
                ],
                worker=f"jobs-2:{4102}:critical,email,reports",
                queue=queue,
            ),
            queue,
        )


def file_schedule() -> list[ScheduleEntry]:
    return parse_schedule(SCHEDULE_FILE, source="schedule.yaml")


def seed_scheduler(resque: Resque, client: Any, now: float) -> int:
    """Delayed jobs (Ruby's among them, some already due), a dynamic schedule, when schedules last
    fired, and a master scheduler; returns a timestamp holding many jobs."""
    keys = resque.keys
    store = resque.store
    loaded(client, load_fixture("delayed.json")["keys"], keys.namespace)
    start = int(now)
    for n in range(3):  # due but not yet moved: the scheduler polls every 5 s
        store.delayed_push(start - 4 + n, dumps({"class": "InvoiceJob", "args": [7000 + n], "queue": "billing"}))
    for n in range(40):
        store.delayed_push(
            start + 90 * (n + 1),
            dumps({"class": "ReminderEmailJob", "args": [n, f"user{n}@example.com"], "queue": "email"}),
        )
    batch = start + 600
    for n in range(25):
        item = {
            "class": "DigestEmailJob",
            "args": [n, {"locale": "en", "sections": ["news", "tips"]}],
            "queue": "email",
        }
        store.delayed_push(batch, dumps(item))
    store.delayed_push(batch, dumps({"class": "Retry::Job", "args": [1], "queue": "low", "retry_attempt": 2}))
    resque.set_schedule(
        "cleanup_sessions",
        {"class": "CleanupJob", "every": "1h", "queue": "low", "args": [{"older_than_days": 30}],
         "description": "Expire sessions idle for a month"},
    )  # fmt: skip
    client.hset(keys.schedules, "legacy_export", b'{"class":"ExportJob","cron":"every tuesday"}')
    client.hset(keys.last_enqueued_at, "heartbeat", format_started(now - 12))
    client.hset(keys.last_enqueued_at, "nightly_report", format_started(now - 21 * 3600))
    client.hset(keys.last_enqueued_at, "cleanup_sessions", format_started(now - 35 * 60))
    client.hset(keys.schedule_ticks, "heartbeat", repr(float(start - 12)))
    client.hset(keys.schedule_ticks, "cleanup_sessions", repr(float(start - 35 * 60)))
    client.set(keys.scheduler_master_lock, "sched-1:2210", ex=180)
    return batch
