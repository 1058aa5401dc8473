"""The dashboard is a leaf: only the ``web`` command imports it, so the library never needs Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import resque_impl

PACKAGE = Path(resque_impl.__file__).resolve().parent
ALLOWED = {PACKAGE / "web", PACKAGE / "cli" / "web.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_outside_the_dashboard_imports_it_but_its_command() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if not any(path == allowed or allowed in path.parents for allowed in ALLOWED)
        and any(name == "resque_impl.web" or name.startswith(("resque_impl.web.", "flask")) for name in _imports(path))
    ]

    assert offenders == []


def test_templates_and_static_files_ship_inside_the_package() -> None:
    for name in ("templates/layout.html", "static/app.css", "static/app.js"):
        assert (PACKAGE / "web" / name).is_file(), name
