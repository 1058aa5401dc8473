"""Scenario files: YAML read strictly, ``--set`` overrides applied, then validated."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from resque_sim.scenario.errors import ScenarioError, show
from resque_sim.scenario.model import Scenario, parse_scenario
from resque_sim.scenario.paths import set_value

__all__ = ["load_scenario"]


def load_scenario(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate the scenario file at ``path``.

    ``overrides`` are ``--set`` strings ``path=value`` (``workers.default.count=24``, ``duration=10m``),
    applied in order to the raw YAML before validation; each value is parsed as YAML.  Raises
    ``ScenarioError`` for a missing or unreadable file, bad YAML, a bad override or an invalid scenario.
    """
    file = os.fspath(path)
    data = _read_yaml(Path(file), file)
    for override in overrides:
        _apply_override(data, override, file)
    return parse_scenario(data, source=file, base_dir=Path(file).parent, default_name=Path(file).stem)


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that rejects duplicate keys, which plain YAML loaders silently drop."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {show(key)}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, file: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ScenarioError(file, "", f"cannot read the file: {reason}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as error:
        raise _yaml_error(error, file) from None
    if not isinstance(data, dict):
        found = "an empty file" if data is None else show(data)
        raise ScenarioError(file, "", f"expected a mapping of scenario fields (version, name, ...), got {found}")
    return data


def _yaml_error(error: yaml.MarkedYAMLError, file: str) -> ScenarioError:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else None
    where = f"line {line}, column {mark.column + 1}: " if mark is not None else ""
    # the context ("while parsing a flow mapping", with its own line) often points at the real mistake
    context = error.context or ""
    if error.context and error.context_mark is not None and error.problem:
        context = f" ({error.context} at line {error.context_mark.line + 1})"
    return ScenarioError(file, "", f"{where}invalid YAML: {error.problem or ''}{context}", line=line)


def _apply_override(data: dict[str, Any], override: str, file: str) -> None:
    path, equals, text = override.partition("=")
    path = path.strip()
    if not equals or not path:
        raise ScenarioError(
            file, "", f"--set {show(override)} must look like path=value, e.g. workers.default.count=24"
        )
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ScenarioError(file, path, f"--set value {show(text)} is not valid YAML") from None
    try:
        set_value(data, path, value)
    except ValueError as error:
        raise ScenarioError(file, path, f"--set: {error}") from None
