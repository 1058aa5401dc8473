"""What keeps the dashboard safe: HTTP basic auth, CSRF tokens with a same-origin check, and the
response headers that stop injected content, sniffing and framing.

* With credentials configured, every route but ``/health`` answers 401 until they are given.
* Every state change is a POST; a POST must carry the session's CSRF token (form field
  ``csrf_token`` or header ``X-CSRF-Token``) and must not come from another site: ``Sec-Fetch-Site``
  must be ``same-origin`` and ``Origin`` must name this host when a browser sends them. Otherwise 403.
* Every response forbids inline scripts and styles (Content-Security-Policy), MIME sniffing and
  framing.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, Response, abort, request, session

__all__ = ["CONTENT_SECURITY_POLICY", "Credentials", "csrf_token", "install"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

#: Endpoints anyone may reach without credentials.
PUBLIC_ENDPOINTS = frozenset({"meta.health"})

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Credentials:
    """A user name and password for HTTP basic auth."""

    user: str
    password: str

    @classmethod
    def parse(cls, text: str) -> Credentials:
        """``user:pass`` (the password may contain ``:``)."""
        user, sep, password = text.partition(":")
        if not sep or not user or not password:
            raise ValueError("credentials must look like user:password, both non-empty")
        return cls(user, password)

    def matches(self, user: str, password: str) -> bool:
        # Compare both, always, in constant time: no early exit that would time the user name.
        user_ok = hmac.compare_digest(user.encode(), self.user.encode())
        password_ok = hmac.compare_digest(password.encode(), self.password.encode())
        return user_ok and password_ok


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def _authorized(credentials: Credentials) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    return bool(sep) and credentials.matches(user, password)


def _same_origin() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("Origin")
    if origin is not None:
        parts = urlsplit(origin)
        # Compare the host only: behind a TLS-terminating proxy the scheme seen here may differ.
        if not parts.netloc or parts.netloc.lower() != request.host.lower():
            return False
    return True


def _token_ok() -> bool:
    expected = session.get("csrf")
    given = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    return isinstance(expected, str) and hmac.compare_digest(given.encode(), expected.encode())


def install(app: Flask, credentials: Credentials | None) -> None:
    """Attach the checks and headers to ``app``."""

    @app.before_request
    def check_request() -> Response | None:
        public = request.endpoint in PUBLIC_ENDPOINTS
        if credentials is not None and not public and not _authorized(credentials):
            return Response(
                "Authentication required.\n",
                401,
                {"WWW-Authenticate": 'Basic realm="resque", charset="UTF-8"', "Content-Type": "text/plain"},
            )
        if request.method not in _SAFE_METHODS and request.routing_exception is None:
            if not _same_origin():
                abort(403, "cross-site request refused")
            if not _token_ok():
                abort(403, "missing or wrong CSRF token; reload the page and try again")
        return None

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response
