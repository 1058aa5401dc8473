"""Errors the test modes raise; all derive from :class:`resque_impl.ResqueError`."""

from __future__ import annotations

from resque_impl.errors import ResqueError, UnknownJobClassError

__all__ = [
    "DrainLimitError",
    "InlineDepthError",
    "JobFailedError",
    "NotRunInlineWarning",
    "SandboxInactiveError",
    "StrictInlineError",
    "TimelineLimitError",
]


def _not_run(class_name: str) -> str:
    return (
        f"inline mode could not run the job {class_name!r}: no Python class answers to that name in "
        "this process, so a Python worker would fail it"
    )


class NotRunInlineWarning(UserWarning):
    """Inline mode pushed a job it could not run (a job only a Ruby worker runs?); warned once per
    class name per process."""

    def __init__(self, class_name: str) -> None:
        super().__init__(
            f"{_not_run(class_name)}. It was pushed, so the test can assert it was enqueued (right for a "
            "job only a Ruby worker runs); otherwise hand enqueue the class object or register it. "
            "Strict mode (--resque-strict, resque_strict = true, @pytest.mark.resque(strict=True), "
            "inline_mode(strict=True)) makes this an error"
        )
        self.class_name = class_name


class StrictInlineError(UnknownJobClassError):
    """Strict inline mode was asked to enqueue a job no Python class in this process can run."""

    def __init__(self, class_name: str) -> None:
        super().__init__(class_name)
        self.args = (
            f"{_not_run(class_name)}. Hand enqueue the class object or register it; for a job only a "
            "Ruby worker runs, leave strict mode off for this test",
        )


class InlineDepthError(ResqueError):
    """Jobs run inline enqueued jobs nested deeper than the limit: most likely a job enqueues itself."""

    def __init__(self, limit: int, class_name: str) -> None:
        super().__init__(
            f"inline jobs nested {limit} deep (the latest: {class_name}); a job probably enqueues itself. "
            "Test it in fake mode and step through it with perform_one(), or raise max_depth"
        )
        self.limit = limit


class DrainLimitError(ResqueError):
    """``drain`` ran its limit of jobs and the queues were still not empty."""

    def __init__(self, limit: int, waiting: dict[str, int]) -> None:
        queues = ", ".join(f"{queue}: {size}" for queue, size in waiting.items()) or "none"
        super().__init__(
            f"drained {limit} jobs and jobs are still waiting ({queues}); a job probably enqueues "
            "another forever. Step through with perform_one(), or raise max_jobs"
        )
        self.limit = limit
        self.waiting = waiting


class JobFailedError(ResqueError):
    """A job failed while a test mode ran it; the failure was recorded as a worker records it.

    ``performed`` is the job's :class:`~resque_impl.testing.Performed` record; ``backtrace`` the
    failure record's backtrace (innermost frame first, as Ruby writes it).
    """

    def __init__(self, description: str, backtrace: list[str]) -> None:
        trace = "".join(f"\n    {line}" for line in backtrace)
        super().__init__(f"{description}{trace}")
        self.backtrace = backtrace


class SandboxInactiveError(ResqueError):
    """A sandbox was asked to run jobs while it was not the active test mode."""


class TimelineLimitError(ResqueError):
    """Moving the virtual clock stopped at more due moments than the limit: most likely a job that
    schedules itself again at once, or a recurring schedule far finer than the span moved."""

    def __init__(self, limit: int, target: float) -> None:
        super().__init__(
            f"moving the clock to {target} stopped at {limit} due moments on the way; a job probably "
            "schedules itself again at once. Move the clock in smaller steps, or look at what is scheduled"
        )
        self.limit = limit
