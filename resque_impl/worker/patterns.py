"""Which queues a worker reserves from, in which order: Ruby Resque's queue list semantics.

A worker is given queue names and patterns in priority order, e.g. ``["critical", "mail*", "*",
"!low"]``. On each reserve, every pattern is matched against the ``queues`` set with Ruby's
``File.fnmatch`` rules (``*`` any run of characters, ``?`` one character, ``[a-z]`` / ``[!a-z]``
classes, ``\\`` escapes; a leading ``.`` is matched only explicitly); each pattern's matches are sorted
alphabetically, the lists concatenated in pattern order, duplicates dropped, and every queue matching
an ``!``-exclusion removed. A list without wildcards is used as given (a queue need not be in the
``queues`` set to be reserved from), exactly as in Ruby.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property

from resque_impl.errors import ConfigurationError, NoQueueError

__all__ = ["QueuePatterns", "as_patterns", "fnmatch"]

_WILDCARDS = frozenset("*?[]{}")


def _translate(pattern: str) -> str:
    """A regular expression matching what Ruby's ``File.fnmatch(pattern, name)`` (no flags) matches."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        i += 1
        if char == "*":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "\\" and i < n:
            out.append(re.escape(pattern[i]))
            i += 1
        elif char == "[":
            j = i
            if j < n and pattern[j] in "!^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out.append(re.escape(char))
                continue
            body = pattern[i:j]
            i = j + 1
            negate = body[:1] in ("!", "^")
            if negate:
                body = body[1:]
            escaped = body.replace("\\", "\\\\").replace("^", "\\^").replace("[", "\\[")
            out.append(f"[{'^' if negate else ''}{escaped}]")
        else:
            out.append(re.escape(char))
    return "".join(out)


def fnmatch(pattern: str, name: str) -> bool:
    """Ruby's ``File.fnmatch(pattern, name)`` with no flags."""
    return _compiled(pattern)(name)


_cache: dict[str, re.Pattern[str]] = {}


def _compiled(pattern: str) -> _Matcher:
    regex = _cache.get(pattern)
    if regex is None:
        try:
            regex = _cache[pattern] = re.compile(_translate(pattern), re.DOTALL)
        except re.error as error:
            raise ConfigurationError(f"queue pattern {pattern!r} is malformed: {error}") from None
    explicit_dot = pattern.startswith((".", "\\."))
    return _Matcher(regex, explicit_dot)


class _Matcher:
    __slots__ = ("explicit_dot", "regex")

    def __init__(self, regex: re.Pattern[str], explicit_dot: bool) -> None:
        self.regex = regex
        self.explicit_dot = explicit_dot

    def __call__(self, name: str) -> bool:
        if name.startswith(".") and not self.explicit_dot:
            return False
        return self.regex.fullmatch(name) is not None


class QueuePatterns:
    """A worker's queue list: names, patterns and ``!`` exclusions, in priority order.

    Raises :class:`NoQueueError` for an empty list (Ruby: "Please give each worker at least one queue").
    """

    def __init__(self, patterns: Iterable[str]) -> None:
        cleaned = [str(pattern).strip() for pattern in patterns]
        cleaned = [pattern for pattern in cleaned if pattern]
        self.patterns: tuple[str, ...] = tuple(cleaned)
        self.includes: tuple[str, ...] = tuple(p for p in cleaned if not p.startswith("!"))
        self.excludes: tuple[str, ...] = tuple(p[1:] for p in cleaned if p.startswith("!") and len(p) > 1)
        if not self.includes:
            raise NoQueueError("Please give each worker at least one queue (e.g. --queues high,low or '*').")
        self.static = not any(_WILDCARDS & set(pattern) for pattern in self.includes)
        self._last_known: tuple[str, ...] | None = None
        #: ``known`` as last given, before sorting: a store lists the same set the same way each time
        self._last_given: tuple[str, ...] | None = None
        self._last_expansion: tuple[str, ...] = ()

    @cached_property
    def id_part(self) -> str:
        """The queue part of a worker id: the patterns as given, exclusions dropped."""
        return ",".join(self.includes)

    @cached_property
    def _static_list(self) -> tuple[str, ...]:
        return tuple(self._without_excluded(dict.fromkeys(self.includes)))

    def _without_excluded(self, names: Iterable[str]) -> list[str]:
        if not self.excludes:
            return list(names)
        matchers = [_compiled(pattern) for pattern in self.excludes]
        return [name for name in names if not any(match(name) for match in matchers)]

    def expand(self, known: Iterable[str] = ()) -> list[str]:
        """The queues to try, in order, given ``known`` (the ``queues`` set; unused if static).

        A worker expands its patterns before every reserve, and the ``queues`` set rarely changes, so
        the last expansion is kept and reused while the set is the same.
        """
        if self.static:
            return list(self._static_list)
        given = tuple(known)
        if given == self._last_given:
            return list(self._last_expansion)
        names = tuple(sorted(set(given)))
        if names != self._last_known:
            ordered: dict[str, None] = {}
            for pattern in self.includes:
                match = _compiled(pattern)
                for name in names:
                    if match(name):
                        ordered.setdefault(name)
            self._last_known, self._last_expansion = names, tuple(self._without_excluded(ordered))
        self._last_given = given
        return list(self._last_expansion)

    def covers(self, queue: str) -> bool:
        """Whether a job pushed to ``queue`` is one this worker could reserve."""
        if any(_compiled(pattern)(queue) for pattern in self.excludes):
            return False
        return any(_compiled(pattern)(queue) for pattern in self.includes)

    def __repr__(self) -> str:
        return f"QueuePatterns({list(self.patterns)!r})"


def as_patterns(value: QueuePatterns | Sequence[str] | str) -> QueuePatterns:
    """Accept a :class:`QueuePatterns`, a list, or a comma-separated string."""
    if isinstance(value, QueuePatterns):
        return value
    if isinstance(value, str):
        return QueuePatterns(value.split(","))
    return QueuePatterns(value)
