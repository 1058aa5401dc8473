"""Machine-facing routes: ``/health`` (no auth), ``/stats.txt`` (resque-web's text format) and
``/metrics`` (Prometheus)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from resque_impl.errors import ResqueConnectionError
from resque_impl.metrics import CONTENT_TYPE_LATEST, render_metrics
from resque_impl.web.pages import view
from resque_impl.web.retry import retrying

__all__ = ["blueprint"]

blueprint = Blueprint("meta", __name__)


@blueprint.get("/health")
def health() -> tuple[Response, int]:
    """200 when Redis answers, 503 when it does not; says nothing else (it needs no credentials)."""
    try:
        retrying(view().store.ping)()
    except ResqueConnectionError:
        return jsonify({"status": "unavailable", "redis": "unreachable"}), 503
    return jsonify({"status": "ok", "redis": "ok"}), 200


@blueprint.get("/stats.txt")
def stats_txt() -> Response:
    """resque-web's ``/stats.txt``: ``resque.pending=N``, counters with ``+=``, one line per queue."""
    stats = view().stats()
    lines = [
        f"resque.pending={stats['pending']}",
        f"resque.processed+={stats['processed']}",
        f"resque.failed+={stats['failed']}",
        f"resque.workers={stats['workers']}",
        f"resque.working={stats['working']}",
    ]
    lines += [f"queues.{queue['name']}={queue['size']}" for queue in view().queue_sizes()]
    return Response("\n".join(lines) + "\n", mimetype="text/plain")


@blueprint.get("/metrics")
def metrics() -> Response:
    """Prometheus's text exposition (names in :mod:`resque_impl.metrics.prometheus`), with
    ``resque_recommended_workers`` estimated for the app's ``recommend_wait``."""
    wait_target = current_app.extensions["resque_web"].recommend_wait
    return Response(render_metrics(view().resque, wait_target), content_type=CONTENT_TYPE_LATEST)
