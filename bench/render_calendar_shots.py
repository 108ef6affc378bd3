"""Render the calendar pane's views to PNG files for a visual check.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/render_calendar_shots.py [OUT_DIR]
        [--dark] [--size WxH] [--all]

Seeds about thirty posts across platforms and statuses in a throwaway MILTON_HOME,
with a fixed "now" (a FakeClock), and writes month, week, day, list, a drag in
progress, the "+N" popover, drafts and upcoming screenshots to OUT_DIR (default:
shots/ next to this folder). ``--size`` is the pane's size (default 1440x900),
``--dark`` uses a dark palette, ``--all`` renders every size in both themes
(see bench/shot_options.py). The whole window, with its dialogs, is
bench/render_shots.py.
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
from bench.shot_options import ShotOptions, apply_theme, parse, run_every

NOW_LOCAL = datetime(2027, 3, 17, 14, 20, tzinfo=ZONE)


def main(opts: ShotOptions) -> None:
    out_dir = opts.out_dir
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

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app, opts.dark)
    out_dir.mkdir(parents=True, exist_ok=True)
    clock = FakeClock(NOW_LOCAL.astimezone(UTC))
    pane = CalendarPane(QUndoStack(), clock=clock)
    pane.resize(opts.width, opts.height)
    pane.show()
    pane.go_to(NOW_LOCAL.date())
    shots = []
    for view in ("month", "week", "day", "list"):
        pane.set_view(view)
        if view == "day":
            pane.go_to(date(2027, 3, 16))
        app.processEvents()
        path = out_dir / opts.name(f"calendar-{view}")
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
    path = out_dir / opts.name("calendar-month-dragging")
    pane.grab().save(str(path))
    shots.append(path)
    QApplication.sendEvent(month, QDragLeaveEvent())
    pane.select(None)

    # A busy day's "+N", opened: the popover over the month.
    busy = date(2027, 3, 26)
    for n in range(7):
        _add_post(busy, 9 + n, n)
    pane.refresh()
    app.processEvents()
    if month.more_rects(busy):
        k = next(i for i, (_r, d) in enumerate(month._mores) if d == busy)
        popover = month.open_more(k)
        app.processEvents()
        path = out_dir / opts.name("calendar-month-popover")
        _grab_with_popup(pane, popover).save(str(path))
        shots.append(path)
        popover.close()

    drafts = DraftsPane()
    drafts.resize(280, 420)
    drafts.setPalette(app.palette())
    drafts.show()
    app.processEvents()
    path = out_dir / opts.name("calendar-drafts")
    drafts.grab().save(str(path))
    shots.append(path)

    upcoming = UpcomingPanel(clock=clock)
    upcoming.resize(320, 420)
    upcoming.show()
    app.processEvents()
    path = out_dir / opts.name("calendar-upcoming")
    upcoming.grab().save(str(path))
    shots.append(path)
    for p in shots:
        print(p)


def _add_post(day: date, hour: int, n: int) -> None:
    """One more pending post on ``day``, so the day overflows its cell."""
    from datetime import time

    from bench.sample_data import TEXTS
    from milton_desktop.storage.models import Account, Post, ScheduledPost

    account = Account.select().order_by(Account.id).offset(n % 3).first()
    when = datetime.combine(day, time(hour, 15), tzinfo=ZONE).astimezone(UTC)
    post = Post.create(body=TEXTS[n % len(TEXTS)], created_at=when, updated_at=when)
    ScheduledPost.create(
        post=post,
        account=account,
        scheduled_time=when,
        next_attempt_at=when,
        timezone="Europe/Paris",
        status="pending",
    )


def _grab_with_popup(pane, popup):
    """The pane with a popup window drawn over it where it is on screen."""
    from PySide6.QtGui import QPainter

    image = pane.grab()
    painter = QPainter(image)
    painter.drawPixmap(pane.mapFromGlobal(popup.pos()), popup.grab())
    painter.end()
    return image


if __name__ == "__main__":
    options = parse(sys.argv[1:], __doc__, Path(__file__).resolve().parents[1] / "shots")
    if options.every:
        sys.exit(run_every(Path(__file__).resolve(), options.out_dir))
    main(options)
