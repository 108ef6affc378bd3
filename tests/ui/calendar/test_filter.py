"""One search and filter for every view: month, week and day show only the posts it
lets through (counts and "+N more" included), say how many it hides, and Clear
brings them back."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QApplication

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.ui.calendar.pane import CalendarPane

PARIS = get_zone("Europe/Paris")


def utc(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS).astimezone(UTC)


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


def filtered_note(pane: CalendarPane) -> str:
    label = pane.list_view.count_label
    return label.text() if label.isVisible() else ""


def test_the_search_hides_chips_that_do_not_match_and_says_how_many_are_shown(
    pane, make_schedule, day, qtbot
):
    launch = make_schedule("Launch day: the new studio", utc(day, 9))
    make_schedule("Quiet Friday thoughts", utc(day, 11), platform="x")
    make_schedule("Another launch teaser", utc(day + timedelta(days=1), 10), platform="x")
    pane.refresh()
    month = pane.month_view
    assert filtered_note(pane) == ""  # nothing is hidden, so nothing is said
    assert not pane.list_view.clear_button.isVisible()
    assert len(month.shown_ids(day)) == 2

    pane.list_view.set_search("launch")
    assert month.shown_ids(day) == [launch.id]
    assert len(month.shown_ids(day + timedelta(days=1))) == 1
    assert filtered_note(pane) == "Filtered: 2 of 3 shown"
    assert pane.list_view.clear_button.isVisible()

    # the platform narrows it further; the counts are of what is shown
    pane.list_view.platform_combo.setCurrentIndex(pane.list_view.platform_combo.findData("x"))
    assert month.shown_ids(day) == [] and month.hidden_count(day) == 0
    assert filtered_note(pane) == "Filtered: 1 of 3 shown"

    qtbot.mouseClick(pane.list_view.clear_button, Qt.MouseButton.LeftButton)
    assert len(month.shown_ids(day)) == 2
    assert pane.list_view.search_edit.text() == ""
    assert pane.list_view.platform_combo.currentIndex() == 0
    assert filtered_note(pane) == "" and not pane.list_view.clear_button.isVisible()


def test_a_filtered_day_folds_only_the_matching_posts_into_more(pane, make_schedule, day):
    matching = [make_schedule(f"Match {n}", utc(day, 8, 5 * n)).id for n in range(9)]
    for n in range(5):
        make_schedule(f"Other {n}", utc(day, 7, 5 * n), platform="x")
    pane.list_view.platform_combo.setCurrentIndex(
        pane.list_view.platform_combo.findData("linkedin")
    )
    month = pane.month_view
    shown = month.shown_ids(day)
    assert shown == matching[: len(shown)]
    assert month.hidden_count(day) == len(matching) - len(shown)
    assert filtered_note(pane) == "Filtered: 9 of 14 shown"


def test_the_filter_is_shared_by_every_view(pane, make_schedule, day, accounts):
    work = make_schedule("For work", utc(day, 9))
    make_schedule("For fun", utc(day, 10), platform="x")
    pane.list_view.account_combo.setCurrentIndex(
        pane.list_view.account_combo.findData(accounts["linkedin"].id)
    )
    assert pane.month_view.shown_ids(day) == [work.id]
    pane.set_view("week")
    assert pane.week_view.grid.shown_ids() == [work.id]
    assert filtered_note(pane) == "Filtered: 1 of 2 shown"
    pane.set_view("day")
    assert pane.day_view.grid.shown_ids() == [work.id]
    pane.set_view("list")
    assert [it.id for it in pane.list_model.items()] == [work.id]
    assert pane.list_view.account_combo.currentData() == accounts["linkedin"].id
    pane.set_view("month")
    assert pane.month_view.shown_ids(day) == [work.id]
    pane.clear_filter()
    assert len(pane.month_view.shown_ids(day)) == 2


def test_the_status_filter_reaches_the_calendar_and_shows_cancelled_when_asked(
    pane, make_schedule, day
):
    from milton_desktop.operations import schedules

    kept = make_schedule("Still on", utc(day, 9))
    dropped = make_schedule("Called off", utc(day, 10))
    schedules.cancel(dropped.id)
    pane.refresh()
    assert pane.month_view.shown_ids(day) == [kept.id]  # cancelled posts are hidden by default
    combo = pane.list_view.status_combo
    combo.setCurrentIndex(combo.findText("Cancelled"))
    assert pane.month_view.shown_ids(day) == [dropped.id]
    assert filtered_note(pane) == "Filtered: 1 of 2 shown"


def test_ctrl_f_focuses_the_search_in_the_calendar_views(pane, qtbot):
    pane.activateWindow()
    pane.set_view("week")
    pane.focus_search()
    qtbot.waitUntil(lambda: pane.list_view.search_edit.hasFocus())
    assert pane.current_view() == "week"
    assert pane.list_view.search_edit.isVisible()
    assert QApplication.focusWidget() is pane.list_view.search_edit
