"""Dotted field paths into raw scenario data (for ``--set`` overrides, sweeps and ``with_value``).

List items are addressed by index (``arrivals.0`` or ``arrivals[0]``) or by their ``pool``/``name``.
Both functions raise ``ValueError`` with a message fit for a user.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from resque_sim.scenario.errors import show

__all__ = ["require_field", "set_value"]


_NAME_KEYS = ("pool", "name")  # list items can be addressed by these keys as well as by index


def _path_tokens(path: str) -> list[str]:
    tokens = re.sub(r"\[(\d+)\]", r".\1", path).split(".")
    if not all(tokens):
        raise ValueError(f"{show(path)} is not a field path; write e.g. workers.default.count or arrivals[0].mix")
    return tokens


def _list_index(items: list[Any], token: str, walked: str) -> int:
    if token.isdigit():
        if int(token) >= len(items):
            raise ValueError(f"{walked} has {len(items)} entries, so there is no entry {token}")
        return int(token)
    for index, item in enumerate(items):
        if isinstance(item, Mapping) and any(item.get(key) == token for key in _NAME_KEYS):
            return index
    names = [str(item.get(key)) for item in items if isinstance(item, Mapping) for key in _NAME_KEYS if key in item]
    raise ValueError(f"{walked} has no entry named {show(token)} (names: {', '.join(names) or 'none'})")


def _walk(data: dict[str, Any], path: str, *, create: bool) -> tuple[Any, str | int]:
    """The container holding the last field of ``path`` and that field's key (or list index).

    With ``create``, missing mappings along the way are added (so ``--set`` can fill optional sections);
    without it, every step but the last must exist.
    """
    *parents, last = _path_tokens(path)
    node: Any = data
    for depth, token in enumerate(parents):
        key = _key(node, token, ".".join(parents[:depth]))
        if isinstance(node, dict) and node.get(key) is None:
            if not create:
                raise ValueError(f"{'.'.join(parents[:depth]) or 'the scenario'} has no field {show(token)}")
            node[key] = {}
        node = node[key]
    return node, _key(node, last, ".".join(parents))


def _key(node: Any, token: str, walked: str) -> str | int:
    """How ``token`` addresses an item of ``node``, the value at path ``walked``."""
    if isinstance(node, list):
        return _list_index(node, token, walked)
    if isinstance(node, dict):
        return token
    raise ValueError(f"{walked} is {show(node)}, which has no field {show(token)}")


def set_value(data: dict[str, Any], path: str, value: Any) -> None:
    container, key = _walk(data, path, create=True)
    container[key] = value


def require_field(data: dict[str, Any], path: str) -> None:
    container, key = _walk(data, path, create=False)
    if isinstance(container, dict) and key not in container:
        raise ValueError(f"no field {show(path)} in this scenario")
