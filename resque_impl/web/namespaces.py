"""One dashboard for several namespaces: each namespace's full dashboard under ``/ns/<namespace>/``,
with a switcher in every page's header.

::

    app = create_namespaced_app([Resque(url, namespace="{a}"), Resque(url, namespace="{b}")], auth="u:p")
    waitress.serve(app)          # /ns/%7Ba%7D/overview, /ns/%7Bb%7D/overview; / redirects to the first

Each namespace is served by its own :func:`~resque_impl.web.create_app`, so every page, action, the
JSON API, ``/metrics`` and ``/health`` are that namespace's, exactly as a dashboard of its own. They
share one secret key, so the session (and the CSRF token it holds) stays valid across the switch; the
pages and their Content-Security-Policy are unchanged (the switcher is plain links).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from flask import Flask, request
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.utils import redirect

from resque_impl.client import Resque
from resque_impl.errors import ConfigurationError
from resque_impl.web.app import SECRET_ENV, create_app

__all__ = ["create_namespaced_app", "namespace_path"]

Environ = dict[str, Any]
StartResponse = Callable[..., Any]


def namespace_path(namespace: str) -> str:
    """Where ``namespace``'s dashboard is mounted, URL-encoded (``/ns/%7Ba%7D`` for ``{a}``)."""
    return "/ns/" + quote(namespace, safe="")


def create_namespaced_app(
    resques: Sequence[Resque], *, secret_key: str | bytes | None = None, **options: Any
) -> Callable[[Environ, StartResponse], Iterable[bytes]]:
    """A WSGI application serving one dashboard per :class:`Resque` (each its own namespace) under
    :func:`namespace_path`; ``/`` redirects to the first. ``options`` go to every
    :func:`~resque_impl.web.create_app` (``auth``, ``limits``, ``schedule``, ``recommend_wait``).

    Raises :class:`ConfigurationError` for no namespace, or one given twice.
    """
    namespaces = [resque.namespace for resque in resques]
    if not namespaces:
        raise ConfigurationError("a namespaced dashboard needs at least one Resque")
    repeated = sorted({namespace for namespace in namespaces if namespaces.count(namespace) > 1})
    if repeated:
        raise ConfigurationError(f"namespace {repeated[0]!r} is given twice; give each namespace once")
    # One key for all of them (``$RESQUE_WEB_SECRET`` as create_app reads it, else random per process).
    key = secret_key or os.environ.get(SECRET_ENV) or secrets.token_bytes(32)
    mounts: dict[str, Any] = {}
    for resque in resques:
        app = create_app(resque, secret_key=key, **options)
        _add_switcher(app, resque.namespace, namespaces)
        # PATH_INFO arrives decoded: mount under the decoded path the encoded link leads to.
        mounts["/ns/" + resque.namespace] = app
    return DispatcherMiddleware(_Root(namespace_path(namespaces[0])), mounts)


def _add_switcher(app: Flask, own: str, namespaces: list[str]) -> None:
    """Give the layout's header partial (``namespace_switcher.html``) a link to each namespace's same
    dashboard, relative to wherever the whole application is mounted."""
    suffix = "/ns/" + own

    @app.context_processor
    def namespace_links() -> dict[str, Any]:
        root = request.script_root
        base = root[: len(root) - len(suffix)] if root.endswith(suffix) else root
        links = [(name, quote(base, safe="/") + namespace_path(name) + "/", name == own) for name in namespaces]
        return {"namespace_links": links}


class _Root:
    """``/``: a redirect to the first namespace's dashboard; anything else outside a namespace is 404."""

    def __init__(self, first: str) -> None:
        self.first = first

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "") in ("", "/"):
            script = quote(environ.get("SCRIPT_NAME", ""), safe="/")
            return redirect(f"{script}{self.first}/overview", code=302)(environ, start_response)
        return NotFound()(environ, start_response)
