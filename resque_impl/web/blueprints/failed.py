"""Failed jobs: newest first, filtered by queue and class, with per-class counts; retry, retry and
remove, remove, retry all and clear.

Actions name a record by its stable id (``<list>:<index>:<digest>``), never by a bare position, so a
record that moved or changed since the page was drawn is found where it went, or reported gone.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.wrappers import Response

from resque_impl.errors import FailureNotFoundError
from resque_impl.web.blueprints.actions import done, field
from resque_impl.web.pages import page, view
from resque_impl.web.params import clamped, text

__all__ = ["blueprint"]

blueprint = Blueprint("failed", __name__)


@page(blueprint, "/failed", "failed.html")
def failed() -> dict[str, Any]:
    limits = view().limits
    per_page = clamped(request.args, "per_page", limits.per_page, 1, limits.max_per_page)
    start = clamped(request.args, "start", 0, 0, 2**62)
    queue, class_name = text(request.args, "queue"), text(request.args, "class")
    return view().failed(start, per_page, queue=queue, class_name=class_name)


def _on_record(action: str, past: str) -> Response:
    record_id = field("id")
    failures = view().resque.failures
    try:
        record = failures.get(record_id)
        getattr(failures, action)(record)
    except FailureNotFoundError as error:
        return done(f"Nothing done: {error}.", "failed.failed", category="error")
    what = f"{record.class_name or 'the job'} from {record.queue or 'its queue'}"
    return done(f"{past} {what}.", "failed.failed")


@blueprint.post("/actions/retry-failed")
def retry() -> Response:
    return _on_record("requeue", "Requeued")


@blueprint.post("/actions/retry-and-remove-failed")
def retry_and_remove() -> Response:
    return _on_record("retry_and_remove", "Requeued and removed")


@blueprint.post("/actions/remove-failed")
def remove() -> Response:
    return _on_record("remove", "Removed the failure of")


@blueprint.post("/actions/retry-all-failed")
def retry_all() -> Response:
    failures = view().resque.failures
    queue = text(request.form, "queue")
    count = failures.requeue_queue(queue) if queue else failures.requeue_all()
    return done(f"Requeued {count:,} failed job(s).", "failed.failed")


@blueprint.post("/actions/clear-failed")
def clear() -> Response:
    queue = text(request.form, "queue")
    view().resque.failures.clear(queue)
    return done(f"Cleared the failed jobs{' of ' + queue if queue else ''}.", "failed.failed")
