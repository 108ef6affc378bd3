"""The month read ahead at start-up: read on a worker thread while the window is built,
shown by the pane when it is the month the pane would read first, read again by the pane
otherwise; and building the list view reads nothing until the list is shown."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack

from milton_desktop.storage import queries
from milton_desktop.storage.db import worker_connection
from milton_desktop.ui.calendar import ranges
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.ranges import RangeKey, RangeView, read_first_month


def _on_a_worker() -> tuple[RangeKey, RangeView]:
    got: list[tuple[RangeKey, RangeView]] = []

    def run() -> None:
        with worker_connection():
            got.append(read_first_month())

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    return got[0]


@pytest.fixture
def this_month_post(make_schedule):
    # in ten minutes: inside the month on screen (its grid shows a few days after it)
    return make_schedule("read ahead", datetime.now(UTC) + timedelta(minutes=10))


def _texts(pane: CalendarPane) -> list[str]:
    return [item.text for item in pane.model.items()]


def test_the_pane_shows_the_month_read_ahead_without_reading_it_again(
    qtbot, db, this_month_post, monkeypatch
):
    ahead = _on_a_worker()
    assert ahead[0].view == "month" and ahead[0].hide_cancelled
    reads: list[object] = []
    real = ranges.read_range
    monkeypatch.setattr(ranges, "read_range", lambda *a, **k: reads.append(a) or real(*a, **k))
    asked: list[bool] = []

    def first_read() -> tuple[RangeKey, RangeView]:
        asked.append(True)
        return ahead

    pane = CalendarPane(QUndoStack(), first_read=first_read)
    qtbot.addWidget(pane)
    # the owner builds the rest of its window first, then asks for the first picture
    assert asked == [] and reads == []
    pane.show_first()
    assert asked == [True]
    assert reads == []  # the pane's own first read was not made
    assert "read ahead" in _texts(pane)
    # the read ahead is used once: a refresh reads the store
    pane.refresh()
    assert len(reads) == 1 and asked == [True]


def test_a_read_ahead_of_another_month_is_not_shown(qtbot, db, this_month_post):
    key, _view = _on_a_worker()
    other = ranges.range_key(
        "month",
        key.start + timedelta(days=70),
        key.zone,
        hide_cancelled=True,
        flt=queries.ScheduleFilter(),
    )
    empty = RangeView(ranges.read_rows(other), [])
    pane = CalendarPane(QUndoStack(), first_read=lambda: (other, empty))
    qtbot.addWidget(pane)
    pane.show_first()
    assert "read ahead" in _texts(pane)  # read by the pane itself


def test_a_failed_read_ahead_lets_the_pane_read(qtbot, db, this_month_post):
    pane = CalendarPane(QUndoStack(), first_read=lambda: None)
    qtbot.addWidget(pane)
    pane.show_first()
    assert "read ahead" in _texts(pane)


def test_building_the_list_view_counts_nothing_until_it_is_shown(
    qtbot, db, this_month_post, monkeypatch
):
    counted: list[object] = []
    real = queries.schedule_table_count
    monkeypatch.setattr(
        queries, "schedule_table_count", lambda flt: counted.append(flt) or real(flt)
    )
    pane = CalendarPane(QUndoStack())
    qtbot.addWidget(pane)
    # turning sorting on sorts the model: at 100 000 posts its count took ~0.1 s
    assert counted == []
    pane.set_view("list")
    assert len(counted) == 1
    assert pane.list_model.total() == 1
    # once shown, a sort the user asks for reads again, in the new order
    pane.list_model.sort(pane.list_model.COL_PLATFORM, Qt.SortOrder.AscendingOrder)
    assert len(counted) == 2 and pane.list_model.sort_key == "platform"


def test_the_first_picture_is_not_read_again_once_a_view_was_asked_for(
    qtbot, db, this_month_post, monkeypatch
):
    reads: list[object] = []
    real = ranges.read_range
    monkeypatch.setattr(ranges, "read_range", lambda *a, **k: reads.append(a) or real(*a, **k))
    pane = CalendarPane(QUndoStack(), first_read=lambda: None)
    qtbot.addWidget(pane)
    pane.set_view("week")  # the window restoring the view saved last time
    assert len(reads) == 1
    pane.show_first()
    assert len(reads) == 1 and pane.current_view() == "week"
