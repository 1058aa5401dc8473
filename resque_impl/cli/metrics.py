"""``metrics``: serve Prometheus metrics over HTTP, print them once, or report them to statsd."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click

from resque_impl.cli.app import Context, pass_context
from resque_impl.cli.job_modules import require_extra
from resque_impl.cli.recommend import recommend_wait_option
from resque_impl.cli.statsd import statsd_address

__all__ = ["metrics"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=9121, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free one).")
@click.option("--once", is_flag=True, help="Print the exposition text once and exit.")
@click.option("--statsd", "statsd_target", metavar="HOST:PORT", help="Also send gauges to this statsd server.")
@click.option("--statsd-prefix", default="resque", show_default=True, help="Prefix of statsd metric names.")
@click.option(
    "--statsd-interval",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds between reports.",
)
@recommend_wait_option
@pass_context
def metrics(
    ctx: Context,
    host: str,
    port: int,
    once: bool,
    statsd_target: str | None,
    statsd_prefix: str,
    statsd_interval: float,
    wait_target: float,
) -> None:
    """Export queue depths and latency, workers, job counts, failures, delayed jobs and run times.

    Serves Prometheus's text format at http://HOST:PORT/metrics until TERM or INT.
    """
    exporters = require_extra("resque_impl.metrics", "metrics")
    prometheus_client = require_extra("prometheus_client", "metrics")
    resque = ctx.resque
    if once:
        click.echo(exporters.render_metrics(resque, wait_target).decode(), nl=False)
        return
    reporter = None
    if statsd_target is not None:
        statsd = exporters.StatsdClient(*statsd_address(statsd_target), prefix=statsd_prefix)
        reporter = exporters.StatsdReporter(resque, statsd)
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    registry.register(exporters.ResqueCollector(resque, wait_target))
    server, _thread = prometheus_client.start_http_server(port, addr=host, registry=registry)
    click.echo(f"serving metrics on http://{host}:{server.server_port}/metrics", err=True)
    stopping = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping.is_set():
            if reporter is not None:
                reporter.report()
            stopping.wait(statsd_interval if reporter is not None else None)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        server.shutdown()
        server.server_close()
