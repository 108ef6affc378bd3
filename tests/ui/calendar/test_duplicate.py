"""Duplicate as draft: from a chip's or a list row's menu, a new draft with the same
text and media, shown selected in the Drafts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtGui import QColor, QImage, QUndoStack

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.operations import posts, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import ScheduledPost
from milton_desktop.ui.calendar.model import ScheduleItem
from milton_desktop.ui.calendar.pane import CalendarPane


def jpeg(path, w=400, h=300):
    image = QImage(w, h, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    assert image.save(str(path), "JPEG")
    return path


def test_duplicate_from_a_list_row_menu_makes_a_draft_with_the_same_text_and_media(
    qtbot, accounts, milton_home, tmp_path
):
    when = datetime.now(UTC) + timedelta(days=2)
    post = posts.add_post(
        "Spring sale",
        media=[posts.MediaInput(path=jpeg(tmp_path / "sale.jpg"), alt_text="A blue square")],
        media_dir=milton_home / "media",
    )
    sched = schedules.schedule(post.id, accounts["linkedin"], when, timezone="Europe/Paris")
    ScheduledPost.update(status=Status.FAILED, error_message="Token expired").where(
        ScheduledPost.id == sched.id
    ).execute()
    pane = CalendarPane(QUndoStack(), clock=FakeClock(datetime.now(UTC)))
    qtbot.addWidget(pane)
    pane.set_view("list")
    item = ScheduleItem.from_row(queries.schedule_view(sched.id), pane.zone)
    menu = pane.settler.menu_for(item, pane)
    (action,) = [a for a in menu.actions() if a.text() == "Duplicate as draft"]
    with qtbot.waitSignal(pane.draftDuplicated, timeout=5000) as made:
        action.trigger()
    (new_id,) = made.args
    assert new_id != post.id
    copy, original = queries.post_view(new_id), queries.post_view(post.id)
    assert copy.body == "Spring sale"
    assert [(m.path, m.alt_text) for m in copy.media] == [
        (m.path, m.alt_text) for m in original.media
    ]
    assert new_id in [d.id for d in queries.draft_views()]  # a draft: nothing scheduled
    assert "copied to a new draft" in pane.banner.text()
