"""The editor's modules are imported while the window is idle, one per loop turn."""

from __future__ import annotations

import sys

from milton_desktop.ui.shell.warmup import EDITOR_MODULES, IdleImports


def test_imports_each_module_in_its_own_turn_and_survives_a_broken_one(qtbot, monkeypatch):
    for name in ("colorsys", "wave"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    warm = IdleImports(("colorsys", "milton_desktop.no_such_module", "wave"), delay_ms=0)
    assert "colorsys" not in sys.modules  # nothing happens before the loop runs
    with qtbot.waitSignal(warm.finished, timeout=5000):
        pass
    assert warm.done
    assert "colorsys" in sys.modules and "wave" in sys.modules


def test_the_list_ends_with_the_editor_dialog():
    # the dialog last: everything it needs is loaded by then, each in a turn of its own
    assert EDITOR_MODULES[-1] == "milton_desktop.ui.editor.dialog"
    assert all(name.startswith("milton_desktop.") for name in EDITOR_MODULES)
