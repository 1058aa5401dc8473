"""Asserting on ActiveJob jobs in the test modes (:mod:`resque_impl.testing`).

::

    def test_signup_sends_a_rails_invoice(resque_fake):          # the pytest plugin's fake mode
        app.signup("ann@example.com")
        assert_active_job_enqueued(resque_fake, "InvoiceJob", 42, amount=Decimal("9.99"), queue="mailers")

Every ActiveJob job is a Resque job of class ``JobWrapper``; these helpers look inside it, at the
Rails class and arguments. Expected arguments are serialized as they would be enqueued and compared
with what is in the queue, so ``Symbol("paid")`` and ``"paid"`` differ as they do in Ruby. Without
arguments or keywords any arguments match. In inline mode, jobs with a Python :class:`ActiveJob`
class run at once (assert on what they did); the others are queued, with a ``NotRunInlineWarning``
naming their ``job_class`` (a ``StrictInlineError`` in strict mode), so these helpers find them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from resque_impl.activejob.arguments import deserialize_arguments, serialize_arguments
from resque_impl.activejob.envelope import WRAPPER_CLASS, JobData
from resque_impl.activejob.job import ActiveJob
from resque_impl.errors import DeserializationError
from resque_impl.testing.assertions import Expectation, Seen

if TYPE_CHECKING:
    from resque_impl.testing.sandbox import Sandbox

__all__ = ["EnqueuedActiveJob", "active_jobs", "assert_active_job_enqueued", "assert_active_job_scheduled"]


@dataclass(frozen=True, slots=True)
class EnqueuedActiveJob:
    """An ActiveJob job waiting in a queue, or in the delayed queue until :attr:`scheduled_at`."""

    queue: str
    job_data: JobData
    scheduled_at: datetime | None = None

    @property
    def job_class(self) -> str:
        return self.job_data.job_class

    @property
    def arguments(self) -> tuple[list[Any], dict[str, Any]]:
        """Positional and keyword arguments, as a Python job would receive them."""
        return deserialize_arguments(self.job_data.arguments)


def _read(queue: str, args: list[Any], scheduled_at: datetime | None) -> EnqueuedActiveJob | None:
    try:
        return EnqueuedActiveJob(queue, JobData.from_args(args), scheduled_at)
    except DeserializationError:
        return None  # not an ActiveJob job this helper can describe; a worker would record it failed


def active_jobs(sandbox: Sandbox, *, scheduled: bool = False) -> list[EnqueuedActiveJob]:
    """The ActiveJob jobs waiting in the sandbox's queues (``scheduled``: in its delayed queue)."""
    found: Iterable[EnqueuedActiveJob | None]
    if scheduled:
        found = (
            _read(job.queue or "", job.args, datetime.fromtimestamp(job.timestamp, timezone.utc))
            for job in sandbox.scheduled(WRAPPER_CLASS)
        )
    else:
        found = (_read(job.queue, job.args, None) for job in sandbox.jobs(job_class=WRAPPER_CLASS))
    return [job for job in found if job is not None]


def _name(job_class: str | type[ActiveJob]) -> str:
    return job_class if isinstance(job_class, str) else job_class.job_class


def _check(
    sandbox: Sandbox,
    job_class: str | type[ActiveJob],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    queue: str | None,
    *,
    scheduled: bool,
) -> None:
    name = _name(job_class)
    wanted = serialize_arguments(args, kwargs) if args or kwargs else None
    expected = Expectation(name, wanted, queue)
    seen = [
        Seen(
            job.queue if job.scheduled_at is None else f"{job.queue} at {job.scheduled_at:%Y-%m-%dT%H:%M:%SZ}",
            job.job_class,
            job.job_data.arguments,
            job.queue,
        )
        for job in active_jobs(sandbox, scheduled=scheduled)
    ]
    if any(expected.matches(job) for job in seen):
        return
    state = "scheduled" if scheduled else "enqueued"
    raise AssertionError(
        f"expected ActiveJob {expected.describe()} {state}, found none\n"
        f"{expected.listing(f'ActiveJob jobs {state}', seen)}"
    )


def assert_active_job_enqueued(
    sandbox: Sandbox, job_class: str | type[ActiveJob], *args: Any, queue: str | None = None, **kwargs: Any
) -> None:
    """Assert an ActiveJob job of ``job_class`` (with these arguments, on ``queue``, if given) waits
    in a queue; the message lists the ActiveJob jobs there and how the nearest differ."""
    _check(sandbox, job_class, args, kwargs, queue, scheduled=False)


def assert_active_job_scheduled(
    sandbox: Sandbox, job_class: str | type[ActiveJob], *args: Any, queue: str | None = None, **kwargs: Any
) -> None:
    """Like :func:`assert_active_job_enqueued`, for a job enqueued with ``wait``/``wait_until``."""
    _check(sandbox, job_class, args, kwargs, queue, scheduled=True)
