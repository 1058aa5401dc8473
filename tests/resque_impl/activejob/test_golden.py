"""Our ActiveJob payloads against the ones Rails 6.1 wrote (tests/fixtures/activejob-6.1): the same
bytes, except the job id and enqueue time, which differ between any two Rails calls too."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from resque_impl import ManualClock, Resque
from resque_impl.activejob import (
    DateTime,
    GlobalID,
    IndifferentHash,
    JobData,
    RubyModule,
    Symbol,
    TimeWithZone,
    deserialize_arguments,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "activejob-6.1" / "payloads.jsonl"
GOLDEN = {entry["name"]: entry for entry in map(json.loads, FIXTURES.read_text().splitlines())}
UUID = re.compile(r'"job_id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"')
STAMP = re.compile(r'"enqueued_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"')
UTC = timezone.utc

#: fixture -> (class, positional arguments, keyword arguments) that Python enqueues to write it.
WRITTEN: dict[str, tuple[str, list[Any], dict[str, Any]]] = {
    "plain": ("InvoiceJob", [42, "text", 1.5, True, False, None, [1, [2]]], {}),
    "string_keys": ("InvoiceJob", [{"a": 1, "b": {"c": None}}], {}),
    "symbol_keys": ("InvoiceJob", [{Symbol("amount"): 1.5, "mixed": 2}], {}),
    "keywords": ("InvoiceJob", [7], {"amount": 1.5, "note": "x"}),
    "global_id": ("InvoiceJob", [GlobalID.create("app", "User", 42)], {}),
    "symbol": ("InvoiceJob", [Symbol("paid")], {}),
    "time_offset": (
        "InvoiceJob",
        [datetime(2026, 1, 2, 3, 4, 5, 500000, timezone(timedelta(hours=5, minutes=30)))],
        {},
    ),
    "date": ("InvoiceJob", [date(2026, 1, 2)], {}),
    "duration": ("InvoiceJob", [timedelta(hours=1, minutes=30), timedelta(days=2)], {}),
    "big_decimal": ("InvoiceJob", [Decimal("1.50")], {}),
    "module": ("InvoiceJob", [RubyModule("Admin::Report"), RubyModule("Comparable")], {}),
    "date_time": ("InvoiceJob", [DateTime.of(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-7))))], {}),
    "indifferent": ("InvoiceJob", [IndifferentHash({"k": 1})], {}),
    "namespaced": ("Billing::ChargeJob", [1], {}),
    "queue_set": ("InvoiceJob", [1], {}),
}

#: fixtures Python reads as other values than it writes them from: Ruby keeps nanoseconds, Python
#: microseconds; Rails 6.1 sends a BigDecimal as its string, which is what its own jobs receive too.
READ_AS: dict[str, list[Any]] = {
    "big_decimal": ["0.15e1"],
    "time_utc": [datetime(2026, 1, 2, 3, 4, 5, 123456, UTC)],
    "time_with_zone": [TimeWithZone.of(datetime(2026, 1, 2, 4, 4, 5, 123456, timezone(timedelta(hours=1))))],
}


def rails_job(name: str) -> tuple[str, bytes]:
    entry = GOLDEN[name]
    return entry["queue"], entry["raw"].encode()


def normalized(raw: bytes) -> str:
    text = raw.decode()
    assert UUID.search(text), f"no job_id in Rails' format: {text}"
    assert STAMP.search(text), f"no enqueued_at in Rails' format: {text}"
    return STAMP.sub('"enqueued_at":"<time>"', UUID.sub('"job_id":"<uuid>"', text))


@pytest.fixture
def resque() -> Resque:
    return Resque(fakeredis.FakeRedis(), clock=ManualClock(1_795_823_009.0))


@pytest.mark.parametrize("name", sorted(WRITTEN))
def test_python_writes_the_bytes_rails_wrote(resque: Resque, name: str) -> None:
    job_class, args, kwargs = WRITTEN[name]
    queue, rails = rails_job(name)

    resque.enqueue_active_job(job_class, *args, queue=queue, **kwargs)

    (ours,) = resque.peek_raw(queue)
    assert normalized(ours) == normalized(rails)


def test_a_delayed_job_is_the_item_rails_scheduled(resque: Resque) -> None:
    _, rails = rails_job("delayed")

    resque.enqueue_active_job("InvoiceJob", 1, queue="mailers", wait_until=4_102_444_800)

    (ours,) = resque.store.client.lrange(resque.keys.delayed(4_102_444_800), 0, -1)  # type: ignore[union-attr]
    assert normalized(ours) == normalized(rails)


def test_the_enqueue_time_is_the_clock_in_rails_format(resque: Resque) -> None:
    resque.enqueue_active_job("InvoiceJob", queue="q")

    (job,) = resque.peek("q")
    assert job.args[0]["enqueued_at"] == "2026-11-27T23:43:29Z"


@pytest.mark.parametrize("name", sorted(WRITTEN.keys() | READ_AS.keys()))
def test_python_reads_what_rails_wrote(name: str) -> None:
    _, rails = rails_job(name)
    job_data = JobData.from_args(json.loads(rails)["args"])

    args, kwargs = deserialize_arguments(job_data.arguments)

    expected_args, expected_kwargs = (READ_AS[name], {}) if name in READ_AS else WRITTEN[name][1:]
    assert (args, kwargs) == (expected_args, expected_kwargs)
    assert [type(arg) for arg in args] == [type(arg) for arg in expected_args]
