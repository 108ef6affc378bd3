"""The house's layering rules, checked on the source (import statements, not text):

- core modules import no Qt; runner.py imports only QtCore;
- publishers import no Qt, no database and no models: HTTP and the platform only;
- nothing below ui/ imports ui/ (the top-level wiring, app.py, may);
- ui/ holds no SQL and no HTTP: no peewee, no requests, no raw queries.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "milton_desktop"


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules(*globs: str) -> list[Path]:
    found = sorted({p for g in globs for p in PKG.glob(g)})
    assert found, globs
    return found


CORE = [
    p
    for p in modules("*.py", "domain/*.py", "storage/*.py", "operations/*.py", "engine/*.py")
    if p.name not in ("app.py", "runner.py")
]


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_imports_no_qt_and_no_ui(path):
    bad = {m for m in imports(path) if m.startswith("PySide6") or m.startswith("milton_desktop.ui")}
    if path.name == "cli.py":
        bad -= {
            "milton_desktop.app",
            "milton_desktop.app.run_app",
            "milton_desktop.app.run_self_test",
        }
    assert not bad, f"{path.name} imports {sorted(bad)}"


def test_runner_uses_only_qtcore():
    qt = {m for m in imports(PKG / "engine" / "runner.py") if m.startswith("PySide6")}
    assert qt and all(m.startswith("PySide6.QtCore") for m in qt), qt


@pytest.mark.parametrize("path", modules("publishers/*.py"), ids=lambda p: p.name)
def test_publishers_know_only_http_and_their_platform(path):
    bad = {
        m
        for m in imports(path)
        if m.startswith(
            (
                "PySide6",
                "peewee",
                "milton_desktop.storage.models",
                "milton_desktop.storage.db",
                "milton_desktop.operations.store",
                "milton_desktop.engine.machine",
                "milton_desktop.ui",
            )
        )
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", modules("ui/**/*.py"), ids=lambda p: p.name)
def test_ui_holds_no_sql_and_no_http(path):
    bad = {
        m for m in imports(path) if m.split(".")[0] in ("peewee", "requests", "sqlite3", "urllib3")
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
    source = path.read_text(encoding="utf-8")
    # A model query (Account.select(...)) or raw SQL; a widget's own select() is fine.
    query = re.search(
        r"\b[A-Z]\w*\.(select|update|insert|delete)\(|execute_sql\(|\bSELECT |INSERT INTO ", source
    )
    assert query is None, f"{path.name} runs a query ({query.group(0)!r}); put it in store.py"
