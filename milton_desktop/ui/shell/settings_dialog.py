"""Preferences: time zone, default posting time, late-post window, notifications, login start.

Every value is read and written through :mod:`milton_desktop.storage.settings`, where each
option is declared once with its default; nothing is remembered here. The email section
saves and tests through :mod:`milton_desktop.operations.notify_mail`, on a worker (the
password goes to the keyring, the test talks to the mail server).
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
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from milton_desktop import APP_NAME, autostart
from milton_desktop.domain import mail
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.mail import MailSettings
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import TimeInputError, get_zone
from milton_desktop.operations import members, notify_mail
from milton_desktop.operations.backup import Home
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.ui import tones
from milton_desktop.ui.shell.assistant_page import AssistantPage
from milton_desktop.ui.shell.backup_settings import BackupSettingsGroup
from milton_desktop.ui.tasks import run_in_background

log = logging.getLogger("milton.ui")

NOTIFY_KEYS = ("notify_published", "notify_failed", "notify_uncertain", "notify_reconnect")

_NOTIFY_TEXT = {
    "notify_published": "A post was published",
    "notify_failed": "A post failed and will not be retried",
    "notify_uncertain": "A post may or may not have gone out (you decide what to do)",
    "notify_reconnect": "An account needs reconnecting",
}


#: what each mailed event is called in the window
_MAIL_EVENT_TEXT = {
    Status.PUBLISHED: "Published posts",
    Status.FAILED: "Failed posts",
    Status.UNCERTAIN: "Posts that may not have gone out",
    Status.MISSED: "Posts that missed their time",
    mail.WEEKLY: "A weekly summary (Mondays at 08:00, your time)",
}

_SECURITY_TEXT = {
    "starttls": "STARTTLS (usually port 587)",
    "ssl": "SSL/TLS from the start (usually port 465)",
    "none": "None: a relay on this computer only",
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

    def __init__(
        self,
        parent: QWidget | None = None,
        credentials: CredentialStore | None = None,
        *,
        home: Home | None = None,
    ) -> None:
        """``home``: where the backups' defaults live (this process's home by default)."""
        super().__init__(parent)
        self.credentials = credentials or CredentialStore(
            settings.install_id(), allow_memory_fallback=True
        )
        self.setObjectName("settingsDialog")
        self.setWindowTitle(f"{APP_NAME} settings")
        self._zones = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})
        self._zone_lookup = {z.casefold(): z for z in self._zones}

        outer = QVBoxLayout(self)
        self.pages = QTabWidget()
        self.pages.setObjectName("settingsPages")
        outer.addWidget(self.pages)
        self._home = home or Home.of(resolve_paths())
        general = QWidget()
        layout = QVBoxLayout(general)
        self.pages.addTab(general, "General")
        layout.addWidget(self._build_member_group())
        layout.addWidget(self._build_time_group())
        layout.addWidget(self._build_notify_group())
        layout.addWidget(self._build_startup_group())
        layout.addStretch(1)
        self.pages.addTab(_page(self._build_email_group()), "Email")
        self.backup_group = BackupSettingsGroup(self._home, self)
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
        self.resize(600, self.sizeHint().height())

    # ------------------------------------------------------------ building

    def _build_member_group(self) -> QGroupBox:
        group = QGroupBox("You")
        form = QFormLayout(group)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.member_edit = QLineEdit()
        self.member_edit.setObjectName("memberName")
        self.member_edit.setMaxLength(members.MAX_NAME_LENGTH)
        self.member_edit.setPlaceholderText(members.default_name())
        form.addRow("Member name:", self.member_edit)
        form.addRow(
            "",
            self._hint(
                "Shown on the posts you schedule, change and approve, so your team knows "
                "who did what. Kept on this computer."
            ),
        )
        return group

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

    def _build_email_group(self) -> QGroupBox:
        group = QGroupBox("Email notifications")
        group.setObjectName("emailGroup")
        group.setCheckable(True)
        group.setChecked(False)
        self.email_group = group
        box = QVBoxLayout(group)
        box.addWidget(
            self._hint(
                "Mail goes out from the scheduler, through your provider's outgoing "
                "server, and never holds a post back."
            )
        )
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.smtp_host_edit = QLineEdit()
        self.smtp_host_edit.setObjectName("smtpHost")
        self.smtp_host_edit.setPlaceholderText("smtp.example.com")
        self.smtp_port_spin = QSpinBox()
        self.smtp_port_spin.setObjectName("smtpPort")
        self.smtp_port_spin.setRange(1, 65535)
        self.smtp_port_spin.setValue(mail.DEFAULT_PORTS["starttls"])
        self.smtp_port_spin.setMinimumWidth(90)
        server_row = QHBoxLayout()
        server_row.addWidget(self.smtp_host_edit, 1)
        server_row.addWidget(QLabel("Port:"))
        server_row.addWidget(self.smtp_port_spin)
        form.addRow("Outgoing server:", server_row)
        self.security_combo = QComboBox()
        self.security_combo.setObjectName("smtpSecurity")
        for key in mail.SECURITY:
            self.security_combo.addItem(_SECURITY_TEXT[key], key)
        self._security_was = "starttls"
        self.security_combo.currentIndexChanged.connect(self._on_security_combo_index_changed)
        form.addRow("Security:", self.security_combo)
        self.smtp_user_edit = QLineEdit()
        self.smtp_user_edit.setObjectName("smtpUser")
        self.smtp_user_edit.setPlaceholderText("empty if the server needs no sign-in")
        form.addRow("User name:", self.smtp_user_edit)
        self.smtp_password_edit = QLineEdit()
        self.smtp_password_edit.setObjectName("smtpPassword")
        self.smtp_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("Password:", self.smtp_password_edit)
        self.mail_from_edit = QLineEdit()
        self.mail_from_edit.setObjectName("mailFrom")
        self.mail_from_edit.setPlaceholderText("milton@example.com")
        form.addRow("From:", self.mail_from_edit)
        self.mail_to_edit = QLineEdit()
        self.mail_to_edit.setObjectName("mailTo")
        self.mail_to_edit.setPlaceholderText("you@example.com")
        form.addRow("To:", self.mail_to_edit)
        box.addLayout(form)

        box.addWidget(QLabel("Mail me about:"))
        grid = QGridLayout()
        self.mail_event_checks: dict[str, QCheckBox] = {}
        for i, event in enumerate(mail.EVENTS):
            check = QCheckBox(_MAIL_EVENT_TEXT[event])
            check.setObjectName(f"mail_{event}")
            check.setChecked(event in mail.DEFAULT_EVENTS)
            self.mail_event_checks[event] = check
            if event == mail.WEEKLY:
                grid.addWidget(check, 2, 0, 1, 2)
            else:
                grid.addWidget(check, i // 2, i % 2)
        box.addLayout(grid)

        test_row = QHBoxLayout()
        self.send_test_button = QPushButton("Send test")
        self.send_test_button.setObjectName("sendTestMail")
        self.send_test_button.setToolTip("Send a test message now with the fields as they are")
        self.send_test_button.clicked.connect(self._on_send_test_button_clicked)
        test_row.addWidget(self.send_test_button)
        test_row.addStretch(1)
        box.addLayout(test_row)
        self.test_result_label = QLabel()
        self.test_result_label.setObjectName("mailTestResult")
        self.test_result_label.setWordWrap(True)
        self.test_result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.addWidget(self.test_result_label)
        self.mail_state_label = hint_label("")
        self.mail_state_label.setObjectName("mailState")
        box.addWidget(self.mail_state_label)
        box.addStretch(1)
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
        self.member_edit.setText(members.current())
        self._member_was = members.current()
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
        self._load_email()

    def _load_email(self) -> None:
        config = notify_mail.current()
        self._email_was = config
        if config is None:
            return
        self.email_group.setChecked(config.enabled)
        self.smtp_host_edit.setText(config.host)
        index = self.security_combo.findData(config.security)
        self.security_combo.blockSignals(True)
        self.security_combo.setCurrentIndex(max(index, 0))
        self.security_combo.blockSignals(False)
        self._security_was = config.security
        self.smtp_port_spin.setValue(config.port)
        self.smtp_user_edit.setText(config.user)
        if config.user:
            # never read back: the field only says one is kept
            self.smtp_password_edit.setPlaceholderText("kept in the keyring; type to change")
        self.mail_from_edit.setText(config.sender)
        self.mail_to_edit.setText(config.to)
        for event, check in self.mail_event_checks.items():
            check.setChecked(event in config.events)
        state = notify_mail.mail_status()
        self.mail_state_label.setText(
            f"Not sent: {state.summary()}" if state.summary() else f"{state.sent} sent so far."
        )

    def _email_fields(self) -> tuple[MailSettings, str | None]:
        """The email section as settings (checked), and the password typed (None: keep)."""
        password = self.smtp_password_edit.text() or None
        user = self.smtp_user_edit.text().strip()
        stored = self._email_was is not None and self._email_was.user == user and bool(user)
        config = mail.check_settings(
            host=self.smtp_host_edit.text(),
            port=self.smtp_port_spin.value(),
            security=str(self.security_combo.currentData()),
            user=user,
            has_password=bool(password) or stored,
            sender=self.mail_from_edit.text(),
            to=self.mail_to_edit.text(),
            events=[e for e, check in self.mail_event_checks.items() if check.isChecked()],
        )
        return config, password

    def _on_security_combo_index_changed(self, _index: int) -> None:
        security = str(self.security_combo.currentData())
        # follow the usual port unless the user chose another
        if self.smtp_port_spin.value() == mail.DEFAULT_PORTS.get(self._security_was):
            self.smtp_port_spin.setValue(mail.DEFAULT_PORTS[security])
        self._security_was = security

    def _on_send_test_button_clicked(self) -> None:
        try:
            config, password = self._email_fields()
        except UserError as exc:
            self._show_test_result(f"{exc}.", "error")
            return
        self.send_test_button.setEnabled(False)
        self._show_test_result(f"Sending a test message through {config.host}…", "info")
        credentials = self.credentials
        run_in_background(
            lambda: notify_mail.send_test(credentials, config=config, password=password),
            parent=self,
            on_success=self._on_test_mail_sent,
            on_failure=self._on_test_mail_failed,
        )

    def _on_test_mail_sent(self, answer: object) -> None:
        self.send_test_button.setEnabled(True)
        self._show_test_result(
            f"Sent: the server accepted it ({answer}). Check {self.mail_to_edit.text().strip()}.",
            "ok",
        )

    def _on_test_mail_failed(self, exc: Exception) -> None:
        self.send_test_button.setEnabled(True)
        self._show_test_result(f"{str(exc)[:1].upper()}{str(exc)[1:]}.", "error")

    def _show_test_result(self, text: str, tone: str) -> None:
        colour = (
            self.palette().color(QPalette.ColorRole.WindowText)
            if tone == "info"
            else tones.tone(self.palette(), tone)
        )
        self.test_result_label.setStyleSheet(f"color: {colour.name()};")
        self.test_result_label.setText(text)

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
        """Write every value; on a problem say what to fix and keep the dialog open.

        With email on, its settings are saved on a worker (the keyring is slow): the
        dialog closes, and ``saved`` comes, once they are stored."""
        email: tuple[MailSettings, str | None] | None = None
        if self.email_group.isChecked():
            try:
                email = self._email_fields()
            except UserError as exc:
                self._show_error(f"Email: {exc}.")
                return False
        zone = self._zone_name()
        if zone is None:
            self._show_error(
                f"“{self.zone_combo.currentText().strip()}” is not a time zone Milton knows: "
                "pick one from the list (type a city to search)."
            )
            self.zone_combo.setFocus()
            return False
        member = self.member_edit.text().strip() or members.default_name()
        try:
            member = members.check_name(member)
        except UserError as exc:
            self._show_error(f"{exc}.")
            self.member_edit.setFocus()
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
        if member != self._member_was or members.saved_name(self._home.data_dir) is None:
            try:
                members.save_name(self._home.data_dir, member)
            except UserError as exc:
                self._show_error(f"{exc}.")
                return False
            self._member_was = member
        settings.set_value("timezone", zone)
        settings.set_value("default_post_time", self.post_time_edit.time().toString("HH:mm"))
        settings.set_value("grace_minutes", self.grace_spin.value())
        settings.set_value("max_attempts", self.attempts_spin.value())
        for key, check in self.notify_checks.items():
            settings.set_value(key, check.isChecked())
        settings.set_value("start_at_login", want_autostart)
        if email is None:
            if self._email_was is not None and self._email_was.enabled:
                notify_mail.turn_off()
            self._finish_save()
            return True
        config, password = email
        credentials = self.credentials
        self.buttons.setEnabled(False)
        run_in_background(
            lambda: notify_mail.configure(
                credentials,
                host=config.host,
                port=config.port,
                security=config.security,
                user=config.user,
                password=password,
                sender=config.sender,
                to=config.to,
                events=config.events,
            ),
            parent=self,
            on_success=lambda _config: self._finish_save(),
            on_failure=self._on_email_save_failed,
            writes=True,
        )
        return True

    def _on_email_save_failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self._show_error(f"Email: {exc}.")

    def _finish_save(self) -> None:
        log.info("settings saved")
        self.error_label.hide()
        self.saved.emit()
        self.accept()
