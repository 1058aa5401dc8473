"""A worker runs the ActiveJob payloads Rails enqueues with the Python class of their ``job_class``,
and records what goes wrong as Resque failures (fakeredis and a real redis-server)."""

from __future__ import annotations

import json
import types
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest

from resque_impl import Registry, Resque
from resque_impl.activejob import WRAPPER_CLASS, ActiveJob, GlobalID, Symbol
from resque_impl.job import register_module_jobs
from resque_impl.worker import Worker, WorkerOptions

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "activejob-6.1" / "payloads.jsonl"
GOLDEN = {entry["name"]: entry for entry in map(json.loads, FIXTURES.read_text().splitlines())}


class InvoiceJob(ActiveJob):
    job_class = "Aj::Test::InvoiceJob"
    runs: ClassVar[list[dict[str, Any]]] = []

    def perform(self, *args: Any, **kwargs: Any) -> None:
        self.runs.append(
            {
                "args": args,
                "kwargs": kwargs,
                "job_id": self.job_id,
                "queue_name": self.queue_name,
                "executions": self.executions,
                "locale": self.locale,
                "timezone": self.timezone,
                "enqueued_at": self.enqueued_at,
                "extras": dict(self.job_data.extras),
            }
        )


class Billing:
    class RefusingJob(ActiveJob):
        def perform(self, *args: Any, **kwargs: Any) -> None:
            raise ValueError(f"refused {args}")


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    InvoiceJob.runs.clear()


def rails_payload(name: str, job_class: str = InvoiceJob.job_class, **changes: Any) -> tuple[str, bytes]:
    """A payload Rails wrote, naming ``job_class`` (and with ``changes`` to its job hash)."""
    entry = GOLDEN[name]
    payload = json.loads(entry["raw"])
    payload["args"][0].update(job_class=job_class, **changes)
    return entry["queue"], json.dumps(payload, separators=(",", ":")).encode()


def drain(resque: Resque, queue: str) -> None:
    Worker([queue], resque=resque, options=WorkerOptions(fork_per_job=False, interval=0)).work(0)


def test_a_worker_runs_the_python_class_named_by_job_class(resque: Resque) -> None:
    queue, raw = rails_payload("keywords")
    resque.store.push(queue, raw)

    drain(resque, queue)

    (run,) = InvoiceJob.runs
    assert run["args"] == (7,)
    assert run["kwargs"] == {"amount": 1.5, "note": "x"}
    assert run["job_id"] == json.loads(raw)["args"][0]["job_id"]
    assert (run["queue_name"], run["executions"], run["locale"], run["timezone"]) == ("mailers", 1, "en", None)
    assert run["enqueued_at"].tzinfo == timezone.utc
    assert f"{run['enqueued_at']:%Y-%m-%dT%H:%M:%SZ}" == json.loads(raw)["args"][0]["enqueued_at"]
    assert resque.failures.count() == 0
    assert resque.info()["processed"] == 1


def test_python_runs_what_python_enqueued_with_the_same_values(resque: Resque) -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, 6, timezone.utc)
    resque.enqueue_active_job(InvoiceJob, GlobalID("gid://app/User/42"), {Symbol("at"): when}, kind=Symbol("paid"))

    drain(resque, "default")

    (run,) = InvoiceJob.runs
    assert run["args"] == (GlobalID("gid://app/User/42"), {"at": when})
    assert type(run["kwargs"]["kind"]) is Symbol


def test_an_unknown_job_class_is_a_failure_naming_it(resque: Resque) -> None:
    queue, raw = rails_payload("plain", job_class="RailsOnly::Mailer")
    resque.store.push(queue, raw)

    drain(resque, queue)

    (record,) = resque.failures.all()
    assert record.exception == "NameError"
    assert record.error.startswith("uninitialized constant RailsOnly::Mailer")
    assert record.payload == json.loads(raw)


def test_a_failing_job_is_recorded_with_its_payload_as_a_resque_worker_records_it(resque: Resque) -> None:
    queue, raw = rails_payload("plain", job_class="Billing::RefusingJob")
    resque.store.push(queue, raw)

    drain(resque, queue)

    (record,) = resque.failures.all()
    assert (record.exception, record.queue) == ("ValueError", "mailers")
    assert record.error == "refused (42, 'text', 1.5, True, False, None, [1, [2]])"
    assert record.payload["class"] == WRAPPER_CLASS
    assert resque.info()["failed"] == 1


@pytest.mark.parametrize(
    ("job_hash", "error"),
    [
        ({"job_id": None}, "ActiveJob payload field 'job_id' is None (NoneType), expected str"),
        ({"arguments": "42"}, "ActiveJob payload field 'arguments' is '42' (str), expected list"),
        ({"executions": "0"}, "ActiveJob payload field 'executions' is '0' (str), expected int"),
        ({"enqueued_at": "yesterday"}, "ActiveJob payload field 'enqueued_at': 'yesterday' is not an ISO 8601 time"),
        (
            {"arguments": [{"_aj_serialized": "MoneySerializer", "value": 1}]},
            "Error while trying to deserialize arguments: arguments[0]: Serializer MoneySerializer is not known",
        ),
        (
            {"arguments": [{"_aj_globalid": "User/42"}]},
            "Error while trying to deserialize arguments: arguments[0]: malformed GlobalID 'User/42'",
        ),
    ],
    ids=repr,
)
def test_an_unreadable_payload_is_a_failure_saying_what_is_wrong_and_the_worker_goes_on(
    resque: Resque, job_hash: dict[str, Any], error: str
) -> None:
    queue, bad = rails_payload("plain", **job_hash)
    _, good = rails_payload("plain")
    resque.store.push(queue, bad)
    resque.store.push(queue, good)

    drain(resque, queue)

    (record,) = resque.failures.all()
    assert record.exception == "ActiveJob::DeserializationError"
    assert record.error.startswith(error)
    assert len(InvoiceJob.runs) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ([], "a JobWrapper payload's args must be one ActiveJob job hash, got 0 argument(s)"),
        (["x"], "a JobWrapper payload's args must be one ActiveJob job hash, got 1 argument(s) starting with a str"),
        ([{"job_id": "1", "arguments": []}], "ActiveJob payload has no 'job_class'"),
        ([{"job_class": "", "job_id": "1", "arguments": []}], "ActiveJob payload field 'job_class' is empty"),
    ],
    ids=repr,
)
def test_a_wrapper_payload_without_a_job_hash_is_a_failure(resque: Resque, args: list[Any], error: str) -> None:
    resque.enqueue_to("q", WRAPPER_CLASS, *args)

    drain(resque, "q")

    (record,) = resque.failures.all()
    assert (record.exception, record.error) == ("ActiveJob::DeserializationError", error)


def test_a_payload_from_a_newer_rails_runs_and_keeps_the_fields_it_adds(resque: Resque) -> None:
    queue, raw = rails_payload(
        "plain", enqueued_at="2026-12-07T04:38:50.123456789Z", scheduled_at="2026-12-07T05:38:50.000000000Z"
    )
    resque.store.push(queue, raw)

    drain(resque, queue)

    (run,) = InvoiceJob.runs
    assert run["enqueued_at"] == datetime(2026, 12, 7, 4, 38, 50, 123456, timezone.utc)
    assert run["extras"] == {"scheduled_at": "2026-12-07T05:38:50.000000000Z"}
    assert resque.failures.count() == 0


def test_a_jobs_module_does_not_register_its_activejob_classes_as_resque_classes() -> None:
    module = types.ModuleType("aj_jobs_module")
    exec(  # a module as --jobs imports it: the classes are defined in it
        "from resque_impl.activejob import ActiveJob\n"
        "class ModuleInvoiceJob(ActiveJob, register=False):\n"
        "    def perform(self, *args): pass\n",
        module.__dict__,
    )
    registry = Registry()

    assert register_module_jobs(module, registry) == []
    assert len(registry) == 0
