"""What OpenTelemetry tracing costs the no-fork worker (issue 25: traced >= 0.85x the untraced rate), and
how much of that is the SDK's own span rather than ours.

Every traced figure uses :class:`~resque_impl.opentelemetry.ResqueInstrumentor` (``link`` propagation, the
default) on an SDK ``TracerProvider`` whose ``BatchSpanProcessor`` exports to nowhere, so a figure shows
what making and batching spans costs a worker, not what an exporter's network costs. Jobs are enqueued
traced too, so every payload carries a ``traceparent`` to extract and link. Measured in the same run,
interleaved:

* the untraced no-fork worker (the baseline every ratio is against);
* the worker traced, every span recorded (the SDK's default sampler);
* the worker traced with ``ParentBased(TraceIdRatioBased(0.1))`` (``OTEL_TRACES_SAMPLER=
  parentbased_traceidratio``, ``OTEL_TRACES_SAMPLER_ARG=0.1``): one job in ten recorded;
* a bare loop that only starts and ends one SDK span per job, with the consumer span's name, kind,
  attributes and link, on the same kind of provider: the SDK's share as the SDK alone costs it.
  ``bare SDK / untraced`` is the ratio an untraced worker would have if each job also paid for that span
  and nothing else, and ``ours beyond the SDK span`` what the instrumentor adds to it per job;
* the untraced worker with only that bare SDK span around each perform (a hook that reads nothing and
  makes nothing current): the SDK's share paid inside the worker, where a tight loop's warm caches
  are gone. ``ours beyond the SDK span in the worker`` is the traced worker's cost per job above it.

    python -m benchmarks.tracing [--jobs 20000] [--runs 5]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING, Any

from benchmarks._common import Measurement, print_table
from benchmarks.tasks import Noop
from resque_impl import Resque, instrumentation
from resque_impl.codec import Payload
from resque_impl.testing import RedisServer
from resque_impl.worker import Worker, WorkerHooks, WorkerOptions

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import Sampler
    from opentelemetry.trace import Span

__all__ = ["available", "run", "traced"]

#: The sampled candidate records one job in this many.
SAMPLED_RATIO = 0.1


def available() -> bool:
    """Whether the ``otel`` extra and the OpenTelemetry SDK are installed."""
    return all(
        importlib.util.find_spec(name) is not None for name in ("opentelemetry.sdk", "opentelemetry.instrumentation")
    )


def _provider(sampler: Sampler | None) -> TracerProvider:
    # Imported here: the SDK is optional.
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult  # noqa: PLC0415

    class Nowhere(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(BatchSpanProcessor(Nowhere()))
    return provider


def _ratio_sampler() -> Sampler:
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased  # noqa: PLC0415

    return ParentBased(TraceIdRatioBased(SAMPLED_RATIO))


@contextmanager
def traced(sampler: Sampler | None = None) -> Iterator[None]:
    """Instrumented (``link`` propagation) while inside; the provider is shut down on the way out."""
    from resque_impl.opentelemetry import ResqueInstrumentor  # noqa: PLC0415

    provider = _provider(sampler)
    instrumentor = ResqueInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


@contextmanager
def _sdk_span() -> Iterator[Callable[[], Span]]:
    """Starts the SDK span the worker's perform span is (same name, kind, attributes and one link) and
    nothing else, on a provider of its own, made and shut down outside the clock as the worker
    candidates' providers are."""
    from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags  # noqa: PLC0415

    provider = _provider(None)
    tracer = provider.get_tracer("benchmarks.tracing")
    producer = SpanContext(0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331, True, TraceFlags(1))
    attributes = {
        "messaging.system": "resque",
        "messaging.destination": "bench",
        "messaging.destination_kind": "queue",
        "messaging.resque.job_class": Noop.__name__,
        "messaging.destination.name": "bench",
        "messaging.operation.type": "process",
        "messaging.operation.name": "process",
    }

    def start() -> Span:
        return tracer.start_span("bench process", kind=SpanKind.CONSUMER, attributes=attributes, links=[Link(producer)])

    try:
        yield start
    finally:
        provider.shutdown()


class _SpanOnly:
    """Around a perform: the bare SDK span started and ended, nothing read, nothing made current."""

    def __init__(self, start: Callable[[], Span]) -> None:
        self._start = start

    def __enter__(self) -> None:
        self._span = self._start()

    def __exit__(self, *exc_info: object) -> None:
        self._span.end()


class _SpanOnlyTracer:
    """A :class:`~resque_impl.instrumentation.JobTracer` paying for the SDK's span in the worker and for
    nothing else: the bare SDK span with the worker's caches and branches around it."""

    def __init__(self, start: Callable[[], Span]) -> None:
        self._start = start

    def sending(
        self, queue: str, class_name: str, args: Sequence[Any], count: int
    ) -> AbstractContextManager[Mapping[str, str]]:
        return nullcontext({})

    def performing(self, queue: str, payload: Payload) -> AbstractContextManager[object]:
        return _SpanOnly(self._start)

    def child_exiting(self) -> None:
        pass


def _span_loop(start: Callable[[], Span], spans: int) -> None:
    for _ in range(spans):
        start().end()


def _drain(resque: Resque) -> None:
    options = WorkerOptions(fork_per_job=False, burst=True, notify=False)
    Worker(["bench"], resque=resque, options=options, hooks=WorkerHooks()).work()


def run(jobs: int = 20_000, runs: int = 5) -> list[Measurement]:
    """The no-fork worker untraced, traced (always on and sampled) and a bare SDK-span loop, interleaved
    ``runs`` times: medians of each run's ratio against that run's untraced worker, with the lowest and
    highest run. Each ratio is given twice: from wall-clock rates (what the target is stated for) and
    from this process's CPU time per job (all its threads: the span processor's too), which a busy
    machine disturbs far less; a worker that never waited for Redis would run at the CPU ratio. Empty
    when the SDK is not installed."""
    if not available():
        return []
    wall: dict[str, list[float]] = {name: [] for name in _CANDIDATES}
    cpu: dict[str, list[float]] = {name: [] for name in _CANDIDATES}
    with RedisServer() as server:
        client = server.client()
        resque = Resque(client)

        def fill() -> None:
            client.flushdb()
            resque.enqueue_many(Noop, [(n,) for n in range(jobs)])

        def timed(name: str, body: Callable[[], object]) -> None:
            started, used = time.perf_counter(), time.process_time()
            body()
            wall[name].append((time.perf_counter() - started) / jobs)
            cpu[name].append((time.process_time() - used) / jobs)

        for _ in range(runs):
            # Interleaved, so the machine's noise falls on every candidate alike.
            fill()
            timed("untraced", lambda: _drain(resque))
            for name, sampler in (("traced", None), ("sampled", _ratio_sampler())):
                with traced(sampler):
                    fill()
                    timed(name, lambda: _drain(resque))
            with _sdk_span() as start:
                timed("bare_sdk", lambda: _span_loop(start, jobs))
            with traced():
                fill()
            with _sdk_span() as start:
                instrumentation.install(_SpanOnlyTracer(start))
                try:
                    timed("sdk_in_worker", lambda: _drain(resque))
                finally:
                    instrumentation.uninstall()
        client.close()
    return _rows(wall, "wall") + _rows(cpu, "CPU")


_CANDIDATES = ("untraced", "traced", "sampled", "bare_sdk", "sdk_in_worker")


def _rows(seconds: dict[str, list[float]], clock: str) -> list[Measurement]:
    """Figures from seconds per job (per span for the bare loop), one list entry per run."""
    base = seconds["untraced"]

    def ratio(name: str) -> list[float]:
        return [untraced / other for untraced, other in zip(base, seconds[name], strict=True)]

    # The untraced worker with one bare SDK span added per job, and what the instrumentor adds beyond it.
    bare = [untraced / (untraced + sdk) for untraced, sdk in zip(base, seconds["bare_sdk"], strict=True)]
    ours = [
        (traced - untraced - sdk) * 1e6
        for traced, untraced, sdk in zip(seconds["traced"], base, seconds["bare_sdk"], strict=True)
    ]
    # The same, against the SDK span paid inside the worker (no cache kept warm by a tight loop).
    ours_in_worker = [
        (traced - sdk) * 1e6 for traced, sdk in zip(seconds["traced"], seconds["sdk_in_worker"], strict=True)
    ]
    target = 0.85 if clock == "wall" else None
    if clock == "wall":
        rates = {name: 1 / statistics.median(values) for name, values in seconds.items()}
        heads = [
            Measurement("ours, no fork, untraced", rates["untraced"], "jobs/s"),
            Measurement("ours, no fork, traced (every span recorded)", rates["traced"], "jobs/s"),
            Measurement(f"ours, no fork, traced, 1 in {round(1 / SAMPLED_RATIO)} sampled", rates["sampled"], "jobs/s"),
            Measurement("bare loop, one SDK span started and ended per job", rates["bare_sdk"], "spans/s"),
            Measurement("ours, no fork, only the bare SDK span around each perform", rates["sdk_in_worker"], "jobs/s"),
        ]
    else:
        heads = [
            Measurement(f"CPU per job, {name}", statistics.median(values) * 1e6, "us")
            for name, values in seconds.items()
        ]
    return [
        *heads,
        *_spread(f"traced / untraced ({clock})", ratio("traced"), "x", target),
        *_spread(f"sampled / untraced ({clock})", ratio("sampled"), "x", target),
        *_spread(f"bare SDK / untraced ({clock})", bare, "x"),
        *_spread(f"ours beyond the SDK span ({clock})", ours, "us/job"),
        *_spread(f"SDK span in the worker / untraced ({clock})", ratio("sdk_in_worker"), "x"),
        *_spread(f"ours beyond the SDK span in the worker ({clock})", ours_in_worker, "us/job"),
    ]


def _spread(name: str, values: list[float], unit: str, at_least: float | None = None) -> list[Measurement]:
    """The median of per-run figures (judged against ``at_least`` when given), then the lowest and highest run."""
    median = statistics.median(values)
    judged = (f">= {at_least:g}x", median >= at_least) if at_least is not None else ("", None)
    return [
        Measurement(f"  {name}", median, unit, *judged),
        Measurement(f"    {name}, lowest run", min(values), unit),
        Measurement(f"    {name}, highest run", max(values), unit),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=20_000, help="jobs per run")
    parser.add_argument("--runs", type=int, default=5, help="interleaved runs; medians are reported")
    options = parser.parse_args(argv)
    if not available():
        print("the OpenTelemetry SDK is not installed: pip install -e '.[otel]'")
        return 2
    rows = run(options.jobs, options.runs)
    print_table(f"tracing cost, no-fork worker (median of {options.runs} interleaved runs)", rows)
    return 0 if all(row.ok is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
