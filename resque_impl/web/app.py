"""The dashboard's app factory, :func:`create_app`.

::

    from resque_impl import Resque
    from resque_impl.web import create_app

    app = create_app(resque=Resque("redis://localhost:6379/0"), auth="admin:secret")

The result is an ordinary Flask (WSGI) app: serve it with any WSGI server, or mount it inside another
app under a path (see the README's *Dashboard* section). ``resque-impl web`` serves it with waitress.
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError, ResqueConnectionError
from resque_impl.job_metrics.capacity import WAIT_TARGET
from resque_impl.scheduler.schedule import ScheduleEntry
from resque_impl.version import __version__
from resque_impl.web import security
from resque_impl.web.blueprints import BLUEPRINTS
from resque_impl.web.pages import here, page_url
from resque_impl.web.params import Limits
from resque_impl.web.retry import retrying
from resque_impl.web.security import Credentials
from resque_impl.web.timefmt import duration, format_epoch
from resque_impl.web.view import DashboardView

__all__ = ["AUTH_ENV", "NAV", "SCHEDULER_NAV", "SECRET_ENV", "DashboardState", "create_app"]

#: ``user:password`` for HTTP basic auth, read when ``create_app`` is given no ``auth``.
AUTH_ENV = "RESQUE_WEB_HTTP_BASIC_AUTH"
#: Key that signs session cookies (CSRF tokens); share it between processes serving one dashboard.
SECRET_ENV = "RESQUE_WEB_SECRET"


#: The navigation bar: endpoint, label, and the endpoints under which the item shows as current.
NAV: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("overview.overview", "Overview", frozenset({"overview.overview"})),
    ("workers.working", "Working", frozenset({"workers.working"})),
    ("queues.queues", "Queues", frozenset({"queues.queues", "queues.queue"})),
    ("workers.workers", "Workers", frozenset({"workers.workers", "workers.worker"})),
    ("failed.failed", "Failed", frozenset({"failed.failed"})),
    ("job_metrics.job_metrics", "Job metrics", frozenset({"job_metrics.job_metrics"})),
    ("stats.stats", "Stats", frozenset({"stats.stats", "stats.keys", "stats.key"})),
)
#: Added to :data:`NAV` while the scheduler is in use (as resque-scheduler adds resque-web's tabs).
SCHEDULER_NAV: tuple[tuple[str, str, frozenset[str]], ...] = (
    ("scheduler.schedule", "Schedule", frozenset({"scheduler.schedule"})),
    ("scheduler.delayed", "Delayed", frozenset({"scheduler.delayed", "scheduler.delayed_timestamp"})),
)


@dataclass(frozen=True)
class DashboardState:
    """What the running app knows, kept in ``app.extensions["resque_web"]``."""

    view: DashboardView
    credentials: Credentials | None
    recommend_wait: float = WAIT_TARGET


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else "-" if value is None else str(value)


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _nav_items() -> tuple[tuple[str, str, frozenset[str]], ...]:
    """The navigation bar for this request: the scheduler's pages while it is in use, or shown."""
    if request.blueprint == "scheduler":
        return NAV + SCHEDULER_NAV
    try:
        in_use = current_app.extensions["resque_web"].view.scheduler_in_use()
    except ResqueConnectionError:
        in_use = False  # the error page that says so still needs a navigation bar
    return NAV + SCHEDULER_NAV if in_use else NAV


def create_app(
    resque: Resque | None = None,
    *,
    auth: str | Credentials | None = None,
    secret_key: str | bytes | None = None,
    limits: Limits | None = None,
    schedule: Sequence[ScheduleEntry] = (),
    recommend_wait: float = WAIT_TARGET,
) -> Flask:
    """A dashboard for ``resque`` (default: ``Resque()``, i.e. ``$REDIS_URL`` or localhost).

    :param auth: ``"user:password"`` or :class:`Credentials` to require HTTP basic auth on every route
        but ``/health``; when not given, ``$RESQUE_WEB_HTTP_BASIC_AUTH`` is used if set.
    :param secret_key: signs the session cookie that holds the CSRF token (default:
        ``$RESQUE_WEB_SECRET``, else random per process; give several processes the same one).
    :param limits: bounds on what one request may read (page sizes, scan lengths).
    :param schedule: recurring entries of a schedule file (``resque_impl.scheduler.load_schedule_file``)
        to show beside the dynamic schedules in Redis, and to run on demand.
    :param recommend_wait: seconds; ``/metrics``' Erlang-C estimate of ``resque_recommended_workers``
        sizes each queue so that at most 5 % of its jobs wait longer than this.

    Raises :class:`ConfigurationError` for a schedule given as a path, or a ``recommend_wait`` that is
    not a positive number of seconds.
    """
    if isinstance(schedule, (str, bytes, os.PathLike)):
        raise ConfigurationError("schedule takes entries: read the file with resque_impl.scheduler.load_schedule_file")
    if not (isinstance(recommend_wait, (int, float)) and math.isfinite(recommend_wait) and recommend_wait > 0):
        raise ConfigurationError(f"recommend_wait must be a positive number of seconds, got {recommend_wait!r}")
    resque = resque if resque is not None else Resque()
    auth = auth if auth is not None else os.environ.get(AUTH_ENV) or None
    credentials = Credentials.parse(auth) if isinstance(auth, str) else auth
    app = Flask(__name__.rsplit(".", 1)[0])
    # resque-web answers every page with or without a trailing slash ("/working/").
    app.url_map.strict_slashes = False
    app.config.update(
        SECRET_KEY=secret_key or os.environ.get(SECRET_ENV) or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="resque_web",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["resque_web"] = DashboardState(
        DashboardView(resque, limits, schedule), credentials, float(recommend_wait)
    )
    app.jinja_env.filters.update(
        duration=duration, epoch=format_epoch, number=_number, pretty=_pretty, compact=_compact
    )
    app.jinja_env.globals.update(
        csrf_token=security.csrf_token,
        here=here,
        nav_items=_nav_items,
        page_url=page_url,
        version=__version__,
        namespace=resque.namespace,
        server=resque.store.description,
    )
    security.install(app, credentials)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    _retry_reads(app)
    _install_error_pages(app)
    return app


def _retry_reads(app: Flask) -> None:
    """Wrap every read-only (GET) view with :func:`~resque_impl.web.retry.retrying`; changes (POST)
    are never repeated."""
    views: dict[str, Any] = app.view_functions
    for rule in app.url_map.iter_rules():
        if rule.methods is not None and rule.methods <= {"GET", "HEAD", "OPTIONS"}:
            views[rule.endpoint] = retrying(views[rule.endpoint])


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/health"


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(ResqueConnectionError)
    def unreachable(error: ResqueConnectionError) -> tuple[Any, int]:
        if _wants_json():
            return jsonify({"error": str(error)}), 503
        return render_template("error.html", code=503, title="Redis is unreachable", message=str(error)), 503

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | tuple[Any, int]:
        code = error.code or 500
        response = error.get_response()
        if _wants_json():
            body = jsonify({"error": error.description})
        else:
            body = app.make_response(
                render_template("error.html", code=code, title=error.name, message=error.description)
            )
        body.status_code = code
        for name in ("Allow", "WWW-Authenticate"):
            if name in response.headers:
                body.headers[name] = response.headers[name]
        return body
