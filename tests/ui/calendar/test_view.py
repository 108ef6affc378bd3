"""The calendar pane, its models, undo commands, the drafts pane and the upcoming panel.

Dates are chosen relative to the ``later`` fixture or to a FakeClock set in the
coming year, and the view is navigated there, so no test depends on today's date.
Drops are sent as real QDragEnter/QDragMove/QDrop events (offscreen, QDrag.exec
returns at once, so a drag cannot be simulated end to end).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QUndoStack
from PySide6.QtWidgets import QApplication, QWidget

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, schedules
from milton_desktop.storage import queries, settings
from milton_desktop.storage.models import ScheduledPost
from milton_desktop.ui import style
from milton_desktop.ui.calendar.drafts import DraftsPane
from milton_desktop.ui.calendar.model import (
    POST_MIME,
    SCHEDULE_MIME,
    DraftsModel,
    ScheduleModel,
    account_choices,
    decode_ids,
    make_mime,
)
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.undo import CancelCommand, RescheduleCommand, push_command
from milton_desktop.ui.calendar.upcoming import UpcomingPanel
from milton_desktop.ui.calendar.view import add_months, range_title

PARIS = ZoneInfo("Europe/Paris")


# ---------------------------------------------------------------- helpers


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    """The UTC instant of a Paris wall-clock time."""
    return local(day, hh, mm).astimezone(UTC)


def row_time(schedule_id: int) -> datetime:
    return queries.get_schedule(schedule_id).scheduled_time


def row_status(schedule_id: int) -> str:
    return queries.get_schedule(schedule_id).status


def set_status(schedule_id: int, status: str) -> None:
    """What the engine would do; tests reach the table to stage a state."""
    ScheduledPost.update(status=status).where(ScheduledPost.id == schedule_id).execute()


def last_sunday_of_march(year: int) -> date:
    d = date(year, 3, 31)
    return d - timedelta(days=(d.weekday() + 1) % 7)


def _drag_event(cls, pos: QPointF, *args):
    """Qt 6.12 takes a QPointF here (and deprecates QPoint); earlier 6.x take only a QPoint."""
    try:
        return cls(pos, *args)
    except TypeError:
        return cls(pos.toPoint(), *args)


def send_drop(widget: QWidget, pos: QPointF, mime: QMimeData) -> bool:
    """Drag-enter, drag-move and drop ``mime`` at ``pos``, as the window system would."""
    actions = Qt.DropAction.MoveAction | Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = _drag_event(QDragEnterEvent, pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted(), "the view refused the drag"
    move = _drag_event(QDragMoveEvent, pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, move)
    drop = QDropEvent(pos, actions, mime, buttons, mods)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def chip_mime(pane: CalendarPane, schedule_id: int) -> QMimeData:
    """The payload a chip drag carries, built by the model as a real drag would."""
    index = pane.model.index_of(schedule_id)
    assert index.isValid(), f"schedule {schedule_id} is not loaded in the view"
    return pane.model.mimeData([index])


@pytest.fixture
def spring():
    """The coming year's spring-forward Sunday in Paris, and a clock three weeks before it."""
    year = datetime.now(UTC).year + 1
    dst = last_sunday_of_march(year)
    clock = FakeClock(datetime(year, 3, 1, 8, 0, tzinfo=UTC))
    return dst, clock


@pytest.fixture
def make_pane(qtbot, accounts):
    def _make(clock=None, view="month", day: date | None = None) -> CalendarPane:
        pane = CalendarPane(QUndoStack(), clock=clock)
        qtbot.addWidget(pane)
        pane.resize(1200, 760)
        pane.show()
        qtbot.waitExposed(pane)
        pane.set_view(view)
        if day is not None:
            pane.go_to(day)
        pane.choose_account = lambda post_id, choices: [accounts["linkedin"].id]
        return pane

    return _make


@pytest.fixture
def messages(qtbot):
    """Collect a pane's message() texts: messages.connect(pane) then inspect the list."""

    class Collector(list):
        def connect(self, pane: CalendarPane) -> None:
            pane.message.connect(self.append)

    return Collector()


# ---------------------------------------------------------------- models


def test_schedule_model_passes_the_model_tester(qtmodeltester, make_schedule, later):
    a = make_schedule("First post\nwith a second line", later)
    b = make_schedule("Second post", later + timedelta(hours=2))
    set_status(b.id, "failed")
    ScheduledPost.update(error_message="LinkedIn said no").where(ScheduledPost.id == b.id).execute()
    model = ScheduleModel()
    day = later.astimezone(PARIS).date()
    model.load(day, day + timedelta(days=1), PARIS)
    qtmodeltester.check(model)
    qtmodeltester.check(model, force_py=True)

    assert [it.id for it in model.items()] == [a.id, b.id]
    first = model.index(0, 0)
    assert model.data(first, ScheduleModel.IdRole) == a.id
    assert model.data(first, ScheduleModel.LocalTimeRole) == f"{later.astimezone(PARIS):%H:%M}"
    assert model.data(first, ScheduleModel.PlatformRole) == "linkedin"
    assert model.data(first, ScheduleModel.StatusColorRole) == QColor(
        style.STATUS_COLORS["pending"]
    )
    tip = model.data(model.index(1, 0), Qt.ItemDataRole.ToolTipRole)
    assert "Second post" in tip and "LinkedIn said no" in tip and "Failed" in tip
    assert model.data(first, Qt.ItemDataRole.ToolTipRole).count("second line") == 1
    assert model.flags(first) & Qt.ItemFlag.ItemIsDragEnabled

    mime = model.mimeData([first, model.index(0, 3)])
    assert model.mimeTypes() == [SCHEDULE_MIME]
    assert decode_ids(mime, SCHEDULE_MIME) == [a.id]


def test_published_chip_is_not_draggable(make_schedule, later):
    a = make_schedule("Out already", later)
    set_status(a.id, "published")
    model = ScheduleModel()
    day = later.astimezone(PARIS).date()
    model.load(day, day + timedelta(days=1), PARIS)
    assert not model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsDragEnabled


def by_item_day(model: ScheduleModel) -> dict[date, list[int]]:
    """Each local day's ids as the items themselves say (what the day buckets must match)."""
    days: dict[date, list[int]] = {}
    for it in model.items():
        days.setdefault(it.day, []).append(it.id)
    return days


def by_bucket(model: ScheduleModel, days: list[date]) -> dict[date, list[int]]:
    out = {d: [it.id for it in model.items_on(d)] for d in days}
    assert all(model.count_on(d) == len(ids) for d, ids in out.items())
    return {d: ids for d, ids in out.items() if ids}


def test_schedule_model_builds_items_on_demand_and_counts_without_building(make_schedule, later):
    day = later.astimezone(PARIS).date()
    ids = [make_schedule(f"Post {n}", later + timedelta(minutes=10 * n)).id for n in range(5)]
    model = ScheduleModel()
    model.load(day, day + timedelta(days=1), PARIS)
    assert model.count_on(day) == 5 and model.count_on(day + timedelta(days=1)) == 0
    assert [it.id for it in model.items_on(day, limit=2)] == ids[:2]
    assert model.items_on(day, limit=0) == []
    assert model.item(ids[4]).short_text == "Post 4"
    assert model.index_of(ids[3]).row() == 3
    assert model.item(ids[4]) is model.items_on(day)[4]  # one snapshot per row

    # Items handed in (not read from the store) answer the same questions.
    model.set_items(model.items()[::-1])
    assert [it.id for it in model.items_on(day)] == ids[::-1]
    assert model.count_on(day) == 5
    assert model.index_of(ids[0]).row() == 4 and model.item(ids[0]).id == ids[0]


def test_schedule_model_puts_schedules_on_their_local_day_across_clock_changes(
    make_schedule, spring
):
    dst, _clock = spring
    autumn = date(dst.year, 10, 31) - timedelta(days=(date(dst.year, 10, 31).weekday() + 1) % 7)
    model = ScheduleModel()
    for change in (dst, autumn):
        eve, after = change - timedelta(days=1), change + timedelta(days=1)
        walls = [
            (eve, time(23, 59)),
            (change, time(0, 0)),
            (change, time(1, 59)),
            (change, time(3, 0)),
            (change, time(23, 59)),
            (after, time(0, 0)),
        ]
        ids = [
            make_schedule(f"{d} {t}", datetime.combine(d, t, tzinfo=PARIS).astimezone(UTC)).id
            for d, t in walls
        ]
        # An instant in autumn's repeated hour, on its second pass (02:30, then 02:30 again).
        second_pass = datetime.combine(change, time(2, 30), tzinfo=PARIS).replace(fold=1)
        repeat = make_schedule("second 02:30", second_pass.astimezone(UTC)).id
        days = [change + timedelta(days=n) for n in range(-3, 4)]
        model.load(days[0], days[-1] + timedelta(days=1), PARIS)
        expected = {eve: [ids[0]], change: [*ids[1:5]], after: [ids[5]]}
        assert sorted(by_bucket(model, days)[change]) == sorted([*expected[change], repeat])
        assert by_bucket(model, days) == by_item_day(model)
        assert by_bucket(model, days)[eve] == expected[eve]
        assert by_bucket(model, days)[after] == expected[after]


class BackPastMidnight(tzinfo):
    """UTC+1 until ``switch`` (naive UTC, 23:30), then UTC+0: local clocks go from 00:30 back
    to 23:30 of the day before, so a later instant can fall on an earlier local day."""

    def __init__(self, switch: datetime) -> None:
        self.switch = switch

    def utcoffset(self, dt: datetime | None) -> timedelta:
        wall = dt.replace(tzinfo=None)
        if wall < self.switch or (wall < self.switch + timedelta(hours=1) and not dt.fold):
            return timedelta(hours=1)
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "ODD"

    def fromutc(self, dt: datetime) -> datetime:
        u = dt.replace(tzinfo=None)
        if u < self.switch:
            return (u + timedelta(hours=1)).replace(tzinfo=self)
        return u.replace(tzinfo=self, fold=int(u < self.switch + timedelta(hours=1)))


def test_schedule_model_follows_a_clock_that_goes_back_past_midnight(make_schedule):
    year = datetime.now(UTC).year + 1
    switch = datetime(year, 3, 10, 23, 30)
    zone = BackPastMidnight(switch)
    before = make_schedule(
        "00:20 on the 11th", (switch - timedelta(minutes=10)).replace(tzinfo=UTC)
    )
    after = make_schedule("23:40 on the 10th", (switch + timedelta(minutes=10)).replace(tzinfo=UTC))
    noon = make_schedule("noon on the 11th", datetime(year, 3, 11, 11, 0, tzinfo=UTC))
    days = [date(year, 3, 9) + timedelta(days=n) for n in range(4)]
    model = ScheduleModel()
    model.load(days[0], days[-1], zone)
    assert (
        by_bucket(model, days)
        == by_item_day(model)
        == {
            date(year, 3, 10): [after.id],
            date(year, 3, 11): [before.id, noon.id],
        }
    )


def test_drafts_model_passes_the_model_tester_and_drags_post_ids(qtmodeltester, accounts):
    p1 = posts.add_post("Draft one")
    p2 = posts.add_post("Draft two")
    model = DraftsModel()
    model.load(PARIS)
    qtmodeltester.check(model)
    assert {it.post_id for it in model.items()} == {p1.id, p2.id}
    assert model.mimeTypes() == [POST_MIME]
    assert decode_ids(model.mimeData([model.index(0, 0)]), POST_MIME) in ([p1.id], [p2.id])


def test_malformed_payloads_decode_to_nothing():
    mime = QMimeData()
    mime.setData(SCHEDULE_MIME, b"not json")
    assert decode_ids(mime, SCHEDULE_MIME) == []
    mime.setData(SCHEDULE_MIME, b'[true, -3, "7", 4]')
    assert decode_ids(mime, SCHEDULE_MIME) == [4]
    assert decode_ids(make_mime(POST_MIME, [5]), SCHEDULE_MIME) == []


def test_titles_and_month_arithmetic():
    assert range_title(date(2026, 3, 9), date(2026, 3, 15)) == "9–15 March 2026"
    assert range_title(date(2026, 3, 30), date(2026, 4, 5)) == "30 March – 5 April 2026"
    assert range_title(date(2025, 12, 29), date(2026, 1, 4)) == "29 December 2025 – 4 January 2026"
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 1, 15), -1) == date(2025, 12, 15)


# ---------------------------------------------------------------- what the views show


def test_month_week_and_day_show_the_right_chips(make_pane, make_schedule, later):
    day = later.astimezone(PARIS).date()
    a = make_schedule("Morning post", later)
    b = make_schedule("Afternoon post", later + timedelta(hours=5))
    c = make_schedule("Next day", later + timedelta(days=1))
    pane = make_pane(view="month", day=day)
    assert pane.title_label.text() == f"{day:%B %Y}"
    month = pane.month_view
    assert month.shown_ids(day) == [a.id, b.id]
    assert month.shown_ids(day + timedelta(days=1)) == [c.id]
    assert month.day_rect(day).contains(month.chip_rect(a.id))

    pane.set_view("week")
    grid = pane.week_view.grid
    assert set(grid.shown_ids()) >= {a.id, b.id}
    t_a = later.astimezone(PARIS).time()
    assert grid.slot_rect(day, t_a).contains(grid.chip_rect(a.id).center())
    t_b = (later + timedelta(hours=5)).astimezone(PARIS).time()
    assert grid.slot_rect(day, t_b).contains(grid.chip_rect(b.id).center())

    pane.set_view("day")
    assert pane.anchor() == day
    assert pane.day_view.grid.shown_ids() == [a.id, b.id]
    assert pane.title_label.text() == f"{day:%A} {day.day} {day:%B %Y}"
    pane.next_button.click()
    assert pane.day_view.grid.shown_ids() == [c.id]


def test_week_view_opens_scrolled_to_working_hours(make_pane, spring):
    dst, clock = spring
    pane = make_pane(clock, view="week", day=dst)
    grid = pane.week_view.grid
    bar = pane.week_view.scroll_area.verticalScrollBar()
    assert bar.value() == 8 * 2 * grid.slot_height - grid.slot_height // 2
    monday = dst - timedelta(days=6)
    assert pane.title_label.text() == range_title(monday, dst)


def test_month_cell_overflow_folds_into_more_link(make_pane, make_schedule, spring, qtbot):
    dst, clock = spring
    day = dst - timedelta(days=3)
    ids = [make_schedule(f"Post {n}", utc(day, 9, 5 * n)).id for n in range(9)]
    pane = make_pane(clock, view="month", day=day)
    month = pane.month_view
    shown = month.shown_ids(day)
    assert shown == ids[: len(shown)] and len(shown) < len(ids)
    assert month.hidden_count(day) == len(ids) - len(shown)
    more = month.more_rects(day)[0].center()
    qtbot.mouseClick(month, Qt.MouseButton.LeftButton, pos=more)
    popover = month.popover
    assert popover is not None and popover.isVisible()
    assert popover.list.ids() == ids[len(shown) :]
    popover.header.click()  # "open the day"
    assert pane.current_view() == "day" and pane.anchor() == day
    assert pane.day_view.grid.shown_ids() == ids


# ---------------------------------------------------------------- drops


def test_chip_dropped_on_another_day_keeps_its_local_time_across_dst(
    make_pane, make_schedule, spring, messages, qtbot
):
    dst, clock = spring
    before, after = dst - timedelta(days=1), dst + timedelta(days=2)
    sched = make_schedule("Spring launch", utc(before, 10))
    assert sched.scheduled_time.hour == 9  # 10:00 in Paris before the clocks change
    pane = make_pane(clock, view="month", day=before)
    messages.connect(pane)
    month = pane.month_view

    with qtbot.waitSignal(pane.changed):
        accepted = send_drop(
            month, QPointF(month.day_rect(after).center()), chip_mime(pane, sched.id)
        )
    assert accepted, messages
    moved = row_time(sched.id)
    assert moved == datetime(after.year, after.month, after.day, 8, 0, tzinfo=UTC)
    assert moved.astimezone(PARIS).time() == time(10, 0)
    assert pane.undo_stack.count() == 1
    assert month.shown_ids(after) == [sched.id] and month.shown_ids(before) == []

    # Ctrl+Z / Ctrl+Shift+Z on the view go through the shared QUndoStack.
    qtbot.keyClick(month, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert row_time(sched.id) == utc(before, 10)
    assert month.shown_ids(before) == [sched.id]
    qtbot.keyClick(
        month,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert row_time(sched.id) == utc(after, 10)
    assert pane.undo_stack.index() == 1
    assert messages == []


def test_draft_dropped_on_a_month_day_is_scheduled_at_the_default_time(
    make_pane, accounts, spring, messages, qtbot
):
    dst, clock = spring
    settings.set_value("default_post_time", "09:30")
    post = posts.add_post("A draft for later")
    day = dst + timedelta(days=3)
    pane = make_pane(clock, view="month", day=day)
    messages.connect(pane)
    asked = []

    def choose(post_id, choices):
        asked.append((post_id, [c.name for c in choices]))
        return [accounts["linkedin"].id]

    pane.choose_account = choose
    month = pane.month_view
    assert send_drop(month, QPointF(month.day_rect(day).center()), make_mime(POST_MIME, [post.id]))
    # Instagram needs an image with a public link: it is not offered for a text-only post
    assert asked == [(post.id, ["My X", "Work LinkedIn"])]
    rows = list(ScheduledPost.select().where(ScheduledPost.post == post.id))
    assert len(rows) == 1
    row = rows[0]
    assert row.scheduled_time == utc(day, 9, 30)
    assert row.account_id == accounts["linkedin"].id
    assert row.timezone == "Europe/Paris" and row.status == "pending"
    assert post.id not in [p.id for p in queries.drafts()]
    assert month.shown_ids(day) == [row.id]

    pane.undo_stack.undo()
    assert row_status(row.id) == "cancelled"
    assert post.id in [p.id for p in queries.drafts()]
    pane.undo_stack.redo()
    assert row_status(row.id) == "pending" and row_time(row.id) == utc(day, 9, 30)
    assert ScheduledPost.select().where(ScheduledPost.post == post.id).count() == 1
    assert messages == []


# Popups offscreen: the plugin cannot raise them or grab the keyboard, and says so.
@pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)
def test_default_account_chooser_is_a_menu_of_accounts(make_pane, accounts, qtbot):
    pane = make_pane()
    choices = account_choices()
    picked: list[list[int]] = []

    def drive(keys: list[Qt.Key]) -> None:
        menu = QApplication.activePopupWidget()
        assert menu is not None and menu.objectName() == "calendarAccountMenu"
        for key in keys:
            qtbot.keyClick(menu, key)

    # The first entry is a disabled title; Down lands on the first account ("My X").
    QTimer.singleShot(0, lambda: drive([Qt.Key.Key_Down, Qt.Key.Key_Return]))
    picked.append(pane._ask_accounts(1, choices))
    # Up from the top wraps to the last entry: all accounts at once.
    QTimer.singleShot(0, lambda: drive([Qt.Key.Key_Up, Qt.Key.Key_Return]))
    picked.append(pane._ask_accounts(1, choices))
    QTimer.singleShot(0, lambda: drive([Qt.Key.Key_Escape]))
    picked.append(pane._ask_accounts(1, choices))
    assert picked == [[accounts["x"].id], [c.id for c in choices], []]


def test_draft_dropped_on_several_accounts_is_one_undo_step(make_pane, accounts, spring):
    dst, clock = spring
    post = posts.add_post("Cross-posted")
    day = dst + timedelta(days=4)
    pane = make_pane(clock, view="week", day=day)
    pane.choose_account = lambda post_id, choices: [
        accounts["linkedin"].id,
        accounts["instagram"].id,
    ]
    grid = pane.week_view.grid
    # Instagram needs media: the whole drop is refused before anything is written.
    assert not send_drop(
        grid, QPointF(grid.slot_rect(day, time(11, 0)).center()), make_mime(POST_MIME, [post.id])
    )
    assert ScheduledPost.select().count() == 0
    assert pane.undo_stack.count() == 0

    second = accounts["linkedin"].__class__.create(
        platform="linkedin", display_name="Second LinkedIn"
    )
    pane.choose_account = lambda post_id, choices: [accounts["linkedin"].id, second.id]
    assert send_drop(
        grid, QPointF(grid.slot_rect(day, time(11, 0)).center()), make_mime(POST_MIME, [post.id])
    )
    rows = list(ScheduledPost.select().where(ScheduledPost.post == post.id))
    assert {r.account_id for r in rows} == {accounts["linkedin"].id, second.id}
    assert all(r.scheduled_time == utc(day, 11) for r in rows)
    assert pane.undo_stack.count() == 1
    pane.undo_stack.undo()
    assert {row_status(r.id) for r in rows} == {"cancelled"}
    pane.undo_stack.redo()
    assert {row_status(r.id) for r in rows} == {"pending"}


def test_week_view_slot_drop_moves_a_chip_to_that_slot(make_pane, make_schedule, spring, qtbot):
    dst, clock = spring
    day = dst + timedelta(days=1)
    sched = make_schedule("Move me", utc(day, 10))
    pane = make_pane(clock, view="week", day=day)
    grid = pane.week_view.grid
    target = day + timedelta(days=1)
    assert send_drop(
        grid, QPointF(grid.slot_rect(target, time(14, 30)).center()), chip_mime(pane, sched.id)
    )
    assert row_time(sched.id) == utc(target, 14, 30)
    assert grid.slot_rect(target, time(14, 30)).contains(grid.chip_rect(sched.id).center())
    pane.undo_stack.undo()
    assert row_time(sched.id) == utc(day, 10)


def test_day_view_slot_drop_schedules_a_draft(make_pane, spring):
    dst, clock = spring
    day = dst + timedelta(days=5)
    post = posts.add_post("Lunchtime thought")
    pane = make_pane(clock, view="day", day=day)
    grid = pane.day_view.grid
    assert send_drop(
        grid, QPointF(grid.slot_rect(day, time(12, 30)).center()), make_mime(POST_MIME, [post.id])
    )
    (row,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert row.scheduled_time == utc(day, 12, 30)


def test_drop_into_the_past_is_refused(make_pane, make_schedule, spring, messages):
    dst, clock = spring
    clock.set(utc(dst - timedelta(days=7), 12))
    sched = make_schedule("Not backwards", utc(dst, 10))
    pane = make_pane(clock, view="month", day=dst)
    messages.connect(pane)
    month = pane.month_view
    past = dst - timedelta(days=9)
    assert not send_drop(month, QPointF(month.day_rect(past).center()), chip_mime(pane, sched.id))
    assert len(messages) == 1 and "already passed" in messages[0]
    assert row_time(sched.id) == utc(dst, 10)
    assert pane.undo_stack.count() == 0

    # (a drop on today after the default time takes the next half hour: see test_settle.py)


@pytest.mark.parametrize("status", ["published", "uncertain", "publishing"])
def test_drop_of_a_post_that_went_out_is_refused(
    make_pane, make_schedule, spring, messages, status, qtbot
):
    dst, clock = spring
    sched = make_schedule("Already out", utc(dst + timedelta(days=1), 10))
    set_status(sched.id, status)
    pane = make_pane(clock, view="month", day=dst)
    messages.connect(pane)
    month = pane.month_view
    target = dst + timedelta(days=3)
    assert not send_drop(month, QPointF(month.day_rect(target).center()), chip_mime(pane, sched.id))
    assert len(messages) == 1 and "cannot be moved" in messages[0]
    assert row_time(sched.id) == utc(dst + timedelta(days=1), 10)
    assert row_status(sched.id) == status
    assert pane.undo_stack.count() == 0

    # Trying to drag it at all says why instead of doing nothing.
    chip = month.chip_rect(sched.id).center()
    qtbot.mousePress(month, Qt.MouseButton.LeftButton, pos=chip)
    qtbot.mouseMove(month, chip + QPoint(40, 0))
    qtbot.mouseRelease(month, Qt.MouseButton.LeftButton, pos=chip + QPoint(40, 0))
    assert len(messages) == 2 and "cannot be moved" in messages[1]


def test_drop_uses_the_rows_current_state_not_the_loaded_one(
    make_pane, make_schedule, spring, messages
):
    dst, clock = spring
    sched = make_schedule("Published meanwhile", utc(dst + timedelta(days=1), 10))
    pane = make_pane(clock, view="month", day=dst)
    messages.connect(pane)
    mime = chip_mime(pane, sched.id)  # dragged while still pending on screen
    set_status(sched.id, "published")  # the scheduler publishes it mid-drag
    month = pane.month_view
    assert not send_drop(month, QPointF(month.day_rect(dst + timedelta(days=3)).center()), mime)
    assert "already published" in messages[0]
    assert row_time(sched.id) == utc(dst + timedelta(days=1), 10)


def test_drop_on_a_time_skipped_by_dst_is_refused(make_pane, make_schedule, spring, messages):
    dst, clock = spring
    sched = make_schedule("Night owl", utc(dst - timedelta(days=1), 10))
    pane = make_pane(clock, view="week", day=dst)
    messages.connect(pane)
    grid = pane.week_view.grid
    assert not send_drop(
        grid, QPointF(grid.slot_rect(dst, time(2, 30)).center()), chip_mime(pane, sched.id)
    )
    assert len(messages) == 1 and "does not exist" in messages[0]
    assert row_time(sched.id) == utc(dst - timedelta(days=1), 10)
    assert pane.undo_stack.count() == 0
    assert (dst, 4) in grid._gaps and (dst, 5) in grid._gaps  # 02:00 and 02:30 are hatched


def test_delete_cancels_the_selected_chip_and_undo_restores_it(
    make_pane, make_schedule, spring, qtbot
):
    dst, clock = spring
    sched = make_schedule("Cancel me", utc(dst + timedelta(days=2), 10))
    pane = make_pane(clock, view="month", day=dst)
    month = pane.month_view
    qtbot.mouseClick(month, Qt.MouseButton.LeftButton, pos=month.chip_rect(sched.id).center())
    assert pane.selected_id() == sched.id
    qtbot.keyClick(month, Qt.Key.Key_Delete)
    assert row_status(sched.id) == "cancelled"
    assert pane.undo_stack.count() == 1
    qtbot.keyClick(month, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert row_status(sched.id) == "pending"


def test_delete_on_a_published_chip_explains_instead(
    make_pane, make_schedule, spring, messages, qtbot
):
    dst, clock = spring
    sched = make_schedule("Done", utc(dst + timedelta(days=2), 10))
    set_status(sched.id, "published")
    pane = make_pane(clock, view="month", day=dst)
    messages.connect(pane)
    pane.select(sched.id)
    qtbot.keyClick(pane.month_view, Qt.Key.Key_Delete)
    assert row_status(sched.id) == "published"
    assert pane.undo_stack.count() == 0
    assert "only pending or missed posts can be cancelled" in messages[0]


def test_double_click_on_a_chip_asks_to_edit_it(make_pane, make_schedule, spring, qtbot):
    dst, clock = spring
    sched = make_schedule("Edit me", utc(dst + timedelta(days=2), 10))
    pane = make_pane(clock, view="month", day=dst)
    month = pane.month_view
    with qtbot.waitSignal(pane.editScheduleRequested) as blocker:
        qtbot.mouseDClick(month, Qt.MouseButton.LeftButton, pos=month.chip_rect(sched.id).center())
    assert blocker.args == [sched.id]


# ---------------------------------------------------------------- undo robustness


def test_a_refused_undo_leaves_a_consistent_stack(make_pane, accounts, spring, messages):
    dst, clock = spring
    post = posts.add_post("Published behind our back")
    day = dst + timedelta(days=2)
    pane = make_pane(clock, view="month", day=day)
    messages.connect(pane)
    month = pane.month_view
    assert send_drop(month, QPointF(month.day_rect(day).center()), make_mime(POST_MIME, [post.id]))
    (row,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    set_status(row.id, "published")  # the scheduler got there first

    pane.undo_stack.undo()
    assert row_status(row.id) == "published"
    assert pane.undo_stack.count() == 0 and not pane.undo_stack.canRedo()
    assert len(messages) == 1 and "only pending posts can be cancelled" in messages[0]


def test_push_command_does_not_push_a_refused_command(make_schedule, later):
    sched = make_schedule("Moving target", later)
    stack = QUndoStack()
    reports: list[str] = []
    past = later - timedelta(days=30)
    cmd = RescheduleCommand(sched.id, later, past, "Move into the past", report=reports.append)
    assert not push_command(stack, cmd)
    assert stack.count() == 0 and len(reports) == 1 and "in the past" in reports[0]
    assert row_time(sched.id) == later

    cancel = CancelCommand(sched.id, "Cancel")
    assert push_command(stack, cancel)
    assert stack.count() == 1 and row_status(sched.id) == "cancelled"
    stack.undo()
    assert row_status(sched.id) == "pending"
    stack.redo()
    assert row_status(sched.id) == "cancelled"


# ---------------------------------------------------------------- list view


# (the list view, every post all time with search and filters: see test_list.py)


# ---------------------------------------------------------------- drafts and upcoming


def test_drafts_pane_lists_only_unscheduled_posts(qtbot, make_schedule, later):
    scheduled = make_schedule("Scheduled", later)
    cancelled = make_schedule("Cancelled then", later + timedelta(hours=1))
    schedules.cancel(cancelled.id)
    draft = posts.add_post("Never scheduled")
    pane = DraftsPane()
    qtbot.addWidget(pane)
    assert set(pane.post_ids()) == {draft.id, cancelled.post_id}
    assert scheduled.post_id not in pane.post_ids()

    with qtbot.waitSignal(pane.newPostRequested):
        qtbot.mouseClick(pane.new_button, Qt.MouseButton.LeftButton)
    index = pane.model.index(pane.post_ids().index(draft.id), 0)
    with qtbot.waitSignal(pane.editPostRequested) as blocker:
        pane.list_view.doubleClicked.emit(index)
    assert blocker.args == [draft.id]
    assert decode_ids(pane.model.mimeData([index]), POST_MIME) == [draft.id]

    schedules.schedule(
        draft.id, "Work LinkedIn", later + timedelta(days=1), timezone="Europe/Paris"
    )
    pane.refresh()
    assert draft.id not in pane.post_ids()


def test_upcoming_panel_groups_pending_posts_by_day(qtbot, make_schedule, later):
    a = make_schedule("Soon", later)
    b = make_schedule("Same day", later + timedelta(hours=1))
    c = make_schedule("Next day", later + timedelta(days=1))
    make_schedule("Too far", later + timedelta(days=10))
    d = make_schedule("Cancelled", later + timedelta(hours=2))
    schedules.cancel(d.id)
    panel = UpcomingPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 400)
    panel.show()
    assert panel.schedule_ids() == [a.id, b.id, c.id]
    day = later.astimezone(PARIS).date()
    assert len(panel.day_labels()) == 2
    assert panel.day_labels()[0].endswith(f"{day.day} {day:%B}")
    item = panel.tree.topLevelItem(0).child(1)
    assert item.text(0).strip() == f"{(later + timedelta(hours=1)).astimezone(PARIS):%H:%M}"
    with qtbot.waitSignal(panel.editScheduleRequested) as blocker:
        rect = panel.tree.visualItemRect(item)
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [b.id]
