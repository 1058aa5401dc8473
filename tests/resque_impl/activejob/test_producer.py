"""``Resque.enqueue_active_job``: Rails' ``perform_later`` from Python (fakeredis and a real server)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from resque_impl import ManualClock, NoClassError, Resque, ScheduleError
from resque_impl.activejob import WRAPPER_CLASS, ActiveJob, SerializationError, build_job_data


class ReportJob(ActiveJob, register=False):
    queue_as = "reports"
    job_class = "Reports::WeeklyJob"


def test_it_enqueues_the_wrapper_payload_and_returns_the_job_id(resque: Resque) -> None:
    job_id = resque.enqueue_active_job("InvoiceJob", 42, queue="mailers")

    (job,) = resque.peek("mailers")
    assert job.class_name == WRAPPER_CLASS
    assert job.args[0]["job_id"] == job_id == str(uuid.UUID(job_id))
    assert (job.args[0]["job_class"], job.args[0]["arguments"]) == ("InvoiceJob", [42])


def test_the_queue_is_the_classs_queue_as_or_rails_default(resque: Resque) -> None:
    resque.enqueue_active_job(ReportJob)
    resque.enqueue_active_job("Anything")

    assert [job.args[0]["job_class"] for job in resque.peek("reports")] == ["Reports::WeeklyJob"]
    assert [job.args[0]["queue_name"] for job in resque.peek("default")] == ["default"]


def test_wait_schedules_it_through_resque_scheduler(resque: Resque, clock: ManualClock) -> None:
    resque.enqueue_active_job("InvoiceJob", 1, queue="mailers", wait=timedelta(minutes=5))
    resque.enqueue_active_job("InvoiceJob", 2, queue="mailers", wait=30)

    (in_five, in_thirty) = sorted(resque.find_delayed(WRAPPER_CLASS), key=lambda job: job.timestamp, reverse=True)
    assert (in_five.timestamp, in_five.queue) == (int(clock.time()) + 300, "mailers")
    assert in_thirty.timestamp == int(clock.time()) + 30
    assert resque.size("mailers") == 0


def test_wait_until_schedules_it_at_that_time(resque: Resque) -> None:
    when = datetime(2100, 1, 1, tzinfo=timezone.utc)

    resque.enqueue_active_job("InvoiceJob", queue="mailers", wait_until=when)

    (job,) = resque.find_delayed(WRAPPER_CLASS)
    assert (job.timestamp, job.queue) == (int(when.timestamp()), "mailers")


def test_an_argument_rails_cannot_read_raises_before_anything_is_written(resque: Resque) -> None:
    with pytest.raises(SerializationError, match=r"arguments\[1\]: Unsupported argument type: builtins.object"):
        resque.enqueue_active_job("InvoiceJob", 1, object(), queue="mailers")
    with pytest.raises(SerializationError, match=r"arguments\[0\]\[\"at\"\]: naive datetime"):
        resque.enqueue_active_job("InvoiceJob", at=datetime(2026, 1, 1), wait=60)

    assert resque.queues() == []
    assert resque.delayed_queue_schedule_size() == 0


def test_it_refuses_an_empty_class_name_and_unusable_waits(resque: Resque) -> None:
    with pytest.raises(NoClassError):
        resque.enqueue_active_job(" ")
    with pytest.raises(ScheduleError, match="not both"):
        resque.enqueue_active_job("InvoiceJob", wait=1, wait_until=2)
    with pytest.raises(ScheduleError, match="wait must be seconds or a timedelta, not str"):
        resque.enqueue_active_job("InvoiceJob", wait="1h")  # type: ignore[arg-type]
    with pytest.raises(ScheduleError, match="naive datetime"):
        resque.enqueue_active_job("InvoiceJob", wait_until=datetime(2100, 1, 1))

    assert resque.queues() == []


def test_a_negative_wait_enqueues_at_once(resque: Resque) -> None:
    resque.enqueue_active_job("InvoiceJob", 1, queue="mailers", wait=-5)

    assert resque.size("mailers") == 1


def test_a_job_hash_built_here_can_carry_another_locale_and_time_zone(resque: Resque, clock: ManualClock) -> None:
    job_data = build_job_data("InvoiceJob", [1], {}, queue="mailers", now=clock.time())

    resque.enqueue_to("mailers", WRAPPER_CLASS, replace(job_data, locale="de", timezone="Europe/Berlin").to_dict())

    (job,) = resque.peek("mailers")
    assert (job.args[0]["locale"], job.args[0]["timezone"]) == ("de", "Europe/Berlin")
    assert job.args[0]["job_id"] == job_data.job_id
