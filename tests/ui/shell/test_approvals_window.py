"""Members and approvals in the window: Approve from the chip's menu and from the
editor, a waiting post's look and tooltip, the account page's checkbox, the member
name in Settings, and the tray's "N posts wait for approval"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMenu

from milton_desktop.domain.status import Status
from milton_desktop.operations import approvals, members
from milton_desktop.storage import queries
from milton_desktop.storage.models import Account, ScheduledPost
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem
from milton_desktop.ui.shell.tray import TrayController
from tests.ui.shell import test_main_window as _main
from tests.ui.shell.test_tray import FakeTray, FakeWindow

# the main window's fixtures, shared
base_time, clock, ctx, runner = _main.base_time, _main.clock, _main.ctx, _main.runner
make_window, window = _main.make_window, _main.window


@pytest.fixture(autouse=True)
def member():
    members.use("Dana")
    yield "Dana"
    members._current = None


@pytest.fixture
def waiting(accounts, make_schedule, base_time):
    """A post to an account that requires approval, made by another member."""
    approvals.set_require_approval(accounts["linkedin"].id, True)
    members.use("Fox")
    row = make_schedule("Launch announcement", base_time + timedelta(days=1))
    members.use("Dana")
    assert row.status == Status.AWAITING_APPROVAL
    return row


def _status(sid: int) -> ScheduledPost:
    return ScheduledPost.get_by_id(sid)


def test_approving_from_the_chip_menu(qtbot, window, waiting):
    cal = window.calendar
    item = ScheduleItem.from_row(queries.schedule_view(waiting.id), cal.settler.zone())
    menu = QMenu()
    actions = cal.settler.fill_menu(menu, item)
    texts = [a.text() for a in actions if not a.isSeparator()]
    assert texts[:2] == ["Waits for a member's approval", "Approve"]
    assert "Publish now" not in texts
    (approve,) = [a for a in actions if a.objectName() == "settle-approve"]
    with qtbot.waitSignal(cal.settler.changed, timeout=5000):
        approve.trigger()
    row = _status(waiting.id)
    assert (row.status, row.approved_by, row.created_by) == ("pending", "Dana", "Fox")
    assert cal.banner.text().startswith("Approved “Launch announcement” on Work LinkedIn")


def test_a_waiting_post_looks_different_and_says_who_made_it(window, waiting):
    item = ScheduleItem.from_row(queries.schedule_view(waiting.id), window.calendar.settler.zone())
    theme = style.theme_for(window.palette())
    assert (
        theme.chip("linkedin", Status.AWAITING_APPROVAL).edge
        != theme.chip("linkedin", Status.PENDING).edge
    )
    assert style.STATUS_MARKS[Status.AWAITING_APPROVAL]
    tip = item.tooltip()
    assert tip.startswith("Awaiting approval · LinkedIn · Work LinkedIn")
    assert "right-click it and choose Approve" in tip
    assert "Created by Fox" in tip
    card = window.calendar.month_view.hover_card
    card.fill(item)
    assert card.reason_label.text().startswith("Waits for a member's approval")
    assert card.members_label.text() == "Created by Fox"


def test_approving_from_the_editor(qtbot, window, waiting):
    editor = window.open_editor(schedule_id=waiting.id)
    assert editor.approve_button.isVisibleTo(editor)
    assert not editor.publish_button.isEnabled()
    words = editor.members_label.text()
    assert "Created by Fox." in words and "waits for a member's approval" in words
    # what was changed would go out unapproved: saving comes first
    editor.text_edit.setPlainText("Launch announcement, edited")
    assert editor.approve() is False
    assert "Save your changes first" in editor.status_label.text()
    editor.text_edit.setPlainText("Launch announcement")
    with qtbot.waitSignal(editor.saved, timeout=5000):
        assert editor.approve() is True
    row = _status(waiting.id)
    assert (row.status, row.approved_by) == ("pending", "Dana")
    assert not editor.approve_button.isVisibleTo(editor)
    assert "Approved by Dana" in editor.members_label.text()
    assert "sends it back to wait for approval" in editor.members_label.text()
    editor.close()


def test_the_account_page_switches_the_requirement(qtbot, creds, accounts, make_schedule, later):
    from milton_desktop.ui.accounts.dialog import AccountsDialog

    row = make_schedule("Scheduled before", later)
    dialog = AccountsDialog(creds)
    qtbot.addWidget(dialog)
    names = [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]
    dialog.table.selectRow(names.index("Work LinkedIn"))
    assert dialog.approval_check.isEnabled() and not dialog.approval_check.isChecked()
    with qtbot.waitSignal(dialog.accounts_changed, timeout=5000):
        dialog.approval_check.setChecked(True)
    assert Account.get_by_id(accounts["linkedin"].id).require_approval is True
    assert _status(row.id).status == Status.AWAITING_APPROVAL

    # switching it off asks first, since the waiting posts would go out unapproved
    asked = []
    dialog.confirm = lambda title, text, ok: asked.append(text) or False
    dialog.approval_check.setChecked(False)
    assert "1 post that waits" in asked[0]
    assert dialog.approval_check.isChecked()  # kept as it was
    dialog.confirm = lambda title, text, ok: True
    with qtbot.waitSignal(dialog.accounts_changed, timeout=5000):
        dialog.approval_check.setChecked(False)
    assert _status(row.id).status == Status.PENDING


def test_the_member_name_is_a_setting_of_this_computer(qtbot, db, milton_home):
    from milton_desktop.ui.shell.settings_dialog import SettingsDialog

    dialog = SettingsDialog()
    qtbot.addWidget(dialog)
    assert dialog.member_edit.text() == "Dana"
    dialog.member_edit.setText("Fox Mulder")
    assert dialog.save() is True
    assert members.current() == "Fox Mulder"
    assert members.saved_name(milton_home) == "Fox Mulder"
    again = SettingsDialog()
    qtbot.addWidget(again)
    again.member_edit.setText("\x07")
    assert again.save() is False
    assert "control characters" in again.error_label.text()


def test_the_tray_says_once_per_change_how_many_posts_wait(qtbot, accounts, make_schedule, later):
    tray_window = FakeWindow()
    tray = TrayController(
        None,
        tray_window,
        lambda _state: QIcon(),
        tray_factory=lambda icon, parent: FakeTray(icon, parent),
        available=True,
    )
    approvals.set_require_approval(accounts["linkedin"].id, True)
    make_schedule("One", later)
    tray.refresh()
    tray.flush()
    tray.refresh()  # nothing changed: nothing more to say
    tray.flush()
    make_schedule("Two", later + timedelta(hours=1))
    tray.refresh()
    tray.flush()
    titles = [m[0] for m in tray.tray.messages]
    assert titles == ["1 post waits for approval", "2 posts wait for approval"]
