"""The list view: every post of all time, searched and filtered, failures with their
reason, read a page at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QUndoStack

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.status import Status
from milton_desktop.operations import posts
from milton_desktop.storage.models import ScheduledPost, database, utc_text
from milton_desktop.ui.calendar import table as table_mod
from milton_desktop.ui.calendar.pane import CalendarPane
from milton_desktop.ui.calendar.table import ScheduleTableModel


def set_status(schedule_id: int, status: str, **fields) -> None:
    ScheduledPost.update(status=status, **fields).where(ScheduledPost.id == schedule_id).execute()


@pytest.fixture
def clock():
    return FakeClock(datetime(datetime.now(UTC).year + 1, 6, 10, 8, 0, tzinfo=UTC))


@pytest.fixture
def pane(qtbot, accounts, clock):
    p = CalendarPane(QUndoStack(), clock=clock)
    qtbot.addWidget(p)
    p.resize(1200, 700)
    p.show()
    qtbot.waitExposed(p)
    p.set_view("list")
    return p


def shown(pane: CalendarPane) -> list[str]:
    model = pane.list_model
    return [
        model.data(model.index(r, ScheduleTableModel.COL_TEXT)) for r in range(model.rowCount())
    ]


def test_the_list_is_every_post_of_all_time_with_failures_and_their_reason(
    pane, make_schedule, clock
):
    now = clock.now()
    old = make_schedule("Last month's launch", now + timedelta(days=1))
    set_status(
        old.id,
        Status.FAILED,
        scheduled_time=now - timedelta(days=40),
        error_message="Token expired",
    )
    make_schedule("Next quarter", now + timedelta(days=100))
    make_schedule("Tomorrow", now + timedelta(days=1))
    pane.refresh()
    assert pane.title_label.text() == "All posts"
    assert not pane.prev_button.isVisible() and not pane.next_button.isVisible()
    # newest first, from far ahead to long ago
    assert shown(pane) == ["Next quarter", "Tomorrow", "Last month's launch"]
    assert pane.list_view.count_label.text() == "3 posts"
    model = pane.list_model
    row = shown(pane).index("Last month's launch")
    assert model.HEADERS[ScheduleTableModel.COL_PROBLEM] == "Problem"
    assert model.data(model.index(row, ScheduleTableModel.COL_PROBLEM)) == "Token expired"
    assert model.data(model.index(row, ScheduleTableModel.COL_STATUS)) == "Failed"


def test_search_and_filters_narrow_the_list(pane, make_schedule, clock, accounts, qtbot):
    now = clock.now()
    a = make_schedule("Spring sale on shoes", now + timedelta(days=1), platform="x")
    b = make_schedule("Spring hiring", now + timedelta(days=2))
    c = make_schedule("Team offsite", now + timedelta(days=3))
    set_status(b.id, Status.UNCERTAIN)
    set_status(c.id, Status.MISSED)
    pane.refresh()
    view = pane.list_view
    qtbot.keyClicks(view.search_edit, "spring")
    qtbot.waitUntil(lambda: len(shown(pane)) == 2)  # after the typing pause
    assert shown(pane) == ["Spring hiring", "Spring sale on shoes"]
    view.platform_combo.setCurrentIndex(view.platform_combo.findData("x"))
    assert shown(pane) == ["Spring sale on shoes"]
    view.platform_combo.setCurrentIndex(0)
    view.account_combo.setCurrentIndex(view.account_combo.findData(accounts["linkedin"].id))
    assert shown(pane) == ["Spring hiring"]
    view.account_combo.setCurrentIndex(0)
    view.set_search("nothing like this")
    assert shown(pane) == []
    assert view.table.empty_text == "No posts match: clear the search or a filter."
    view.set_search("")
    view.show_attention()
    assert shown(pane) == ["Team offsite", "Spring hiring"]
    assert view.count_label.text() == "2 posts need attention"
    view.set_status(Status.PENDING)
    assert shown(pane) == ["Spring sale on shoes"]
    assert view.count_label.text() == "1 pending post"
    assert a.id == pane.list_model.data(pane.list_model.index(0, 0), ScheduleTableModel.IdRole)


def test_needs_attention_with_nothing_to_do_says_so(pane):
    pane.show_attention()
    assert pane.list_view.table.empty_text.startswith("Nothing needs your attention")


def test_show_attention_selects_the_post_and_its_menu_offers_the_settling(
    pane, make_schedule, clock, monkeypatch
):
    sched = make_schedule("Did it go?", clock.now() + timedelta(days=1))
    set_status(sched.id, Status.UNCERTAIN)
    make_schedule("Fine", clock.now() + timedelta(days=2))
    pane.set_view("month")
    pane.show_attention(sched.id)
    assert pane.current_view() == "list"
    assert shown(pane) == ["Did it go?"]
    assert pane.selected_id() == sched.id
    shown_menu = []
    monkeypatch.setattr(pane, "show_menu", lambda sid, pos: shown_menu.append(sid))
    pane.list_view.table.setFocus()
    from PySide6.QtTest import QTest

    QTest.keyClick(pane.list_view.table, Qt.Key.Key_Return)  # not an editor: its choices
    assert shown_menu == [sched.id]


def test_sorting_by_a_column_orders_every_row_not_just_the_loaded_ones(pane, make_schedule, clock):
    now = clock.now()
    make_schedule("b second", now + timedelta(days=1))
    make_schedule("a first", now + timedelta(days=2))
    make_schedule("c third", now + timedelta(days=3))
    pane.refresh()
    pane.list_view.table.sortByColumn(ScheduleTableModel.COL_TEXT, Qt.SortOrder.AscendingOrder)
    assert shown(pane) == ["a first", "b second", "c third"]


def test_ten_thousand_posts_are_read_a_page_at_a_time(pane, accounts, clock, qtbot):
    post = posts.add_post("Bulk post")
    now = clock.now()
    with database.atomic():
        database.cursor().executemany(
            "INSERT INTO scheduled_posts (post_id, account_id, scheduled_time, timezone, status,"
            " attempts, next_attempt_at, created_at, updated_at, error_message)"
            " VALUES (?, ?, ?, 'UTC', ?, 0, ?, ?, ?, ?)",
            [
                (
                    post.id,
                    accounts["x"].id,
                    utc_text(now + timedelta(minutes=n)),
                    (Status.FAILED if n % 100 == 0 else Status.PENDING).value,
                    utc_text(now + timedelta(minutes=n)),
                    utc_text(now),
                    utc_text(now),
                    "Rejected" if n % 100 == 0 else None,
                )
                for n in range(10_000)
            ],
        )
    pane.refresh()
    model = pane.list_model
    assert model.total() == 10_000
    assert model.rowCount() == table_mod.PAGE  # not ten thousand rows at once
    assert pane.list_view.count_label.text() == "10000 posts"
    table = pane.list_view.table
    table.scrollToBottom()
    qtbot.waitUntil(lambda: model.rowCount() > table_mod.PAGE)
    loaded = model.rowCount()
    pane.refresh()  # a refresh keeps what was scrolled to
    assert model.rowCount() == loaded
    ids = [model.data(model.index(r, 0), ScheduleTableModel.IdRole) for r in range(loaded)]
    assert len(set(ids)) == loaded
    pane.list_view.set_status(Status.FAILED)
    assert model.total() == 100
    assert {model.data(model.index(r, ScheduleTableModel.COL_PROBLEM)) for r in range(100)} == {
        "Rejected"
    }


def test_a_narrow_list_keeps_the_text_in_sight(pane, make_schedule, clock, qtbot):
    sched = make_schedule("Readable at any width", clock.now() + timedelta(days=1))
    set_status(sched.id, Status.FAILED, error_message="Rejected")
    pane.refresh()
    table = pane.list_view.table
    pane.resize(520, 600)
    qtbot.waitUntil(lambda: table.isColumnHidden(ScheduleTableModel.COL_PROBLEM))
    assert table.isColumnHidden(ScheduleTableModel.COL_PLATFORM)
    text = table.horizontalHeader().sectionSize(ScheduleTableModel.COL_TEXT)
    assert text >= table.fontMetrics().horizontalAdvance("M") * 8  # not scrolled away
    model = pane.list_model
    assert "Rejected" in model.data(model.index(0, 0), Qt.ItemDataRole.ToolTipRole)
    assert not model.data(model.index(0, 0)).startswith(
        ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    )
    pane.resize(1400, 700)
    qtbot.waitUntil(lambda: not table.isColumnHidden(ScheduleTableModel.COL_PROBLEM))
    assert not table.isColumnHidden(ScheduleTableModel.COL_PLATFORM)
