"""The queue in the window: free slots drawn in the week and day views take dropped
drafts, "Add to queue" on a draft, and the undo of both."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QUndoStack

from milton_desktop.domain.clock import FakeClock
from milton_desktop.operations import posts, queue, schedules
from milton_desktop.storage.models import ScheduledPost
from milton_desktop.ui.calendar.drafts import DraftsPane
from milton_desktop.ui.calendar.model import POST_MIME, make_mime
from milton_desktop.ui.calendar.pane import CalendarPane
from tests.ui.calendar.test_view import send_drop

PARIS = ZoneInfo("Europe/Paris")


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def monday() -> date:
    """A Monday in June of the coming year (no DST change that week)."""
    d = date(datetime.now(UTC).year + 1, 6, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


@pytest.fixture
def clock(monday) -> FakeClock:
    return FakeClock(utc(monday, 8) - timedelta(days=2))


@pytest.fixture
def pane(qtbot, accounts, clock, monday):
    queue.set_queue(accounts["linkedin"], ["MO,WE 09:00", "TU 13:30"], timezone="Europe/Paris")
    # New York's 09:00 is Paris's 15:00
    queue.set_queue(accounts["x"], ["MO 09:00"], timezone="America/New_York")
    pane = CalendarPane(QUndoStack(), clock=clock)
    qtbot.addWidget(pane)
    pane.resize(1200, 760)
    pane.show()
    qtbot.waitExposed(pane)
    pane.set_view("week")
    pane.go_to(monday)
    pane.choose_account = lambda post_id, choices: [accounts["linkedin"].id]
    return pane


def marks(grid):
    return sorted((m.day, m.at, m.account) for m in grid.slot_marks)


def test_the_week_view_draws_each_accounts_free_slots_in_the_calendars_zone(pane, accounts, monday):
    grid = pane.week_view.grid
    assert marks(grid) == [
        (monday, time(9), "Work LinkedIn"),
        (monday, time(15), "My X"),
        (monday + timedelta(days=1), time(13, 30), "Work LinkedIn"),
        (monday + timedelta(days=2), time(9), "Work LinkedIn"),
    ]
    (mark,) = [m for m in grid.slot_marks if m.account == "My X"]
    assert mark.when_utc == datetime.combine(
        monday, time(9), tzinfo=ZoneInfo("America/New_York")
    ).astimezone(UTC)
    rect = grid.queue_slot_rect(mark)
    assert not rect.isEmpty()
    assert grid.slot_at(rect.center()) == mark
    # a taken slot is not drawn as free
    post = posts.add_post("taken")
    schedules.schedule(post.id, accounts["linkedin"], utc(monday, 9), clock=pane.clock)
    pane.refresh()
    assert (monday, time(9), "Work LinkedIn") not in marks(grid)


def test_a_draft_dropped_on_a_free_slot_is_queued_there_and_undo_frees_it(pane, accounts, monday):
    grid = pane.week_view.grid
    (mark,) = [m for m in grid.slot_marks if m.day == monday + timedelta(days=1)]
    post = posts.add_post("In the Tuesday slot")
    # dropped on the slot's outline, which sits at 13:30 inside the 13:30-14:00 row
    assert send_drop(grid, grid.queue_slot_rect(mark).center(), make_mime(POST_MIME, [post.id]))
    (row,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert row.scheduled_time == utc(monday + timedelta(days=1), 13, 30)
    assert row.account_id == accounts["linkedin"].id
    assert row.timezone == "Europe/Paris"
    assert mark not in grid.slot_marks  # taken now
    pane.undo_stack.undo()
    assert ScheduledPost.get_by_id(row.id).status == "cancelled"
    assert mark in grid.slot_marks
    pane.undo_stack.redo()
    assert ScheduledPost.get_by_id(row.id).status == "pending"


def test_redo_does_not_put_a_post_back_in_a_slot_taken_meanwhile(pane, accounts, monday):
    grid = pane.week_view.grid
    (mark,) = [m for m in grid.slot_marks if m.day == monday + timedelta(days=1)]
    post = posts.add_post("first")
    assert send_drop(grid, grid.queue_slot_rect(mark).center(), make_mime(POST_MIME, [post.id]))
    pane.undo_stack.undo()
    other = posts.add_post("second")
    queue.schedule_in_slot(other.id, accounts["linkedin"], mark.when_utc, clock=pane.clock)
    said = []
    pane.message.connect(said.append)
    pane.undo_stack.redo()
    live = ScheduledPost.select().where(
        (ScheduledPost.scheduled_time == mark.when_utc) & (ScheduledPost.status == "pending")
    )
    assert [r.post_id for r in live] == [other.id]
    assert any("was taken by another post" in s for s in said)


def test_a_draft_dropped_beside_the_slots_is_scheduled_as_before(pane, monday):
    grid = pane.week_view.grid
    post = posts.add_post("at eleven")
    day = monday + timedelta(days=3)
    assert send_drop(
        grid, QPointF(grid.slot_rect(day, time(11, 0)).center()), make_mime(POST_MIME, [post.id])
    )
    (row,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert row.scheduled_time == utc(day, 11)


def test_the_day_view_draws_the_slots_too(pane, monday):
    pane.set_view("day")
    pane.go_to(monday)
    assert [(m.at, m.account) for m in pane.day_view.grid.slot_marks] == [
        (time(9), "Work LinkedIn"),
        (time(15), "My X"),
    ]


def test_add_to_queue_takes_the_next_free_slot_of_the_chosen_account(pane, qtbot, accounts, monday):
    chose_from = []

    def choose(post_id, choices):
        chose_from.append(sorted(c.name for c in choices))
        return [accounts["x"].id]

    pane.choose_account = choose
    post = posts.add_post("queued from the drafts")
    drafts = DraftsPane()
    qtbot.addWidget(drafts)
    drafts.queueRequested.connect(pane.queue_post)
    menu = drafts.draft_menu(post.id)
    (action,) = [a for a in menu.actions() if a.objectName() == "addToQueue"]
    action.trigger()
    # only the accounts with a queue are offered
    assert chose_from == [["My X", "Work LinkedIn"]]
    (row,) = ScheduledPost.select().where(ScheduledPost.post == post.id)
    assert row.account_id == accounts["x"].id
    assert row.scheduled_time == datetime.combine(
        monday, time(9), tzinfo=ZoneInfo("America/New_York")
    ).astimezone(UTC)
    assert "Added to the queue" in pane.banner.text()
    pane.undo_stack.undo()
    assert ScheduledPost.get_by_id(row.id).status == "cancelled"


def test_add_to_queue_without_any_queue_says_where_to_set_one(qtbot, accounts, clock):
    pane = CalendarPane(QUndoStack(), clock=clock)
    qtbot.addWidget(pane)
    said = []
    pane.message.connect(said.append)
    post = posts.add_post("nowhere to go")
    assert not pane.queue_post(post.id)
    assert any("Queue page under Accounts" in s for s in said)
    assert ScheduledPost.select().count() == 0
