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
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ZONE = ZoneInfo("Europe/Paris")
NOW_LOCAL = datetime(2027, 3, 17, 14, 20, tzinfo=ZONE)

TEXTS = [
    "Three lessons from shipping our first desktop app to 2,000 beta users",
    "We're hiring: a senior Python engineer who loves Qt and good tests",
    "Behind the scenes of today's studio shoot 📸 #design #studio",
    "New blog post: scheduling posts across time zones without surprises",
    "Thank you to everyone who came to the meetup last night!",
    "Quick tip: keep your drafts short and let the calendar do the rest",
    "Our spring collection drops next week — sneak peek inside",
    "Case study: how a 4-person team publishes to three networks",
    "Poll: do you plan your posts weekly or monthly?",
    "Live Q&A on Thursday at 18:00 — bring your questions",
    "The one chart that explains our growth this quarter",
    "Reminder: the early-bird price ends on Friday",
]

#: (day offset from the 1st, local time, platform, status)
PLAN = [
    (1, "09:00", "linkedin", "published"),
    (1, "12:30", "x", "published"),
    (2, "10:00", "instagram", "published"),
    (3, "08:30", "linkedin", "published"),
    (4, "10:00", "x", "failed"),
    (5, "18:00", "instagram", "published"),
    (8, "09:15", "linkedin", "published"),
    (8, "09:15", "x", "published"),
    (8, "09:15", "instagram", "published"),
    (8, "17:00", "linkedin", "published"),
    (9, "11:00", "x", "uncertain"),
    (10, "10:00", "linkedin", "missed"),
    (11, "15:45", "instagram", "published"),
    (12, "10:00", "linkedin", "cancelled"),
    (15, "09:00", "x", "failed"),
    (16, "14:20", "linkedin", "publishing"),
    (16, "10:00", "linkedin", "published"),
    (16, "12:00", "x", "published"),
    (16, "16:30", "instagram", "pending"),
    (16, "18:00", "x", "pending"),
    (17, "10:00", "linkedin", "pending"),
    (18, "10:00", "x", "pending"),
    (18, "10:00", "linkedin", "pending"),
    (18, "19:30", "instagram", "pending"),
    (21, "09:00", "linkedin", "pending"),
    (22, "10:00", "x", "cancelled"),
    (23, "13:00", "instagram", "pending"),
    (24, "08:00", "linkedin", "pending"),
    (25, "10:00", "x", "pending"),
    (29, "10:00", "linkedin", "pending"),
    (30, "11:30", "instagram", "pending"),
    (33, "10:00", "linkedin", "pending"),
]


def seed() -> None:
    from milton_desktop import settings
    from milton_desktop.models import Account, Media, Post, ScheduledPost

    settings.set_value("timezone", "Europe/Paris")
    accounts = {
        "linkedin": Account.create(platform="linkedin", display_name="Work LinkedIn"),
        "x": Account.create(platform="x", display_name="My X"),
        "instagram": Account.create(platform="instagram", display_name="Studio IG"),
    }
    first = NOW_LOCAL.date().replace(day=1)
    now = NOW_LOCAL.astimezone(UTC)
    for n, (offset, hhmm, platform, status) in enumerate(PLAN):
        day = first + timedelta(days=offset - 1)
        hh, mm = map(int, hhmm.split(":"))
        when = datetime.combine(day, time(hh, mm), tzinfo=ZONE).astimezone(UTC)
        post = Post.create(body=TEXTS[n % len(TEXTS)], created_at=now, updated_at=now)
        ScheduledPost.create(
            post=post,
            account=accounts[platform],
            scheduled_time=when,
            next_attempt_at=when,
            timezone="Europe/Paris",
            status=status,
            error_message=(
                "LinkedIn refused the post: the image is larger than 36 MB"
                if status == "failed"
                else None
            ),
            remote_url=f"https://example.com/p/{n}" if status == "published" else None,
        )
    for n, text in enumerate(
        [
            "Draft: a thread on what we learned moving from a daemon to a desktop app. "
            "Five points, each with a screenshot.",
            "Teaser for the April webinar",
            "Photo dump from the offsite 🌲",
        ]
    ):
        post = Post.create(body=text, created_at=now, updated_at=now - timedelta(days=n))
        if n == 2:
            for k in range(3):
                Media.create(
                    post=post, position=k, kind="image", url=f"https://example.com/{k}.jpg"
                )


def main(out_dir: Path) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDragMoveEvent, QUndoStack
    from PySide6.QtWidgets import QApplication

    from milton_desktop.clock import FakeClock
    from milton_desktop.db import open_database
    from milton_desktop.paths import resolve_paths

    home = tempfile.mkdtemp(prefix="milton-shots-")
    os.environ["MILTON_HOME"] = home
    open_database(resolve_paths().ensure().db_path)
    seed()

    from milton_desktop.ui.calendar_view import CalendarPane
    from milton_desktop.ui.drafts import DraftsPane
    from milton_desktop.ui.upcoming import UpcomingPanel

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
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "shots")
