"""An account's Queue page, "Add to queue" in the editor, and a post's time in its
account's zone on the hover card."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QTime

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.slots import Slot
from milton_desktop.operations import posts, queue, schedules
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, Post, ScheduledPost
from milton_desktop.ui.accounts.dialog import AccountsDialog
from milton_desktop.ui.accounts.queue_page import QueueDialog
from milton_desktop.ui.editor.dialog import PostEditorDialog

# Sunday 10 January 2027, 09:00 UTC (10:00 in Paris, the app's zone in these tests)
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return FakeClock(NOW)


def _page(qtbot, account: Account, clock) -> QueueDialog:
    dlg = QueueDialog(queries.find_account(account.id), clock=clock)
    qtbot.addWidget(dlg)
    dlg.show()
    return dlg


def test_the_queue_page_adds_removes_and_saves_slots_and_zone(qtbot, accounts, clock):
    dlg = _page(qtbot, accounts["linkedin"], clock)
    assert dlg.empty_label.isVisible() and not dlg.add_button.isEnabled()
    for day in ("MO", "WE"):
        dlg.day_checks[("MO", "TU", "WE", "TH", "FR", "SA", "SU").index(day)].click()
    dlg.time_edit.setTime(QTime(9, 30))
    dlg.add_button.click()
    dlg.day_checks[4].click()  # Fri
    dlg.day_checks[0].click()  # Mon off
    dlg.day_checks[2].click()  # Wed off
    dlg.time_edit.setTime(QTime(16, 0))
    dlg.add_button.click()
    assert [dlg.slot_list.item(i).text() for i in range(dlg.slot_list.count())] == [
        "Mon 09:30",
        "Wed 09:30",
        "Fri 16:00",
    ]
    dlg.slot_list.item(1).setSelected(True)
    dlg.remove_button.click()
    assert dlg.slots() == [Slot(0, 9 * 60 + 30), Slot(4, 16 * 60)]
    assert "Next posting times: Mon 11 Jan 09:30, Fri 15 Jan 16:00" in dlg.preview_label.text()
    dlg.zone_combo.setCurrentIndex(dlg.zone_combo.findData("America/New_York"))
    # another zone than the app's: the first time is told in both
    assert "09:30 in America/New_York is 15:30 in Europe/Paris" in dlg.preview_label.text()
    with qtbot.waitSignal(dlg.saved):
        dlg.save_button.click()
    shown = queue.show_queue(accounts["linkedin"], clock=clock)
    assert (shown.timezone, shown.own_zone) == ("America/New_York", True)
    assert [str(s) for s in shown.slots] == ["MO 09:30", "FR 16:00"]


def test_a_zone_typed_wrong_is_refused_and_nothing_saved(qtbot, accounts, clock):
    queue.set_queue(accounts["x"], ["TU 08:00"])
    dlg = _page(qtbot, accounts["x"], clock)
    assert dlg.slots() == [Slot(1, 8 * 60)]
    assert dlg.zone_combo.currentIndex() == 0  # follows the app's zone
    dlg.zone_combo.setEditText("Europe/Pariss")
    assert not dlg.save()
    assert "Unknown time zone 'Europe/Pariss'" in dlg.error_label.text()
    assert Account.get_by_id(accounts["x"].id).timezone is None


def test_a_slot_the_clocks_skip_is_said_on_the_page(qtbot, accounts, clock):
    queue.set_queue(accounts["x"], ["SU 02:30"])
    dlg = _page(qtbot, accounts["x"], clock)
    assert "SU 02:30 is skipped on 2027-03-28" in dlg.preview_label.text()
    assert "jump from 02:00 to 03:00" in dlg.preview_label.text()


def test_the_accounts_dialog_opens_the_selected_accounts_queue(qtbot, creds, accounts):
    dlg = AccountsDialog(creds)
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.queue_button.isEnabled()
    dlg.table.selectRow(0)
    dlg.queue_button.click()
    page = dlg.queue_dialog
    assert page is not None and page.isVisible()
    assert page.account.id == dlg.selected_account().id


def test_add_to_queue_in_the_editor_takes_each_accounts_next_slot(
    qtbot, accounts, clock, milton_home
):
    queue.set_queue(accounts["linkedin"], ["MO 09:00"])  # Paris, the app's zone
    queue.set_queue(accounts["x"], ["TU 12:00"], timezone="UTC")
    dlg = PostEditorDialog(clock=clock, media_dir=milton_home / "media")
    dlg.confirm = lambda *a: True  # closing with changes asks first
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.keyClicks(dlg.text_edit, "Queued from the editor")
    dlg.set_account_checked("My X")
    dlg.set_account_checked("Work LinkedIn")
    assert dlg.queue_button.isVisible() and dlg.queue_button.isEnabled()
    with qtbot.waitSignal(dlg.saved, timeout=10000) as blocker:
        dlg.queue_button.click()
    post = Post.get_by_id(blocker.args[0])
    rows = {
        r.account.display_name: r
        for r in ScheduledPost.select().where(ScheduledPost.post == post.id)
    }
    assert rows["Work LinkedIn"].scheduled_time == datetime(2027, 1, 11, 8, 0, tzinfo=UTC)
    assert rows["My X"].scheduled_time == datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
    assert rows["My X"].timezone == "UTC"


def test_add_to_queue_on_an_account_without_slots_saves_nothing(
    qtbot, accounts, clock, milton_home
):
    dlg = PostEditorDialog(clock=clock, media_dir=milton_home / "media")
    dlg.confirm = lambda *a: True  # closing with changes asks first
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.keyClicks(dlg.text_edit, "Nowhere")
    dlg.set_account_checked("My X")
    dlg.queue_button.click()
    qtbot.waitUntil(lambda: "has no queue slots" in dlg.status_label.text(), timeout=10000)
    assert "Queue page under Accounts" in dlg.status_label.text()
    assert Post.select().count() == 0
    assert dlg.isVisible()


def test_editing_a_schedule_offers_no_queue(qtbot, accounts, clock, milton_home):
    post = posts.add_post("scheduled")
    row = schedules.schedule(
        post.id, accounts["x"], datetime(2027, 2, 1, 9, tzinfo=UTC), clock=clock
    )
    dlg = PostEditorDialog(schedule_id=row.id, clock=clock, media_dir=milton_home / "media")
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.queue_button.isVisible()


def test_the_hover_card_tells_the_time_in_the_accounts_own_zone(qtbot, accounts, make_schedule):
    from zoneinfo import ZoneInfo

    from milton_desktop.ui.calendar.hovercard import HoverCard
    from milton_desktop.ui.calendar.model import ScheduleItem

    queue.set_account_zone(accounts["x"], "America/New_York")
    when = datetime(2027, 2, 1, 14, 0, tzinfo=UTC)
    row = make_schedule("in New York", when, platform="x")
    other = make_schedule("in Paris", when, platform="linkedin")
    host = HoverCard(None)
    qtbot.addWidget(host)
    paris = ZoneInfo("Europe/Paris")
    host.fill(ScheduleItem.from_row(queries.schedule_view(row.id), paris))
    assert host.when_label.text().endswith("15:00  (09:00 in America/New_York)")
    host.fill(ScheduleItem.from_row(queries.schedule_view(other.id), paris))
    assert host.when_label.text().endswith("15:00")
