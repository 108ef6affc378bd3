"""Resting the pointer on a chip or a list row shows the post's card: its picture,
text, account, time, status and, for a failed post, why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QColor, QHelpEvent, QImage, QUndoStack
from PySide6.QtWidgets import QApplication

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations import posts, schedules
from milton_desktop.storage.models import ScheduledPost
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.table import ScheduleTableModel

PARIS = get_zone("Europe/Paris")


def utc(day: date, hh: int) -> datetime:
    return datetime.combine(day, time(hh), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def day() -> date:
    return date(datetime.now(UTC).year + 1, 6, 17)


@pytest.fixture
def pane(qtbot, accounts, day):
    p = CalendarPane(QUndoStack(), clock=FakeClock(utc(day - timedelta(days=7), 8)))
    qtbot.addWidget(p)
    p.resize(1200, 760)
    p.show()
    qtbot.waitExposed(p)
    p.go_to(day)
    return p


def rest_on(widget, pos: QPoint) -> None:
    """What Qt sends when the pointer rests: a tooltip request at ``pos``."""
    QApplication.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos)))


def photo_post(tmp_path, milton_home, accounts, when, text="Our new studio"):
    image = QImage(1600, 1200, QImage.Format.Format_RGB32)
    image.fill(QColor("#3366aa"))
    path = tmp_path / "studio.jpg"
    assert image.save(str(path), "JPEG")
    post = posts.add_post(
        text, media=[posts.MediaInput(path=path)], media_dir=milton_home / "media"
    )
    return schedules.schedule(post.id, accounts["linkedin"], when, timezone="Europe/Paris")


def test_resting_on_a_chip_shows_its_picture_text_account_and_time(
    pane, accounts, day, tmp_path, milton_home, qtbot
):
    sched = photo_post(tmp_path, milton_home, accounts, utc(day, 9))
    pane.refresh()
    month = pane.month_view
    rest_on(month, month.chip_rect(sched.id).center())
    card = month.hover_card
    assert card.isVisible()
    picture = card.image_label.pixmap()
    assert card.image_label.isVisible() and not picture.isNull()
    # decoded small, to fit the card, not at the photo's 1600 pixels
    assert picture.width() <= card.image_box.width()
    assert picture.height() <= card.image_box.height()
    assert card.text_label.text() == "Our new studio"
    assert card.head_label.text() == "Pending · LinkedIn · Work LinkedIn"
    assert card.when_label.text().endswith("09:00")
    assert not card.reason_label.isVisible()
    # the pointer leaving the calendar hides it
    QApplication.sendEvent(month, QEvent(QEvent.Type.Leave))
    assert not card.isVisible()


def test_a_failed_posts_card_says_why(pane, make_schedule, day):
    sched = make_schedule("Spring sale", utc(day, 10))
    ScheduledPost.update(status=Status.FAILED, error_message="Token expired: reconnect").where(
        ScheduledPost.id == sched.id
    ).execute()
    pane.refresh()
    month = pane.month_view
    rest_on(month, month.chip_rect(sched.id).center())
    card = month.hover_card
    assert card.isVisible()
    assert card.reason_label.isVisible()
    assert card.reason_label.text() == "Why it failed: Token expired: reconnect"
    assert not card.image_label.isVisible()  # no picture, no empty frame


def test_a_linked_picture_is_named_not_fetched(pane, accounts, day):
    post = posts.add_post(
        "From the archive", media=[posts.MediaInput(url="https://cdn.example.com/a/photo.jpg")]
    )
    sched = schedules.schedule(post.id, accounts["x"], utc(day, 11), timezone="Europe/Paris")
    pane.refresh()
    month = pane.month_view
    rest_on(month, month.chip_rect(sched.id).center())
    card = month.hover_card
    assert card.media_label.isVisible()
    assert card.media_label.text() == "Linked image: cdn.example.com · photo.jpg"


def test_resting_on_a_list_row_shows_the_same_card(pane, accounts, day, tmp_path, milton_home):
    sched = photo_post(tmp_path, milton_home, accounts, utc(day, 9), text="Row with a picture")
    pane.set_view("list")
    table = pane.list_view.table
    index = pane.list_model.index_of(sched.id, ScheduleTableModel.COL_TEXT)
    rest_on(table.viewport(), table.visualRect(index).center())
    card = table.hover_card
    assert card.isVisible()
    assert not card.image_label.pixmap().isNull()
    assert card.text_label.text() == "Row with a picture"
