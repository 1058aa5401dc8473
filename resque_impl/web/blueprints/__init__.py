"""The dashboard's routes, one blueprint per page group; :data:`BLUEPRINTS` lists them all.

State changes are POSTs to ``/actions/<verb>`` with form fields (never a path that a page's own
``<path:...>`` rule could also match, so a GET there is always a 405).
"""

from __future__ import annotations

from flask import Blueprint

from resque_impl.web.blueprints.failed import blueprint as failed
from resque_impl.web.blueprints.job_metrics import blueprint as job_metrics
from resque_impl.web.blueprints.meta import blueprint as meta
from resque_impl.web.blueprints.overview import blueprint as overview
from resque_impl.web.blueprints.queues import blueprint as queues
from resque_impl.web.blueprints.scheduler import blueprint as scheduler
from resque_impl.web.blueprints.stats import blueprint as stats
from resque_impl.web.blueprints.workers import blueprint as workers

__all__ = ["BLUEPRINTS"]

BLUEPRINTS: tuple[Blueprint, ...] = (overview, queues, workers, failed, job_metrics, stats, scheduler, meta)
