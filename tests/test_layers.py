"""The one layering rule import-linter cannot state: the runner imports only QtCore.

The rest of the house's layers are import-linter contracts in pyproject.toml, run by
scripts/test.sh (``lint-imports``).
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "milton_desktop"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_runner_uses_only_qtcore():
    qt = {m for m in _imports(PKG / "engine" / "runner.py") if m.startswith("PySide6")}
    assert qt and all(m.startswith("PySide6.QtCore") for m in qt), qt
