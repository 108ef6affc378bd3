"""Settings ▸ Notifications ▸ Email: the same fields as `notify email`, a test message sent
on a worker with the server's answer shown, and mail problems in the status bar."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from milton_desktop.operations import notify_mail
from milton_desktop.storage import settings
from milton_desktop.storage.models import MailOutbox, Setting
from milton_desktop.ui.shell.settings_dialog import SettingsDialog
from tests.fakes.smtp import FakeSmtp, dead_port

PASSWORD = "ui-smtp-Secret-8812"


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setattr(sys, "platform", "linux")


@pytest.fixture
def smtp():
    with FakeSmtp(users={"me": PASSWORD}) as server:
        yield server


def _dialog(qtbot, creds) -> SettingsDialog:
    dlg = SettingsDialog(credentials=creds)
    qtbot.addWidget(dlg)
    return dlg


def _fill(dlg, port, *, user="me", password=PASSWORD):
    dlg.email_group.setChecked(True)
    dlg.smtp_host_edit.setText("127.0.0.1")
    dlg.security_combo.setCurrentIndex(dlg.security_combo.findData("none"))
    dlg.smtp_port_spin.setValue(port)
    dlg.smtp_user_edit.setText(user)
    dlg.smtp_password_edit.setText(password)
    dlg.mail_from_edit.setText("milton@example.com")
    dlg.mail_to_edit.setText("me@example.com")


def test_saving_the_email_section_stores_it_and_the_password_in_the_keyring(
    qtbot, db, creds, smtp, memory_keyring
):
    dlg = _dialog(qtbot, creds)
    assert not dlg.email_group.isChecked()  # off until set up
    _fill(dlg, smtp.port)
    dlg.mail_event_checks["published"].setChecked(False)
    dlg.mail_event_checks["weekly"].setChecked(True)
    with qtbot.waitSignal(dlg.saved, timeout=10_000):
        dlg.buttons.button(dlg.buttons.StandardButton.Save).click()
    config = notify_mail.current()
    assert config is not None and config.enabled
    assert (config.host, config.port, config.security, config.user) == (
        "127.0.0.1",
        smtp.port,
        "none",
        "me",
    )
    assert config.events == ("failed", "uncertain", "missed", "weekly")
    assert PASSWORD not in json.dumps([(s.key, s.value) for s in Setting.select()])
    assert any(PASSWORD in v for v in memory_keyring.store.values())
    again = _dialog(qtbot, creds)
    assert again.email_group.isChecked()
    assert again.smtp_password_edit.text() == ""  # never read back into the window
    assert "kept in the keyring" in again.smtp_password_edit.placeholderText()
    assert again.mail_event_checks["weekly"].isChecked()


def test_send_test_shows_the_servers_answer(qtbot, db, creds, smtp):
    dlg = _dialog(qtbot, creds)
    _fill(dlg, smtp.port)
    qtbot.mouseClick(dlg.send_test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dlg.test_result_label.text().startswith("Sent"), timeout=10_000)
    assert "the server accepted it (250 2.0.0 Ok: queued as FAKE1)" in dlg.test_result_label.text()
    assert dlg.send_test_button.isEnabled()
    assert smtp.logins == [("me", True)]
    assert notify_mail.current() is None  # a test saves nothing


def test_send_test_says_why_it_failed(qtbot, db, creds, smtp):
    dlg = _dialog(qtbot, creds)
    _fill(dlg, smtp.port, password="not-it-at-all-1")
    dlg.send_test_button.click()
    qtbot.waitUntil(lambda: "not sent" in dlg.test_result_label.text(), timeout=10_000)
    assert "535 5.7.8" in dlg.test_result_label.text()
    assert "not-it-at-all-1" not in dlg.test_result_label.text()
    _fill(dlg, dead_port())
    dlg.send_test_button.click()
    qtbot.waitUntil(lambda: "refused" in dlg.test_result_label.text(), timeout=10_000)


def test_bad_fields_keep_the_dialog_open_saying_what_to_fix(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    _fill(dlg, 2525)
    dlg.mail_to_edit.setText("me at example")
    assert dlg.save() is False
    assert "is not an email address" in dlg.error_label.text()
    dlg.send_test_button.click()
    assert "is not an email address" in dlg.test_result_label.text()
    assert notify_mail.current() is None


def test_choosing_ssl_follows_its_usual_port(qtbot, db, creds):
    dlg = _dialog(qtbot, creds)
    assert dlg.smtp_port_spin.value() == 587
    dlg.security_combo.setCurrentIndex(dlg.security_combo.findData("ssl"))
    assert dlg.smtp_port_spin.value() == 465
    dlg.smtp_port_spin.setValue(2465)
    dlg.security_combo.setCurrentIndex(dlg.security_combo.findData("starttls"))
    assert dlg.smtp_port_spin.value() == 2465  # the user's own port stays


def test_unticking_email_turns_it_off(qtbot, db, creds, smtp):
    notify_mail.configure(
        creds,
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        sender="a@example.com",
        to="b@example.com",
    )
    dlg = _dialog(qtbot, creds)
    dlg.email_group.setChecked(False)
    with qtbot.waitSignal(dlg.saved):
        dlg.save()
    assert settings.get("mail_enabled") is False


def test_the_window_shows_mail_that_did_not_go(qtbot, db, creds, smtp):
    from PySide6.QtGui import QUndoStack

    from milton_desktop.context import AppContext
    from milton_desktop.paths import resolve_paths
    from milton_desktop.ui.shell.main_window import MainWindow

    notify_mail.configure(
        creds,
        host="127.0.0.1",
        port=smtp.port,
        security="none",
        sender="a@example.com",
        to="b@example.com",
    )
    MailOutbox.create(
        key="weekly:2027-01-11",
        event="weekly",
        status="failed",
        last_error="the server refused the message (554 5.7.1 spam)",
        next_attempt_at=datetime.now(UTC),
    )
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    window = MainWindow(ctx, None, QUndoStack())
    qtbot.addWidget(window)
    window.refresh_status()  # the status bar's state is read on a worker
    qtbot.waitUntil(lambda: window.mail_label.isVisibleTo(window))
    assert "Mail: 1 not sent" in window.mail_label.text()
    assert "554 5.7.1 spam" in window.mail_label.toolTip()
