"""Render the calendar views to PNG files for a visual check.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/render_calendar_shots.py [OUT_DIR]

Seeds about thirty posts across platforms and statuses in a throwaway MILTON_HOME,
with a fixed "now" (a FakeClock), and writes month, week, day, list, drafts and
upcoming screenshots to OUT_DIR (default: shots/ next to this folder).
"""

from __future__ import annotations

import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Runnable as a plain script: the repository root makes `bench` importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.sample_data import ZONE, seed_month

NOW_LOCAL = datetime(2027, 3, 17, 14, 20, tzinfo=ZONE)


def main(out_dir: Path) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.domain.clock import FakeClock
    from milton_desktop.paths import resolve_paths
    from milton_desktop.storage.db import open_database

    home = tempfile.mkdtemp(prefix="milton-shots-")
    os.environ["MILTON_HOME"] = home
    open_database(resolve_paths().ensure().db_path)
    seed_month(NOW_LOCAL)

    from milton_desktop.ui.calendar.drafts import DraftsPane
    from milton_desktop.ui.calendar.pane import CalendarPane
    from milton_desktop.ui.calendar.upcoming import UpcomingPanel

    app = QApplication.instance() or QApplication(sys.argv)
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(NOW_LOCAL.astimezone(UTC))
    pane = CalendarPane(QUndoStack(), clock=clock)
    pane.resize(1280, 820)
    pane.show()
    pane.go_to(NOW_LOCAL.date())
    shots = []
    for view in ("month", "week", "day", "list"):
        pane.set_view(view)
        if view == "day":
            pane.go_to(date(2027, 3, 16))
        app.processEvents()
        path = out_dir / f"calendar_{view}.png"
        pane.grab().save(str(path))
        shots.append(path)
    # A selected chip, and a drag hovering over a later day, as a user sees them mid-drop.
    pane.set_view("month")
    pane.go_to(NOW_LOCAL.date())
    month = pane.month_view
    chosen = month.shown_ids(date(2027, 3, 18))[0]
    pane.select(chosen)
    mime = pane.model.mimeData([pane.model.index_of(chosen)])
    # QDragEnterEvent takes a QPoint up to Qt 6.11 (a QPointF from 6.12)
    pos = QPointF(month.day_rect(date(2027, 3, 24)).center()).toPoint()
    actions = Qt.DropAction.MoveAction
    for event in (
        QDragEnterEvent(
            pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        ),
        QDragMoveEvent(
            pos, actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
        ),
    ):
        QApplication.sendEvent(month, event)
    app.processEvents()
    path = out_dir / "calendar_month_dragging.png"
    pane.grab().save(str(path))
    shots.append(path)
    QApplication.sendEvent(month, QDragLeaveEvent())
    pane.select(None)

    pane.resize(760, 560)
    app.processEvents()
    path = out_dir / "calendar_month_small.png"
    pane.grab().save(str(path))
    shots.append(path)

    drafts = DraftsPane()
    drafts.resize(280, 420)
    drafts.show()
    app.processEvents()
    path = out_dir / "calendar_drafts.png"
    drafts.grab().save(str(path))
    shots.append(path)

    upcoming = UpcomingPanel(clock=clock)
    upcoming.resize(320, 420)
    upcoming.show()
    app.processEvents()
    path = out_dir / "calendar_upcoming.png"
    upcoming.grab().save(str(path))
    shots.append(path)
    for p in shots:
        print(p)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "shots")
