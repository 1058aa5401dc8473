"""How a dashboard page is declared: one function returns the page's data, and :func:`page` serves it
both as HTML (``rule``) and as JSON (``/api`` + ``rule``), so every page has a JSON twin.

HTML pages can also be fetched as a fragment (``?partial=1``: the page body without the layout), which
the live-refresh script swaps in place every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from resque_impl.web.params import clamped
from resque_impl.web.view import DashboardView

__all__ = ["DEFAULT_REFRESH", "MAX_REFRESH", "here", "page", "page_url", "view"]

#: Seconds between live refreshes unless ``?refresh=N`` says otherwise (0 turns them off).
DEFAULT_REFRESH = 2
MAX_REFRESH = 60

PageData = Callable[..., dict[str, Any]]


def view() -> DashboardView:
    """The :class:`DashboardView` of the running app."""
    found: DashboardView = current_app.extensions["resque_web"].view
    return found


#: Query parameters that describe how a page is fetched, not what it shows.
_PRESENTATION = frozenset({"partial"})


def here(**changes: Any) -> str:
    """This page's path and query within the app (no script root), with ``changes`` applied
    (``None`` removes a parameter); what an action's ``next`` field carries."""
    args = {key: value for key, value in request.args.items() if key not in _PRESENTATION}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return request.path + ("?" + urlencode(args) if args else "")


def page_url(**changes: Any) -> str:
    """A link to this page with ``changes`` applied to its query (see :func:`here`)."""
    return request.script_root + here(**changes)


def page(
    blueprint: Blueprint, rule: str, template: str, *, live: bool = False, aliases: Sequence[str] = ()
) -> Callable[[PageData], PageData]:
    """Serve the decorated data function at ``rule`` (HTML from ``template``) and ``/api`` + ``rule``.

    ``live`` pages refresh their body in place every ``?refresh=`` seconds (default 2). ``aliases`` are
    further rules serving the same page (links use ``rule``).
    """

    def register(build: PageData) -> PageData:
        name = build.__name__

        def html(**values: Any) -> str:
            partial = request.args.get("partial") == "1"
            refresh = clamped(request.args, "refresh", DEFAULT_REFRESH, 0, MAX_REFRESH) if live else 0
            return render_template(
                template,
                data=build(**values),
                partial=partial,
                refresh=refresh,
                live_url=page_url(partial=1) if refresh else None,
            )

        def api(**values: Any) -> Response:
            return jsonify(build(**values))

        for each in (rule, *aliases):
            blueprint.add_url_rule(each, name, html, methods=["GET"])
            blueprint.add_url_rule("/api" + each, name + "_api", api, methods=["GET"])
        return build

    return register
