"""Preferences: time zone, default posting time, late-post window, notifications, login start.

Every value is read and written through :mod:`milton_desktop.storage.settings`, where each
option is declared once with its default; nothing is remembered here.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from milton_desktop import APP_NAME, autostart
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, get_zone
from milton_desktop.operations.backup import Home
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import settings
from milton_desktop.ui import tones
from milton_desktop.ui.shell.assistant_page import AssistantPage
from milton_desktop.ui.shell.backup_settings import BackupSettingsGroup

log = logging.getLogger("milton.ui")

NOTIFY_KEYS = ("notify_published", "notify_failed", "notify_uncertain", "notify_reconnect")

_NOTIFY_TEXT = {
    "notify_published": "A post was published",
    "notify_failed": "A post failed and will not be retried",
    "notify_uncertain": "A post may or may not have gone out (you decide what to do)",
    "notify_reconnect": "An account needs reconnecting",
}


def hint_label(text: str) -> QLabel:
    """A secondary line of explanation, dimmed the way the platform dims placeholders."""
    label = QLabel(text)
    label.setWordWrap(True)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText)
    )
    label.setPalette(palette)
    return label


def zone_description(name: str, when: datetime | None = None) -> str:
    """``CET, UTC+01:00 now`` for a zone name, or an empty string when unknown."""
    try:
        zone = get_zone(name)
    except TimeInputError:
        return ""
    local = (when or datetime.now(UTC)).astimezone(zone)
    offset = local.strftime("%z")
    sign, hours, minutes = offset[0], offset[1:3], offset[3:5]
    abbreviation = local.tzname() or ""
    utc = f"UTC{sign}{hours}:{minutes}"
    if abbreviation and not abbreviation.startswith(("+", "-")) and abbreviation != "UTC":
        return f"{abbreviation}, {utc} now"
    return f"{utc} now"


def _short(widget: QWidget) -> QHBoxLayout:
    """A row that keeps a short field (a time, a number) short instead of stretching it."""
    row = QHBoxLayout()
    row.addWidget(widget)
    row.addStretch(1)
    return row


def _page(*groups: QWidget) -> QWidget:
    """A tab holding ``groups`` at its top."""
    page = QWidget()
    layout = QVBoxLayout(page)
    for group in groups:
        layout.addWidget(group)
    layout.addStretch(1)
    return page


class SettingsDialog(QDialog):
    """Edit the app's preferences; Save writes them all, Cancel writes nothing.

    Signals:
        saved: emitted after every value has been written.
    """

    saved = Signal()

    def __init__(self, parent: QWidget | None = None, *, home: Home | None = None) -> None:
        """``home``: where the backups' defaults live (this process's home by default)."""
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle(f"{APP_NAME} settings")
        self._zones = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
        self._zone_lookup = {z.casefold(): z for z in self._zones}

        outer = QVBoxLayout(self)
        self.pages = QTabWidget()
        self.pages.setObjectName("settingsPages")
        outer.addWidget(self.pages)
        general = QWidget()
        layout = QVBoxLayout(general)
        self.pages.addTab(general, "General")
        layout.addWidget(self._build_time_group())
        layout.addWidget(self._build_notify_group())
        layout.addWidget(self._build_startup_group())
        self.backup_group = BackupSettingsGroup(home or Home.of(resolve_paths()), self)
        self.pages.addTab(_page(self.backup_group), "Backups")
        self.assistant_page = AssistantPage()
        self.pages.addTab(self.assistant_page, "Writing assistant")
        layout = outer

        self.error_label = QLabel()
        self.error_label.setObjectName("settingsError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {tones.tone(self.palette(), 'error').name()};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self._load()
        self.resize(560, self.sizeHint().height())

    # ------------------------------------------------------------ building

    def _build_time_group(self) -> QGroupBox:
        group = QGroupBox("Time and scheduling")
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)

        self.zone_combo = QComboBox()
        self.zone_combo.setObjectName("zoneCombo")
        self.zone_combo.setEditable(True)
        self.zone_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zone_combo.addItems(self._zones)
        self.zone_combo.setMaxVisibleItems(15)
        self.zone_combo.setMinimumWidth(260)
        completer = QCompleter(self._zones, self.zone_combo)
        # "paris" or "york" finds Europe/Paris and America/New_York
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.zone_combo.setCompleter(completer)
        zone_edit = self.zone_combo.lineEdit()
        if zone_edit is not None:  # the combo is editable, so it has one
            zone_edit.setPlaceholderText("Type a city, e.g. Paris")
        self.zone_combo.currentTextChanged.connect(self._on_zone_combo_text_changed)
        self.zone_info = hint_label("")
        self.zone_info.setObjectName("zoneInfo")
        self.zone_info.setWordWrap(False)
        zone_row = QHBoxLayout()
        zone_row.addWidget(self.zone_combo, 1)
        zone_row.addWidget(self.zone_info)
        form.addRow("Time zone:", zone_row)

        self.post_time_edit = QTimeEdit()
        self.post_time_edit.setObjectName("defaultPostTime")
        self.post_time_edit.setDisplayFormat("HH:mm")
        self.post_time_edit.setMinimumWidth(120)
        form.addRow("Default posting time:", _short(self.post_time_edit))
        form.addRow("", self._hint("Used when you drop a post on a day in the calendar."))

        self.grace_spin = QSpinBox()
        self.grace_spin.setObjectName("graceMinutes")
        self.grace_spin.setRange(0, 7 * 24 * 60)
        self.grace_spin.setSingleStep(15)
        self.grace_spin.setSuffix(" minutes")
        self.grace_spin.setMinimumWidth(120)
        form.addRow("Publish late posts for up to:", _short(self.grace_spin))
        form.addRow(
            "",
            self._hint(
                "If the computer was off or asleep at a post's time, it still goes out when "
                "Milton wakes within this window. Later than that, it waits for you to "
                "publish or reschedule it."
            ),
        )

        self.attempts_spin = QSpinBox()
        self.attempts_spin.setObjectName("maxAttempts")
        self.attempts_spin.setRange(1, 20)
        self.attempts_spin.setSuffix(" attempts")
        self.attempts_spin.setMinimumWidth(120)
        form.addRow("Retry temporary failures:", _short(self.attempts_spin))
        return group

    def _build_notify_group(self) -> QGroupBox:
        group = QGroupBox("Notify me when")
        box = QVBoxLayout(group)
        self.notify_checks: dict[str, QCheckBox] = {}
        for key in NOTIFY_KEYS:
            check = QCheckBox(_NOTIFY_TEXT[key])
            check.setObjectName(key)
            self.notify_checks[key] = check
            box.addWidget(check)
        return group

    def _build_startup_group(self) -> QGroupBox:
        group = QGroupBox("Start-up")
        box = QVBoxLayout(group)
        self.autostart_check = QCheckBox(f"Start {APP_NAME} when I log in (in the tray)")
        self.autostart_check.setObjectName("startAtLogin")
        box.addWidget(self.autostart_check)
        box.addWidget(
            self._hint(
                "Scheduled posts go out only while Milton is running; starting it at login "
                "keeps them on time."
            )
        )
        return group

    @staticmethod
    def _hint(text: str) -> QLabel:
        return hint_label(text)

    # ------------------------------------------------------------ values

    def _load(self) -> None:
        zone = settings.get("timezone") or "UTC"
        self.zone_combo.setCurrentText(zone)
        self._on_zone_combo_text_changed(zone)
        hhmm = QTime.fromString(str(settings.get("default_post_time")), "HH:mm")
        self.post_time_edit.setTime(hhmm if hhmm.isValid() else QTime(10, 0))
        self.grace_spin.setValue(int(settings.get("grace_minutes")))
        self.attempts_spin.setValue(int(settings.get("max_attempts")))
        for key, check in self.notify_checks.items():
            check.setChecked(bool(settings.get(key)))
        # the entry on disk is the truth: the user may have removed it by hand
        try:
            enabled = autostart.is_enabled()
        except OSError:
            enabled = bool(settings.get("start_at_login"))
        self.autostart_check.setChecked(enabled)
        self._autostart_was = enabled

    def _zone_name(self) -> str | None:
        return self._zone_lookup.get(self.zone_combo.currentText().strip().casefold())

    def _on_zone_combo_text_changed(self, text: str) -> None:
        name = self._zone_lookup.get(text.strip().casefold())
        self.zone_info.setText(zone_description(name) if name else "")

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.show()

    def _on_buttons_accepted(self) -> None:
        self.save()

    def save(self) -> bool:
        """Write every value; on a problem say what to fix and keep the dialog open."""
        zone = self._zone_name()
        if zone is None:
            self._show_error(
                f"“{self.zone_combo.currentText().strip()}” is not a time zone Milton knows: "
                "pick one from the list (type a city to search)."
            )
            self.zone_combo.setFocus()
            return False
        refused = self.assistant_page.save()
        if refused is not None:
            self.pages.setCurrentWidget(self.assistant_page)
            self._show_error(f"Writing assistant: {refused}")
            return False
        want_autostart = self.autostart_check.isChecked()
        if want_autostart != self._autostart_was:
            try:
                if want_autostart:
                    autostart.enable(autostart.default_command())
                else:
                    autostart.disable()
            except autostart.AutostartError as exc:
                self._show_error(f"{exc}.")
                return False
            self._autostart_was = want_autostart
        try:
            self.backup_group.save()
        except UserError as exc:
            self._show_error(f"{exc}.")
            return False
        settings.set_value("timezone", zone)
        settings.set_value("default_post_time", self.post_time_edit.time().toString("HH:mm"))
        settings.set_value("grace_minutes", self.grace_spin.value())
        settings.set_value("max_attempts", self.attempts_spin.value())
        for key, check in self.notify_checks.items():
            settings.set_value(key, check.isChecked())
        settings.set_value("start_at_login", want_autostart)
        log.info("settings saved")
        self.error_label.hide()
        self.saved.emit()
        self.accept()
        return True
