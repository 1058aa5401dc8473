"""ActiveJob jobs in the test modes: asserted by their Rails class and arguments in fake mode, run at
once in inline mode when Python has their class, and seen through the pytest plugin's fixtures."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar

import pytest

from resque_impl import Resque
from resque_impl.activejob import ActiveJob, Symbol
from resque_impl.activejob.testing import active_jobs, assert_active_job_enqueued, assert_active_job_scheduled
from resque_impl.testing import NotRunInlineWarning, Sandbox, StrictInlineError, fake_mode, inline_mode

#: Built at import time, as applications do; nothing may reach this address.
APP_RESQUE = Resque("redis://127.0.0.1:1/0")


class ReceiptJob(ActiveJob):
    job_class = "Aj::Testing::ReceiptJob"
    queue_as = "mailers"
    runs: ClassVar[list[tuple[tuple[Any, ...], dict[str, Any]]]] = []

    def perform(self, *args: Any, **kwargs: Any) -> None:
        self.runs.append((args, kwargs))


def test_fake_mode_asserts_a_rails_job_by_class_arguments_and_queue() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue_active_job("InvoiceJob", 42, Symbol("paid"), queue="mailers", amount=Decimal("9.99"))

        assert_active_job_enqueued(fake, "InvoiceJob", 42, Symbol("paid"), queue="mailers", amount=Decimal("9.99"))
        assert_active_job_enqueued(fake, "InvoiceJob")
        (job,) = active_jobs(fake)
        assert job.arguments == ([42, Symbol("paid")], {"amount": "0.999e1"})


def test_a_missing_rails_job_fails_listing_the_ones_there_and_how_they_differ() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue_active_job("InvoiceJob", 42, "paid", queue="mailers")

        with pytest.raises(AssertionError) as raised:
            assert_active_job_enqueued(fake, "InvoiceJob", 42, Symbol("paid"))

    message = str(raised.value)
    assert message.startswith('expected ActiveJob InvoiceJob(42, {"_aj_serialized":')
    assert "ActiveJob jobs enqueued (1):" in message
    assert 'mailers  InvoiceJob(42, "paid")   <- args[1]: "paid", expected {"_aj_serialized"' in message


def test_fake_mode_asserts_a_job_enqueued_with_wait_as_scheduled() -> None:
    with fake_mode(start=0) as fake:
        APP_RESQUE.enqueue_active_job("ReminderJob", date(2026, 1, 2), wait=3600)

        assert_active_job_scheduled(fake, "ReminderJob", date(2026, 1, 2), queue="default")
        with pytest.raises(AssertionError, match="ActiveJob jobs enqueued: none"):
            assert_active_job_enqueued(fake, "ReminderJob")
        (job,) = active_jobs(fake, scheduled=True)
        assert job.scheduled_at == datetime.fromtimestamp(3600, timezone.utc)


def test_inline_mode_runs_a_python_activejob_and_queues_a_rails_only_one_saying_so() -> None:
    ReceiptJob.runs.clear()
    with inline_mode() as inline:
        APP_RESQUE.enqueue_active_job(ReceiptJob, 7, note="x")
        with pytest.warns(NotRunInlineWarning, match="could not run the job 'Aj::Testing::RailsOnlyJob'"):
            APP_RESQUE.enqueue_active_job("Aj::Testing::RailsOnlyJob", 8)

        assert ReceiptJob.runs == [((7,), {"note": "x"})]
        assert [job.job_class for job in active_jobs(inline)] == ["Aj::Testing::RailsOnlyJob"]


def test_strict_inline_mode_refuses_a_rails_only_job_naming_it() -> None:
    with inline_mode(strict=True) as inline:
        with pytest.raises(StrictInlineError, match="'Aj::Testing::StrictRailsJob'"):
            APP_RESQUE.enqueue_active_job("Aj::Testing::StrictRailsJob", 8)

        assert active_jobs(inline) == []


def test_the_pytest_plugin_fixture_sees_rails_jobs(resque_fake: Sandbox) -> None:
    APP_RESQUE.enqueue_active_job(ReceiptJob, 1)

    assert_active_job_enqueued(resque_fake, ReceiptJob, 1, queue="mailers")
