"""Python jobs for the live interop tests: each leaves a trace in Redis that the test (or Ruby) reads."""

from __future__ import annotations

from typing import Any

import redis

from resque_impl import Job

#: Set by the test before a worker runs: where the jobs record what they did.
TRACE_URL = "redis://127.0.0.1:6379/0"
TRACE_KEY = "interop:trace"


class PyTraceJob(Job):
    """Appends its arguments, as JSON text, to ``interop:trace``."""

    queue = "interop"
    url: str = TRACE_URL

    @classmethod
    def perform(cls, *args: Any) -> None:
        import json

        redis.Redis.from_url(cls.url).rpush(TRACE_KEY, json.dumps(["python", *args]))


class SomeTraceJob:
    """A plain job class (no base class) that traces like :class:`PyTraceJob`; Ruby writes its name
    ``"some-trace-job"`` as well as ``"SomeTraceJob"``."""

    queue = "interop"

    @classmethod
    def perform(cls, *args: Any) -> None:
        PyTraceJob.perform("plain", *args)
