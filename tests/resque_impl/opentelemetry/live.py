"""Running a real ``resque-impl work`` under ``opentelemetry-instrument`` and reading the spans it
exported (the SDK's console exporter, the worker's stdout written to a file)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
JOBS = "tests.resque_impl.opentelemetry.traced_jobs"


def run_traced_worker(
    url: str, log: Path, *args: str, style: str = "link", queue: str = "traced"
) -> list[dict[str, Any]]:
    """Drain ``queue`` with a burst worker that knows no tracing but what ``opentelemetry-instrument``
    gives it; return the spans it exported, as the console exporter's JSON objects."""
    command = [str(Path(sys.executable).parent / "opentelemetry-instrument"), sys.executable, "-m", "resque_impl.cli"]
    command += ["--redis", url, "work", "-q", queue, "--burst", "--jobs", JOBS, *args]
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        OTEL_LOGS_EXPORTER="none",
        OTEL_SERVICE_NAME="resque-worker",
        OTEL_PYTHON_RESQUE_PROPAGATION_STYLE=style,
    )
    with log.open("wb") as out:
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, stdout=out, stderr=subprocess.PIPE, timeout=60)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return exported_spans(log.read_text())


def exported_spans(text: str) -> list[dict[str, Any]]:
    """The JSON objects in ``text`` that start a line (the console exporter writes one per span)."""
    decoder = json.JSONDecoder()
    spans, at = [], 0
    while (at := text.find("{\n", at)) >= 0:
        if at > 0 and text[at - 1] != "\n":
            at += 1
            continue
        span, at = decoder.raw_decode(text, at)
        spans.append(span)
    return spans


def span_ids(exported: dict[str, Any]) -> tuple[int, int]:
    """(trace id, span id) of an exported span or link context."""
    context = exported.get("context", exported)
    return int(context["trace_id"], 16), int(context["span_id"], 16)
