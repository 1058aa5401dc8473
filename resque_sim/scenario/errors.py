"""The error a caller sees (:class:`ScenarioError`) and the one validators raise below it."""

from __future__ import annotations

import json
from collections.abc import Sequence

__all__ = ["FieldProblem", "ScenarioError", "show"]


class ScenarioError(ValueError):
    """A scenario that cannot be used.  ``str()`` is one ``file: path: message`` line per problem.

    ``file``, ``path`` and ``message`` describe the first problem (``path`` is ``""`` for whole-file
    problems such as YAML syntax); ``problems`` holds every ``(path, message)`` pair; ``line`` is the
    1-based YAML line for syntax errors, else ``None``.
    """

    def __init__(
        self,
        file: str,
        path: str,
        message: str,
        *,
        more: Sequence[tuple[str, str]] = (),
        line: int | None = None,
    ) -> None:
        self.file = file
        self.path = path
        self.message = message
        self.problems: tuple[tuple[str, str], ...] = ((path, message), *more)
        self.line = line
        super().__init__("\n".join(_error_line(file, p, m) for p, m in self.problems))


def _error_line(file: str, path: str, message: str) -> str:
    return f"{file}: {path}: {message}" if path else f"{file}: {message}"


class FieldProblem(ValueError):
    """Raised by validators for a problem below the model being validated (``loc`` is relative)."""

    def __init__(self, message: str, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.loc = loc


def show(value: object) -> str:
    """Render a user's value the way they wrote it in YAML (strings quoted, true/false, null)."""
    return json.dumps(value, default=str, ensure_ascii=False)
