"""Plain job classes, as a Ruby user writes them: a queue and ``perform``, no base class, no decorator.

Real workers load them with ``--jobs tests.plain_jobs``; each appends a line to the path it is given.
"""

from __future__ import annotations


class PlainMark:
    queue = "plain"

    @classmethod
    def perform(cls, path: str, text: str) -> None:
        with open(path, "a") as file:
            file.write(f"{text}\n")


class PlainHelper:
    """No perform: not a job, so ``--jobs`` leaves it unregistered."""
