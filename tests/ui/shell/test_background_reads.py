"""The window reads the database on worker threads: what it asked last is what it
shows, a change from another process appears, a drop and its undo show at once, and
a read that fails says so instead of crashing. No test waits for a time: each waits
for what the window shows."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QWidget

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import queries
from milton_desktop.ui.calendar import model as calendar_model
from milton_desktop.ui.calendar.model import SCHEDULE_MIME, display_zone, make_mime
from milton_desktop.ui.calendar.view import add_months
from milton_desktop.ui.shell.main_window import MainWindow
from milton_desktop.ui.tasks import LatestRead


@pytest.fixture
def now():
    # mid-month, mid-morning: the posts below stay inside the month on screen
    return datetime(2031, 5, 14, 8, 0, tzinfo=UTC)


@pytest.fixture
def window(qtbot, db, creds, accounts, now):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    win = MainWindow(ctx, None, QUndoStack(), clock=FakeClock(now))
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: not win.calendar.loading(), timeout=5000)
    return win


def local_day(when: datetime):
    return when.astimezone(display_zone()).date()


def test_a_superseded_read_is_dropped(qtbot, db):
    owner = QWidget()
    qtbot.addWidget(owner)
    reads = LatestRead(owner)
    first_may_end = threading.Event()
    shown: list[str] = []

    def slow_first() -> str:
        first_may_end.wait(10)
        return "the range asked first"

    failed: list[Exception] = []
    reads.request(slow_first, shown.append, failed.append)
    reads.request(lambda: "the range asked last", shown.append, failed.append)
    qtbot.waitUntil(lambda: shown == ["the range asked last"], timeout=5000)
    assert not reads.busy()
    first_may_end.set()  # its answer arrives now, late: nobody shows it
    qtbot.waitUntil(lambda: reads.answered == 2, timeout=5000)  # both answers are in
    assert shown == ["the range asked last"] and not failed


def test_a_drop_and_its_undo_show_at_once_then_are_confirmed(qtbot, window, make_schedule, now):
    when = now + timedelta(days=2, hours=2)
    sched = make_schedule("Moved by hand", when)
    cal = window.calendar
    window.refresh_all()
    qtbot.waitUntil(lambda: cal.model.item(sched.id) is not None, timeout=5000)
    old_day = local_day(when)
    new_day = old_day + timedelta(days=3)

    assert cal.drop_mime(make_mime(SCHEDULE_MIME, [sched.id]), new_day, None)
    # on screen before any read has answered: the chip is on its new day already
    assert cal.model.item(sched.id).day == new_day
    assert sched.id in cal.month_view.shown_ids(new_day)
    assert sched.id not in cal.month_view.shown_ids(old_day)
    qtbot.waitUntil(lambda: not cal.loading(), timeout=5000)
    assert cal.model.item(sched.id).day == new_day  # and the store agrees
    assert local_day(queries.get_schedule(sched.id).scheduled_time) == new_day

    window.undo_stack.undo()
    assert cal.model.item(sched.id).day == old_day  # at once, again
    qtbot.waitUntil(lambda: not cal.loading(), timeout=5000)
    assert cal.model.item(sched.id).day == old_day


def test_a_change_by_another_process_appears(qtbot, window, make_schedule, now, db):
    sched = make_schedule("Written here", now + timedelta(days=1))
    cal = window.calendar
    window.refresh_all()
    qtbot.waitUntil(lambda: cal.model.item(sched.id) is not None, timeout=5000)
    window._on_db_watch_timer_timeout()  # nothing new from elsewhere yet

    other = sqlite3.connect(resolve_paths().db_path)
    other.execute(
        "UPDATE scheduled_posts SET text_override = 'Edited in a terminal' WHERE id = ?",
        (sched.id,),
    )
    other.commit()
    other.close()
    window._on_db_watch_timer_timeout()
    qtbot.waitUntil(
        lambda: (it := cal.model.item(sched.id)) is not None and it.text == "Edited in a terminal",
        timeout=5000,
    )


def test_next_month_is_shown_from_what_was_read_ahead(qtbot, window, now):
    cal = window.calendar
    ahead = cal._key("month", add_months(cal.anchor(), 1))
    qtbot.waitUntil(lambda: ahead in cal._cache, timeout=5000)
    month = cal.model.start
    cal.next_button.click()
    # no read was needed: the next month is on screen before the loop turns
    assert not cal.loading()
    assert cal.model.start is not None and cal.model.start > month
    assert cal.title_label.text() == f"{add_months(now.date(), 1):%B %Y}"


def test_a_read_that_fails_says_so_and_keeps_the_picture(qtbot, window, monkeypatch):
    cal = window.calendar
    shown = cal.model.start
    title = cal.title_label.text()

    def broken(*_args, **_kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(calendar_model.queries, "calendar_rows", broken)
    cal.refresh()  # everything read before is forgotten: this one must be read
    qtbot.waitUntil(lambda: "could not be read" in cal.banner.text(), timeout=5000)
    assert "disk I/O error" in cal.banner.text()
    assert cal.banner.level == "error"
    assert cal.model.start == shown and cal.title_label.text() == title
