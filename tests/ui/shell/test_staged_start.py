"""The staged start: a light first frame (the window's shell and an empty month) that
the real window then fills in place, and the starts that must not show it early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, QSettings, Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from milton_desktop.context import AppContext
from milton_desktop.paths import resolve_paths
from milton_desktop.ui.shell.first_run import DISMISSED_KEY
from milton_desktop.ui.shell.frame import build_skeleton
from milton_desktop.ui.shell.main_window import MainWindow

REPO = Path(__file__).resolve().parents[3]


def _rect_in(window: QWidget, widget: QWidget) -> QRect:
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())


def _context(creds) -> AppContext:
    paths = resolve_paths().ensure()
    return AppContext(paths=paths, credentials=creds, log_file=paths.log_file)


@pytest.mark.parametrize(
    "layout", ["first layout, guide dismissed", "saved layout and guide", "a wide window"]
)
def test_the_skeleton_becomes_the_window_in_place_with_the_same_month_cells(
    qtbot, db, creds, layout
):
    ctx = _context(creds)
    if layout == "saved layout and guide":
        # a previous session (no account yet: the first-run guide is up) resized the
        # window and a dock, then quit
        win = MainWindow(ctx, None, QUndoStack())
        win.resize(1500, 900)
        win.show()
        qtbot.waitExposed(win)
        win.resizeDocks([win.drafts_dock], [300], Qt.Orientation.Horizontal)
        assert win.first_run.isVisible()
        win.close()  # saves the geometry, the dock layout and the guide's height
        win.deleteLater()
    else:
        settings = QSettings(str(ctx.paths.data_dir / "ui-state.ini"), QSettings.Format.IniFormat)
        settings.setValue(DISMISSED_KEY, True)
        settings.sync()
    frame = build_skeleton(ctx.paths.data_dir)
    qtbot.addWidget(frame)
    if layout == "a wide window":  # wider than the offscreen screen: docks open
        frame.resize(1440, 900)
    frame.show()
    qtbot.waitExposed(frame)
    assert frame.skeleton is not None
    skeleton = frame.skeleton.month
    qtbot.waitUntil(lambda: skeleton.width() > 0)
    qtbot.wait(50)  # the layout settles, as it does before a paint
    geometry = frame.geometry()
    month_rect = _rect_in(frame, skeleton)
    days = [skeleton.first_day, skeleton.today, skeleton.first_day.replace(day=28)]
    cells = {d: skeleton.day_rect(d).toAlignedRect() for d in days}
    title = frame.skeleton.calendar_toolbar.title_label.text()
    menus = [a.text() for a in frame.menuBar().actions()]
    toolbar_height = frame.skeleton.toolbar.height()

    window = MainWindow.adopt(frame, ctx, None, QUndoStack(), fill_panes=False)
    month = window.calendar.month_view
    qtbot.waitUntil(lambda: month.isVisible() and month.width() > 0)
    qtbot.wait(50)  # the layout settles, as it does before a paint

    assert window is frame and isinstance(window, MainWindow)
    assert window.isVisible() and window.size() == geometry.size()
    assert _rect_in(window, month) == month_rect
    assert {d: month.day_rect(d) for d in days} == cells
    assert window.calendar.title_label.text() == title
    assert [a.text() for a in window.menuBar().actions()] == menus
    assert window.toolbar.height() == toolbar_height
    # nothing of the skeleton is left behind once its parts are deleted
    qtbot.waitUntil(lambda: window.findChild(QWidget, "skeletonMonth") is None)
    assert window.findChild(QWidget, "skeleton-status") is None
    assert [d.objectName() for d in window.findChildren(type(window.drafts_dock))] == [
        "drafts-dock",
        "upcoming-dock",
    ]
    # the panes fill after the real month's first paint, as at a normal start
    qtbot.waitUntil(lambda: window.panes_filled, timeout=3000)


def test_the_frame_module_imports_only_qt_and_light_modules():
    """What the first frame needs must not pull in the database, the publishers, the
    command line or the engine: that is the point of showing it first."""
    probe = (
        "import sys, json\n"
        "import milton_desktop.ui.shell.frame\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('milton_desktop')"
        " or m in ('peewee', 'requests', 'keyring'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    loaded = json.loads(out.stdout)
    heavy = [
        m
        for m in loaded
        if m in ("peewee", "requests", "keyring")
        or m.startswith(
            (
                "milton_desktop.storage",
                "milton_desktop.publishers",
                "milton_desktop.cli",
                "milton_desktop.engine",
                "milton_desktop.operations",
            )
        )
    ]
    assert heavy == []


#: runs the real app (``milton_desktop.__main__.main``) with two things a test needs:
#: the critical message box records its text instead of waiting for a click, and a
#: timer reports which windows are on screen, then quits
DRIVER = r"""
import json, sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

app = QApplication(sys.argv[:1])
tray = sys.argv[1]
if tray != "native":
    QSystemTrayIcon.isSystemTrayAvailable = staticmethod(lambda: tray == "yes")

def critical(parent, title, text, *args, **kwargs):
    print("critical " + json.dumps({"text": text, "parent": type(parent).__name__}), flush=True)
    return QMessageBox.StandardButton.Ok

QMessageBox.critical = staticmethod(critical)

def report():
    shown = [w.objectName() for w in QApplication.topLevelWidgets() if w.isVisible()]
    print("visible " + json.dumps(shown), flush=True)
    app.quit()

QTimer.singleShot(int(sys.argv[2]), report)
from milton_desktop.__main__ import main
sys.exit(main(sys.argv[3:]))
"""


def _run_app(home: Path, tray: str, after_ms: int, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "MILTON_HOME": str(home),
        "PYTHONPATH": str(REPO),
        "QT_QPA_PLATFORM": "offscreen",
        "MILTON_STARTUP_PROBE": "",
    }
    return subprocess.run(
        [sys.executable, "-c", DRIVER, tray, str(after_ms), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env=env,
    )


def test_a_damaged_database_still_says_so_over_the_first_frame(milton_home):
    paths = resolve_paths(str(milton_home)).ensure()
    paths.db_path.write_bytes(b"this is not a database, " * 400)
    out = _run_app(milton_home, "no", 20_000)
    said = [
        json.loads(line.split(" ", 1)[1])
        for line in out.stdout.splitlines()
        if line.startswith("critical ")
    ]
    assert out.returncode == 1, out.stderr[-2000:]
    assert len(said) == 1
    assert "cannot" in said[0]["text"] and "database" in said[0]["text"].lower()
    # the message is parented to the window already on screen, not a stray box
    assert said[0]["parent"] == "WindowFrame"


def test_minimized_with_a_tray_shows_no_window_at_all(milton_home):
    out = _run_app(milton_home, "yes", 2_500, "--minimized")
    assert out.returncode == 0, out.stderr[-2000:]
    visible = [
        json.loads(line.split(" ", 1)[1])
        for line in out.stdout.splitlines()
        if line.startswith("visible ")
    ]
    assert visible == [[]]
    log = (resolve_paths(str(milton_home)).log_file).read_text()
    assert "started minimized to the tray" in log
    assert "opening the calendar" not in log  # no first frame either


def test_a_plain_start_shows_the_frame_then_the_filled_window(milton_home):
    out = _run_app(milton_home, "no", 4_000)
    assert out.returncode == 0, out.stderr[-2000:]
    visible = [
        json.loads(line.split(" ", 1)[1])
        for line in out.stdout.splitlines()
        if line.startswith("visible ")
    ]
    assert visible == [["milton-main-window"]]  # one window: the frame became it
    log = (resolve_paths(str(milton_home)).log_file).read_text()
    assert log.index("window shown (opening the calendar)") < log.index("database schema")
    assert log.index("database schema") < log.index("window filled in")
