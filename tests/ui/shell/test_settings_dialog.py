"""The settings dialog writes through settings.set_value and manages the login item."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QTime

from milton_desktop import autostart
from milton_desktop.storage import settings
from milton_desktop.ui.shell.settings_dialog import SettingsDialog


@pytest.fixture
def xdg(tmp_path, monkeypatch):
    config = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    monkeypatch.setattr(sys, "platform", "linux")
    return config


def _dialog(qtbot) -> SettingsDialog:
    dlg = SettingsDialog()
    qtbot.addWidget(dlg)
    return dlg


def test_shows_current_values(qtbot, db, xdg):
    settings.set_value("timezone", "Europe/Paris")
    settings.set_value("grace_minutes", 45)
    settings.set_value("notify_published", False)
    dlg = _dialog(qtbot)
    assert dlg.zone_combo.currentText() == "Europe/Paris"
    assert dlg.zone_info.text().startswith(("CET", "CEST"))
    assert dlg.grace_spin.value() == 45
    assert dlg.post_time_edit.time() == QTime(10, 0)
    assert not dlg.notify_checks["notify_published"].isChecked()
    assert dlg.notify_checks["notify_failed"].isChecked()
    assert not dlg.autostart_check.isChecked()


def test_values_persist(qtbot, db, xdg):
    dlg = _dialog(qtbot)
    dlg.zone_combo.setCurrentText("america/new_york")  # typed in any case
    dlg.post_time_edit.setTime(QTime(8, 30))
    dlg.grace_spin.setValue(30)
    dlg.attempts_spin.setValue(3)
    dlg.notify_checks["notify_uncertain"].setChecked(False)
    with qtbot.waitSignal(dlg.saved):
        dlg.buttons.button(dlg.buttons.StandardButton.Save).click()
    assert settings.get("timezone") == "America/New_York"
    assert settings.get("default_post_time") == "08:30"
    assert settings.get("grace_minutes") == 30
    assert settings.get("max_attempts") == 3
    assert settings.get("notify_uncertain") is False
    assert settings.get("notify_reconnect") is True
    again = _dialog(qtbot)
    assert again.zone_combo.currentText() == "America/New_York"
    assert again.post_time_edit.time() == QTime(8, 30)
    assert again.grace_spin.value() == 30


def test_unknown_zone_is_refused_inline(qtbot, db, xdg):
    settings.set_value("timezone", "Europe/Paris")
    dlg = _dialog(qtbot)
    dlg.zone_combo.setCurrentText("Atlantis/Lost_City")
    assert dlg.zone_info.text() == ""
    with qtbot.assertNotEmitted(dlg.saved):
        assert dlg.save() is False
    assert not dlg.error_label.isHidden()
    assert "not a time zone" in dlg.error_label.text()
    assert settings.get("timezone") == "Europe/Paris"


def test_cancel_writes_nothing(qtbot, db, xdg):
    dlg = _dialog(qtbot)
    dlg.grace_spin.setValue(5)
    dlg.autostart_check.setChecked(True)
    dlg.buttons.button(dlg.buttons.StandardButton.Cancel).click()
    assert settings.get("grace_minutes") == 120
    assert not autostart.is_enabled()


def test_start_at_login_writes_and_removes_the_entry(qtbot, db, xdg):
    entry = xdg / "autostart" / "milton-desktop.desktop"
    dlg = _dialog(qtbot)
    dlg.autostart_check.setChecked(True)
    assert dlg.save()
    assert entry.is_file()
    assert "--minimized" in entry.read_text()
    assert settings.get("start_at_login") is True

    dlg = _dialog(qtbot)
    assert dlg.autostart_check.isChecked()
    dlg.autostart_check.setChecked(False)
    assert dlg.save()
    assert not entry.exists()
    assert settings.get("start_at_login") is False


def test_entry_removed_by_hand_shows_unchecked(qtbot, db, xdg):
    settings.set_value("start_at_login", True)
    dlg = _dialog(qtbot)  # no entry on disk: the checkbox tells the truth
    assert not dlg.autostart_check.isChecked()


def test_autostart_failure_is_shown_and_nothing_saved(qtbot, db, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    monkeypatch.setattr(sys, "platform", "linux")
    dlg = _dialog(qtbot)
    dlg.grace_spin.setValue(10)
    dlg.autostart_check.setChecked(True)
    assert dlg.save() is False
    assert "start at login" in dlg.error_label.text()
    assert settings.get("grace_minutes") == 120
