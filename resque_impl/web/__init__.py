"""The dashboard: ``create_app(resque=...)`` builds a Flask (WSGI) app with resque-web's pages, a JSON
twin of each, ``/stats.txt``, ``/metrics`` and ``/health``; ``resque-impl web`` serves it.

Needs the ``web`` extra (``pip install 'resque-impl[web]'``). Nothing outside this package imports it.
"""

from resque_impl.web.app import create_app
from resque_impl.web.params import Limits
from resque_impl.web.security import Credentials
from resque_impl.web.view import DashboardView

__all__ = ["Credentials", "DashboardView", "Limits", "create_app"]
