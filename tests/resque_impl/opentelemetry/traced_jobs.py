"""Jobs for the live tracing tests, run by real ``resque-impl work`` processes (``--jobs``)."""

from __future__ import annotations

from resque_impl import job


@job(queue="traced")
class TracedJob:
    @staticmethod
    def perform(outcome: str) -> None:
        if outcome == "fail":
            raise RuntimeError("asked to fail")
