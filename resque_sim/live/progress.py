"""The progress bar of a live run: scenario time done of the total, wall time elapsed, jobs enqueued and done."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from resque_sim.live.runner import LiveProgress

__all__ = ["LiveProgressBar"]


class LiveProgressBar:
    """Call it with each :class:`LiveProgress`; :meth:`close` when the run ends.  Shown only on a terminal."""

    def __init__(self, console: Console, label: str, *, enabled: bool) -> None:
        self._label = label
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        if enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[elapsed]:.0f}/{task.total:.0f}s scenario"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[jobs]}"),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=1.0, elapsed=0.0, jobs="")

    def __call__(self, progress: LiveProgress) -> None:
        if self._progress is None or self._task is None:
            return
        jobs = f"{progress.finished:,} of {progress.enqueued:,} jobs done"
        self._progress.update(
            self._task, total=progress.total, completed=progress.elapsed, elapsed=progress.elapsed, jobs=jobs
        )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
