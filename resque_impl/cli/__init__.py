"""``resque-impl``: a thin command-line shell over the library.

Each command group lives in its own module and is attached to :data:`main` here; modules are imported
only when ``resque-impl`` runs, never when the library is imported.
"""

from __future__ import annotations

from resque_impl.cli.app import main
from resque_impl.cli.deploys import mark_deploy_command
from resque_impl.cli.failed import failed
from resque_impl.cli.metrics import metrics
from resque_impl.cli.queues import enqueue, info, queues
from resque_impl.cli.scheduler import scheduler
from resque_impl.cli.web import web
from resque_impl.cli.work import work

main.add_command(enqueue)
main.add_command(queues)
main.add_command(info)
main.add_command(failed)
main.add_command(scheduler)
main.add_command(metrics)
main.add_command(work)
main.add_command(web)
main.add_command(mark_deploy_command)

__all__ = ["main"]
