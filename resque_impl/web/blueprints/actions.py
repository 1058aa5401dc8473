"""What every action does after changing state: say what happened and go back (303, POST/redirect/GET)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from resque_impl.web.params import MAX_TEXT, safe_next

__all__ = ["done", "field"]


def field(name: str) -> str:
    """A required form field (400 when missing), cut to :data:`MAX_TEXT` characters."""
    value = request.form.get(name, "")
    if not value:
        raise BadRequest(f"the form field {name!r} is missing")
    return value[:MAX_TEXT]


def done(message: str, default_endpoint: str, *, category: str = "ok") -> Response:
    """Flash ``message`` and redirect to the form's ``next`` path (if local) or ``default_endpoint``."""
    flash(message, category)
    default = url_for(default_endpoint)
    target = safe_next(request.form.get("next"), "")
    return redirect(request.script_root + target if target else default, code=303)
