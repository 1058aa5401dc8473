"""resque-scheduler's pages: delayed jobs by timestamp (queue now, cancel, clear) and the recurring
schedule (run now).

A delayed job is cancelled by its item id (timestamp, position hint and a digest of its exact bytes;
see :mod:`resque_impl.web.scheduler_view`), never by a bare position, so a job that moved is still
found and one that changed or went is reported gone rather than mistaken for another.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from resque_impl.errors import ResqueError
from resque_impl.scheduler.recurring import enqueue_entry
from resque_impl.web.blueprints.actions import done, field
from resque_impl.web.pages import page, view
from resque_impl.web.params import clamped
from resque_impl.web.timefmt import MAX_EPOCH, format_epoch

__all__ = ["blueprint"]

blueprint = Blueprint("scheduler", __name__)

#: Who the failure records of jobs that cannot be queued from here name as their worker.
DASHBOARD = "resque-impl web"


@page(blueprint, "/delayed", "delayed.html", live=True)
def delayed() -> dict[str, Any]:
    limits = view().limits
    per_page = clamped(request.args, "per_page", limits.per_page, 1, limits.max_per_page)
    start = clamped(request.args, "start", 0, 0, 2**62)
    return view().delayed(start, per_page)


@page(blueprint, f"/delayed/<int(max={MAX_EPOCH}):timestamp>", "delayed_timestamp.html")
def delayed_timestamp(timestamp: int) -> dict[str, Any]:
    limits = view().limits
    per_page = clamped(request.args, "per_page", limits.per_page, 1, limits.max_per_page)
    start = clamped(request.args, "start", 0, 0, 2**62)
    return view().delayed_timestamp(timestamp, start, per_page)


@page(blueprint, "/schedule", "schedule.html", live=True)
def schedule() -> dict[str, Any]:
    return view().schedule()


def _timestamp() -> int:
    value = field("timestamp")
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_EPOCH:
        raise BadRequest("the form field 'timestamp' must be epoch seconds")
    return int(value)


@blueprint.post("/actions/queue-delayed-now")
def queue_now() -> Response:
    timestamp = _timestamp()
    resque = view().resque
    waiting = resque.delayed_timestamp_size(timestamp)
    count = resque.enqueue_delayed_timestamp(timestamp, worker=DASHBOARD)
    when = format_epoch(timestamp)
    if not waiting:
        return done(f"Nothing queued: no job is due at {when} any more.", "scheduler.delayed", category="error")
    message = f"Queued {count:,} job(s) due at {when}."
    if count < waiting:
        message += (
            f" {waiting - count:,} other(s) were not: vetoed by a hook, recorded as failed, or taken by a scheduler"
            " first."
        )
    return done(message, "scheduler.delayed", category="ok" if count else "error")


@blueprint.post("/actions/cancel-delayed")
def cancel() -> Response:
    found = view().delayed_item(field("id"))
    removed = view().resque.remove_delayed_item(*found) if found is not None else 0
    if found is None or not removed:
        gone = "Nothing done: that delayed job was queued, cancelled or changed by someone else."
        return done(gone, "scheduler.delayed", category="error")
    timestamp, raw = found
    what = view().job(raw)["class"] or "the job"
    copies = f" ({removed} identical copies)" if removed > 1 else ""
    return done(f"Cancelled {what} due at {format_epoch(timestamp)}{copies}.", "scheduler.delayed")


@blueprint.post("/actions/clear-delayed")
def clear() -> Response:
    view().resque.reset_delayed_queue()
    return done("Cleared every delayed job.", "scheduler.delayed")


@blueprint.post("/actions/run-schedule")
def run_now() -> Response:
    name = field("name")
    entry = view().schedule_entry(name)
    if entry is None:
        return done(f"Nothing done: there is no schedule {name} any more.", "scheduler.schedule", category="error")
    try:
        queued = enqueue_entry(view().resque, entry)
    except ResqueError as error:
        return done(f"Nothing done: {error}.", "scheduler.schedule", category="error")
    if not queued:
        vetoed = f"{entry.class_name} (schedule {name}) was not queued: a before_enqueue hook vetoed it."
        return done(vetoed, "scheduler.schedule", category="error")
    return done(f"Queued {entry.class_name} (schedule {name}) now.", "scheduler.schedule")
