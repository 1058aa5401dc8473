"""A job class using the Timing plugin, for real worker processes (``--jobs tests.timed_jobs``)."""

from __future__ import annotations

import time

from resque_impl import Job
from resque_impl.plugins import Timing


class TimedNap(Timing, Job):
    queue = "plain"

    @staticmethod
    def perform(seconds: float) -> None:
        time.sleep(seconds)
