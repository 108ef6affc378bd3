"""What the calendar shows and how the keyboard moves through it: chips with their
first words, overlapping posts side by side, the "+N" popover, arrows and Enter,
the drop preview's time, repeat marks and weekends.

Times are in a fixed week of the coming year with a FakeClock before it, so no test
depends on today's date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QMimeData, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QImage,
    QPainter,
    QUndoStack,
)
from PySide6.QtWidgets import QApplication

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, repeats
from milton_desktop.storage import queries
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem, ScheduleModel
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.view import MonthView, month_grid_start, overlap_columns

PARIS = ZoneInfo("Europe/Paris")
YEAR = datetime.now(UTC).year + 1
#: a Tuesday in the coming year, a week after the clock
DAY = date(YEAR, 6, 1) + timedelta(days=(1 - date(YEAR, 6, 1).weekday()) % 7)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def clock():
    return FakeClock(utc(DAY - timedelta(days=7), 8))


@pytest.fixture
def pane(qtbot, accounts, clock):
    def _make(view: str = "week", width: int = 1200, height: int = 760) -> CalendarPane:
        p = CalendarPane(QUndoStack(), clock=clock)
        qtbot.addWidget(p)
        p.resize(width, height)
        p.show()
        qtbot.waitExposed(p)
        p.set_view(view)
        p.go_to(DAY)
        return p

    return _make


def drawn_texts(surface, schedule_id: int) -> list[str]:
    """What the chip of ``schedule_id`` shows at its size on ``surface``."""
    rect = QRectF(surface.chip_rect(schedule_id))
    item = surface.model.item(schedule_id)
    image = QImage(int(rect.width()) + 2, int(rect.height()) + 2, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    texts = surface._chip_painter.paint(
        painter, QRectF(0, 0, rect.width(), rect.height()), item, detail=""
    )
    painter.end()
    return texts


def press(widget, key: Qt.Key, qtbot) -> None:
    qtbot.keyClick(widget, key)


# ---------------------------------------------------------------- chips and their text


def test_week_chips_show_the_first_words_of_each_post(pane, make_schedule):
    a = make_schedule("Launch day: the new release is out", utc(DAY, 10))
    p = pane("week", width=1024)
    grid = p.week_view.grid
    texts = drawn_texts(grid, a.id)
    assert "10:00" in texts
    assert any(t.startswith("Launch") for t in texts), texts


def test_past_month_days_show_text_too(pane, make_schedule, clock):
    done = make_schedule("Shipped the spring update", utc(DAY, 9))
    queries_done = done.id
    from milton_desktop.storage.models import ScheduledPost

    ScheduledPost.update(status="published").where(ScheduledPost.id == done.id).execute()
    clock.set(utc(DAY + timedelta(days=3), 8))  # the day is in the past now
    p = pane("month", width=1024, height=640)
    texts = drawn_texts(p.month_view, queries_done)
    assert any(t.startswith("Ship") for t in texts), texts
    assert style.STATUS_MARKS["published"] in texts


def test_overlapping_posts_sit_side_by_side(pane, make_schedule):
    a = make_schedule("First at ten", utc(DAY, 10))
    b = make_schedule("Second a quarter later", utc(DAY, 10, 15), platform="x")
    c = make_schedule("Alone in the afternoon", utc(DAY, 15))
    p = pane("week", width=1200)
    grid = p.week_view.grid
    ra, rb, rc = (grid.chip_rect(s.id) for s in (a, b, c))
    assert not ra.intersects(rb)  # side by side, not on top of each other
    assert rb.left() > ra.left() and abs(ra.top() - rb.top()) < grid.slot_height
    # The afternoon post is not squeezed by the morning's crowd.
    assert rc.width() > ra.width() * 1.8
    assert grid.more_rects() == []


def test_overlap_columns_follow_calendar_apps():
    spans = [(0, 40), (10, 50), (45, 80), (100, 140)]
    assert overlap_columns(spans) == [(0, 2, 0), (1, 2, 0), (0, 2, 0), (0, 1, 1)]


def test_a_crowded_slot_folds_into_plus_n_and_the_popover_lists_the_rest(
    pane, make_schedule, qtbot
):
    ids = [make_schedule(f"Crowd {n}", utc(DAY, 10, n)).id for n in range(8)]
    p = pane("week", width=900)
    grid = p.week_view.grid
    shown = grid.shown_ids(DAY)
    assert 1 <= len(shown) < 8
    [box] = grid.more_rects(DAY)
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=box.center())
    popover = grid.popover
    assert popover is not None and popover.isVisible()
    assert sorted(popover.list.ids()) == sorted(set(ids) - set(shown))
    assert popover.accessibleName().startswith(f"{8 - len(shown)} more posts")

    opened: list[int] = []
    p.editScheduleRequested.connect(opened.append)
    hidden = popover.list.ids()
    press(popover.list, Qt.Key.Key_Down, qtbot)
    press(popover.list, Qt.Key.Key_Return, qtbot)
    assert opened == [hidden[1]]
    assert grid.popover is None or not grid.popover.isVisible()


def test_the_popover_closes_on_escape_and_offers_cancel_on_delete(pane, make_schedule, qtbot):
    ids = [make_schedule(f"Busy {n}", utc(DAY, 9, 5 * n)).id for n in range(12)]
    p = pane("month", width=900, height=560)
    month = p.month_view
    assert month.more_rects(DAY)
    k = next(n for n, (_r, d) in enumerate(month._mores) if d == DAY)
    popover = month.open_more(k)
    press(popover.list, Qt.Key.Key_Escape, qtbot)
    qtbot.waitUntil(lambda: month.popover is None or not month.popover.isVisible())

    popover = month.open_more(k)
    target = popover.list.ids()[0]
    press(popover.list, Qt.Key.Key_Delete, qtbot)  # the calendar's own Delete: cancel
    assert queries.get_schedule(target).status == "cancelled"
    p.undo_stack.undo()
    assert queries.get_schedule(target).status == "pending"
    assert target in ids


def test_popover_rows_send_the_calendars_signals(qtbot, make_schedule, accounts):
    rows = [make_schedule(f"Row {n}", utc(DAY, 9, 5 * n)) for n in range(10)]
    zone = PARIS
    model = ScheduleModel()
    model.set_items([ScheduleItem.from_row(queries.schedule_view(r.id), zone) for r in rows])
    month = MonthView(model)
    qtbot.addWidget(month)
    month.resize(700, 420)
    month.set_range(month_grid_start(DAY, 1), DAY.month, DAY - timedelta(days=7), zone)
    month.show()
    qtbot.waitExposed(month)
    [more] = month.more_rects(DAY)
    menus, clicks = [], []
    month.chipMenuRequested.connect(lambda sid, _pos: menus.append(sid))
    month.chipClicked.connect(clicks.append)
    qtbot.mouseClick(month, Qt.MouseButton.LeftButton, pos=more.center())
    chip_list = month.popover.list
    first = chip_list.row_rect(0).center().toPoint()
    qtbot.mouseClick(chip_list, Qt.MouseButton.LeftButton, pos=first)
    assert clicks[-1] == chip_list.ids()[0]
    press(chip_list, Qt.Key.Key_Menu, qtbot)
    assert menus == [chip_list.ids()[0]]


# ---------------------------------------------------------------- keyboard


def test_arrows_move_through_chips_and_days_and_enter_opens(pane, make_schedule, qtbot):
    a1 = make_schedule("Morning", utc(DAY, 9))
    a2 = make_schedule("Noon", utc(DAY, 12))
    b = make_schedule("Next day", utc(DAY + timedelta(days=1), 10))
    p = pane("month")
    month = p.month_view
    month.setFocus()
    p.select(a1.id)
    press(month, Qt.Key.Key_Down, qtbot)
    assert p.selected_id() == a2.id
    press(month, Qt.Key.Key_Right, qtbot)
    assert p.selected_id() == b.id  # the next day's chip, as far down as it has one
    press(month, Qt.Key.Key_Left, qtbot)
    assert p.selected_id() == a1.id  # back, at the same place in the list
    press(month, Qt.Key.Key_Up, qtbot)
    assert p.selected_id() is None and month.key_cursor() == (DAY, -1)  # on the day itself
    assert "post" in month.accessibleDescription()
    press(month, Qt.Key.Key_Up, qtbot)  # up from a day: the week before
    assert month.key_cursor() == (DAY - timedelta(days=7), -1)
    press(month, Qt.Key.Key_Down, qtbot)
    press(month, Qt.Key.Key_Down, qtbot)
    assert p.selected_id() == a1.id
    opened: list[int] = []
    p.editScheduleRequested.connect(opened.append)
    press(month, Qt.Key.Key_Return, qtbot)
    assert opened == [a1.id]
    press(month, Qt.Key.Key_Delete, qtbot)
    assert queries.get_schedule(a1.id).status == "cancelled"


def test_arrows_past_the_grid_turn_the_page(pane, make_schedule, qtbot):
    p = pane("week")
    grid = p.week_view.grid
    grid.setFocus()
    first = grid.days[0]
    grid.move_cursor(first, -1)
    press(grid, Qt.Key.Key_Left, qtbot)
    assert p.anchor() == first - timedelta(days=1)
    assert grid.days[-1] == first - timedelta(days=1)


def test_week_left_and_right_land_on_the_nearest_post_in_time(pane, make_schedule, qtbot):
    a = make_schedule("Tuesday nine", utc(DAY, 9))
    early = make_schedule("Wednesday eight", utc(DAY + timedelta(days=1), 8))
    late = make_schedule("Wednesday eighteen", utc(DAY + timedelta(days=1), 18))
    p = pane("week")
    grid = p.week_view.grid
    grid.setFocus()
    p.select(a.id)
    press(grid, Qt.Key.Key_Right, qtbot)
    assert p.selected_id() == early.id
    press(grid, Qt.Key.Key_Down, qtbot)
    assert p.selected_id() == late.id


def test_the_keyboard_cursor_is_drawn_only_with_focus(pane, make_schedule, qtbot):
    make_schedule("Something", utc(DAY, 9))
    p = pane("month")
    month = p.month_view
    p.window().activateWindow()
    month.setFocus()
    qtbot.waitUntil(month.hasFocus)
    with_focus = month.grab().toImage()
    p.toolbar.setFocus()
    qtbot.waitUntil(lambda: not month.hasFocus())
    without = month.grab().toImage()
    assert with_focus != without


# ---------------------------------------------------------------- drag preview, marks, weekends


def _hover(surface, pos: QPointF, mime: QMimeData) -> None:
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    args = (actions, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    for cls in (QDragEnterEvent, QDragMoveEvent):
        try:
            event = cls(pos, *args)
        except TypeError:
            event = cls(pos.toPoint(), *args)
        QApplication.sendEvent(surface, event)


def test_the_drop_preview_shows_the_time_the_post_will_get(pane, make_schedule):
    row = make_schedule("Move me", utc(DAY, 10))
    p = pane("week")
    grid = p.week_view.grid
    mime = p.model.mimeData([p.model.index_of(row.id)])
    target = QPointF(grid.slot_rect(DAY + timedelta(days=2), time(15, 30)).center())
    _hover(grid, target, mime)
    rect, label = grid.hover_preview()
    assert label.endswith("15:30") and rect.contains(target)
    # The pixmap under the pointer leaves the old time out.
    item = p.model.item(row.id)
    image = QImage(200, 30, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    texts = grid._chip_painter.paint(painter, QRectF(0, 0, 200, 30), item, show_time=False)
    painter.end()
    assert "10:00" not in texts

    p.set_view("month")
    month = p.month_view
    mime = p.model.mimeData([p.model.index_of(row.id)])
    _hover(month, QPointF(month.day_rect(DAY + timedelta(days=7)).center()), mime)
    assert month.hover_preview()[1].endswith("10:00")  # a month drop keeps the time


def test_repeating_posts_carry_a_mark(pane, accounts):
    post = posts.add_post("Weekly tip")
    rec = repeats.schedule_repeating(
        post.id,
        accounts["linkedin"],
        datetime.combine(DAY, time(11)),
        "Europe/Paris",
        "FREQ=WEEKLY;COUNT=2",
        clock=FakeClock(utc(DAY - timedelta(days=7), 8)),
    )
    from milton_desktop.storage.models import ScheduledPost

    first = ScheduledPost.select().where(ScheduledPost.recurrence == rec.id).first()
    p = pane("week")
    grid = p.week_view.grid
    assert style.REPEAT_MARK in "".join(drawn_texts(grid, first.id))
    assert "repeats" in p.model.item(first.id).tooltip()


def test_a_thread_shows_its_follow_ups_on_the_chip_and_in_its_tooltip(pane, accounts, clock):
    from milton_desktop.operations import schedules

    post = posts.add_post("1/ A thread", follow_ups=["2/ goes on", "3/ and ends"])
    row = schedules.schedule(post.id, accounts["x"], utc(DAY, 11), clock=clock)
    p = pane("week")
    assert "+2" in "".join(drawn_texts(p.week_view.grid, row.id))
    item = p.model.item(row.id)
    assert "3 parts" in item.tooltip()
    assert "in 3 parts" in item.accessible_text()


def test_weekends_look_different_from_weekdays(pane):
    p = pane("month")
    month = p.month_view
    image = month.grab().toImage()
    saturday = next(d for d in month.days if d.isoweekday() == 6 and d.month == DAY.month)
    friday = saturday - timedelta(days=1)
    if friday < p.clock.now().astimezone(PARIS).date():
        pytest.skip("the clock is set before the month")

    def bottom_of(day: date):
        cell = month.day_rect(day)
        return image.pixelColor(cell.center().x(), cell.bottom() - 4)

    assert bottom_of(saturday) != bottom_of(friday)
