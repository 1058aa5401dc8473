"""Pydantic's validation errors turned into :class:`ScenarioError` lines a user can act on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from resque_sim.scenario.errors import FieldProblem, ScenarioError, show

__all__ = ["scenario_error"]


_TAGS = {
    "type": "constant, poisson, spike, ramp, diurnal, burst, trace",
    "dist": "exponential, constant, lognormal, gamma, empirical",
}
_EXPECTED = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "tuple": "a list",
    "dict": "a mapping",
    "model": "a mapping",
}
_BOUNDS = {
    "greater_than": ("gt", "above"),
    "greater_than_equal": ("ge", "at least"),
    "less_than": ("lt", "below"),
    "less_than_equal": ("le", "at most"),
}


def scenario_error(error: ValidationError, data: object, source: str) -> ScenarioError:
    located = [_located_message(details) for details in error.errors(include_url=False)]
    problems: list[tuple[str, str]] = []
    for loc, message in located:
        # pydantic also reports a parent (e.g. "arrivals: must not be empty") when a child fails; the
        # child's message is the one that says what to fix
        if any(other[: len(loc)] == loc and len(other) > len(loc) for other, _ in located):
            continue
        problem = (_display_path(loc, data), message)
        if problem not in problems:
            problems.append(problem)
    (path, message), *more = problems
    return ScenarioError(source, path, message, more=more)


def _located_message(details: Any) -> tuple[tuple[str | int, ...], str]:
    """The full location and a plain-words message for one pydantic error."""
    loc: tuple[str | int, ...] = tuple(details["loc"])
    kind: str = details["type"]
    ctx: dict[str, Any] = details.get("ctx") or {}
    value = details.get("input")
    cause = ctx.get("error")
    if isinstance(cause, FieldProblem):
        return loc + cause.loc, str(cause)
    if isinstance(cause, ValueError):
        return loc, str(cause)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = ctx["discriminator"].strip("'")
        shown = show(ctx["tag"]) + " is not a known " + key if "tag" in ctx else "is required"
        return (*loc, key), f"{shown}; use one of {_TAGS[key]}"
    return loc, _describe(kind, ctx, value, details["msg"])


def _describe(kind: str, ctx: dict[str, Any], value: object, fallback: str) -> str:
    if kind == "missing":
        return "is required"
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"must be {words} {ctx[key]:g}, got {show(value)}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "literal_error":
        return f"{show(value)} is not one of {ctx['expected']}"
    if kind == "finite_number":
        return f"{show(value)} is not a finite number"
    base = kind.removesuffix("_type").removesuffix("_parsing").removesuffix("_from_float")
    if base in _EXPECTED:
        return f"expected {_EXPECTED[base]}, got {show(value)}"
    return fallback[:1].lower() + fallback[1:]


def _display_path(loc: tuple[str | int, ...], data: object) -> str:
    """``arrivals[0].process.rate`` from a pydantic location, dropping the union tags pydantic inserts.

    Pydantic adds the chosen member of a tagged union (``spike``) as an extra step; walking the user's data
    alongside tells such a step (not a key there, but equal to the node's ``type``/``dist``) from a field.
    """
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(node, Mapping) and step not in node and step in (node.get("type"), node.get("dist")):
            continue
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, Mapping) else None
    return "".join(parts)
