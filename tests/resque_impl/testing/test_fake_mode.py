"""Fake mode: every Resque in the process captures its jobs, encoded as in production."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

import resque_impl
from resque_impl import Job, NotSerializableError, Resque, job
from resque_impl.codec import decode_payload
from resque_impl.testing import Sandbox, fake_mode


class SignupEmail(Job):
    queue = "email"
    performed: ClassVar[list[tuple[Any, ...]]] = []

    @classmethod
    def perform(cls, *args: Any) -> None:
        cls.performed.append(args)


class AuditEntry(Job):
    queue = "audit"

    @staticmethod
    def perform(*args: Any) -> None:
        return None


@job(queue="billing", name="Billing::Invoice")
class InvoiceJob:
    @staticmethod
    def perform(*args: Any) -> None:
        return None


#: Built at import time, as applications do; nothing may reach this address.
APP_RESQUE = Resque("redis://127.0.0.1:1/0")


def test_jobs_from_an_instance_built_before_the_mode_are_captured() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 42, "hi")
    assert [(queued.queue, queued.class_name, queued.args) for queued in fake.jobs()] == [
        ("email", "SignupEmail", [42, "hi"])
    ]


def test_the_module_level_default_is_captured_too() -> None:
    with fake_mode() as fake:
        resque_impl.enqueue(SignupEmail, 1)
        resque_impl.enqueue_to("high", AuditEntry, 2)
        assert resque_impl.size("high") == 1
    assert fake.queues() == ["email", "high"]


def test_captured_payloads_are_the_bytes_production_would_push() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(InvoiceJob, 7, {"total": 1.5, "lines": ("a", "b")})
        raw = fake.resque.peek_raw("billing")
    assert raw == [b'{"class":"Billing::Invoice","args":[7,{"total":1.5,"lines":["a","b"]}]}']
    assert decode_payload(raw[0]).args == [7, {"total": 1.5, "lines": ["a", "b"]}]


def test_arguments_are_captured_as_sent_not_as_later_mutated() -> None:
    recipients = ["ann@example.com"]
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, recipients)
        recipients.append("bob@example.com")
        fake.assert_enqueued(SignupEmail, ["ann@example.com"])


def test_an_argument_production_would_refuse_is_refused_at_enqueue() -> None:
    with fake_mode() as fake, pytest.raises(NotSerializableError, match="args\\[0\\]"):
        APP_RESQUE.enqueue(SignupEmail, {1: "integer keys do not survive JSON"})
    assert fake.jobs() == []


def test_jobs_can_be_listed_by_queue_and_by_class() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 1)
        APP_RESQUE.enqueue(AuditEntry, 2)
        APP_RESQUE.enqueue_to("email", AuditEntry, 3)
        assert [queued.args for queued in fake.jobs(queue="email")] == [[1], [3]]
        assert [queued.args for queued in fake.jobs(job_class=AuditEntry)] == [[2], [3]]
        assert [queued.args for queued in fake.jobs(job_class="Billing::Invoice")] == []


def test_assert_enqueued_matches_class_args_queue_and_count() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 42, "hi")
        APP_RESQUE.enqueue(SignupEmail, 42, "hi")
        APP_RESQUE.enqueue(SignupEmail, 7, "yo")
        fake.assert_enqueued(SignupEmail)
        fake.assert_enqueued(SignupEmail, 42, "hi", queue="email", count=2)
        fake.assert_enqueued(SignupEmail, count=3)
        fake.assert_not_enqueued(AuditEntry)
        fake.assert_not_enqueued(SignupEmail, 42, "hi", queue="low")


def test_a_tuple_argument_matches_the_list_a_worker_receives() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, (1, 2))
        fake.assert_enqueued(SignupEmail, [1, 2])
        fake.assert_enqueued(SignupEmail, (1, 2))


def test_a_failed_assertion_lists_what_was_enqueued_and_how_it_differs() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 42, "hello")
        APP_RESQUE.enqueue_to("low", SignupEmail, 42, "hi")
        APP_RESQUE.enqueue(AuditEntry, 1)
        with pytest.raises(AssertionError) as failure:
            fake.assert_enqueued(SignupEmail, 42, "hi", queue="email")
    message = str(failure.value)
    assert message.splitlines()[0] == (
        'expected SignupEmail(42, "hi") on queue email enqueued at least once, found it 0 times'
    )
    assert 'email  SignupEmail(42, "hello")   <- args[1]: "hello", expected "hi"' in message
    assert 'low    SignupEmail(42, "hi")      <- on queue low, expected email' in message
    assert "audit  AuditEntry(1)" in message


def test_a_wrong_count_is_reported_with_the_count_found() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 1)
        APP_RESQUE.enqueue(SignupEmail, 1)
        with pytest.raises(AssertionError, match="enqueued once, found it twice"):
            fake.assert_enqueued(SignupEmail, 1, count=1)


def test_assert_not_enqueued_names_the_jobs_it_found() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 1)
        with pytest.raises(AssertionError, match=r"expected no SignupEmail\(\.\.\.\) enqueued, found it once"):
            fake.assert_not_enqueued(SignupEmail)


def test_clear_forgets_jobs_and_failures() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 1)
        APP_RESQUE.record_failure("email", APP_RESQUE.peek("email")[0].payload, ValueError("x"))
        fake.clear()
        assert fake.jobs() == []
        assert fake.failures == []
        assert APP_RESQUE.info()["pending"] == 0


def test_each_namespace_keeps_its_own_keys_and_all_are_listed() -> None:
    other = Resque("redis://127.0.0.1:1/0", namespace="billing-app")
    with fake_mode() as fake:
        other.enqueue(InvoiceJob, 1)
        APP_RESQUE.enqueue(SignupEmail, 2)
        assert fake.client.lrange("billing-app:queue:billing", 0, -1) == [b'{"class":"Billing::Invoice","args":[1]}']
        assert APP_RESQUE.size("billing") == 0
        fake.assert_enqueued(InvoiceJob, 1)
        fake.assert_enqueued(SignupEmail, 2)


def test_sandboxes_are_isolated_from_each_other() -> None:
    with fake_mode():
        APP_RESQUE.enqueue(SignupEmail, 1)
    with fake_mode() as second:
        assert APP_RESQUE.size("email") == 0
    assert second.jobs() == []


def test_a_sandbox_stays_readable_after_it_is_left() -> None:
    with fake_mode() as fake:
        APP_RESQUE.enqueue(SignupEmail, 1)
    fake.assert_enqueued(SignupEmail, 1)
    assert isinstance(fake, Sandbox)


def test_failure_timestamps_come_from_the_virtual_clock() -> None:
    with fake_mode(start=1_795_823_009) as fake:
        APP_RESQUE.record_failure("email", APP_RESQUE.encode(SignupEmail, [1]), ValueError("boom"))
    assert fake.failures[0].data["failed_at"] == "2026/11/27 23:43:29 UTC"
