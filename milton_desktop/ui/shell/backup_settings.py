"""The settings' Backups group: the daily backup on or off, how many to keep, where,
and "Back up now". Values go through ``operations.backup`` (checked there)."""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from milton_desktop.domain.errors import UserError
from milton_desktop.operations import backup
from milton_desktop.storage import settings
from milton_desktop.ui import tones
from milton_desktop.ui.shell.data_dialogs import ProgressRelay
from milton_desktop.ui.tasks import run_in_background

log = logging.getLogger("milton.ui")


def _when(instant: datetime) -> str:
    from milton_desktop.domain.timeutil import get_zone

    local = instant.astimezone(get_zone(settings.get("timezone") or "UTC"))
    return local.strftime("%a %d %b %Y, %H:%M")


class BackupSettingsGroup(QGroupBox):
    """Edits the automatic backup's settings; :meth:`save` writes them."""

    def __init__(self, home: backup.Home, parent: QWidget | None = None) -> None:
        super().__init__("Backups", parent)
        self.setObjectName("backupGroup")
        self.home = home
        form = QFormLayout(self)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.setToolTip(
            "Tokens are not in the backups: they stay in the system keyring. Milton makes "
            "the daily backup while it runs, between publishes."
        )
        self.auto_check = QCheckBox("Back up every day, keeping the last")
        self.auto_check.setObjectName("autoBackup")
        self.keep_spin = QSpinBox()
        self.keep_spin.setObjectName("autoBackupKeep")
        self.keep_spin.setRange(*backup.KEEP_RANGE)
        self.keep_spin.setSuffix(" backups")
        self.keep_spin.setMinimumWidth(120)
        self.auto_check.toggled.connect(self.keep_spin.setEnabled)
        daily = QHBoxLayout()
        daily.addWidget(self.auto_check)
        daily.addWidget(self.keep_spin)
        daily.addStretch(1)
        form.addRow(daily)

        self.folder_edit = QLineEdit()
        self.folder_edit.setObjectName("autoBackupFolder")
        self.folder_edit.setPlaceholderText(str(home.data_dir / "backups"))
        self.folder_edit.setToolTip("Empty: the backups folder inside Milton's data folder")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(choose)
        form.addRow("In the folder:", folder_row)

        self.now_button = QPushButton("Back up now")
        self.now_button.setObjectName("backupNow")
        self.now_button.clicked.connect(self._on_now_button_clicked)
        self.state_label = self._dim("")
        self.state_label.setObjectName("backupState")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        now_row = QHBoxLayout()
        now_row.addWidget(self.now_button)
        now_row.addWidget(self.state_label, 1)
        form.addRow(now_row)
        self.relay = ProgressRelay(self)
        self.relay.changed.connect(self._on_relay_changed)
        self.working = False
        self.load()

    @staticmethod
    def _dim(text: str) -> QLabel:
        from milton_desktop.ui.shell.settings_dialog import hint_label

        return hint_label(text)

    def load(self) -> None:
        state = backup.backup_state(self.home)
        self.auto_check.setChecked(state.enabled)
        self.keep_spin.setValue(state.keep)
        self.folder_edit.setText(str(state.folder) if state.custom_folder else "")
        self._show_state(state)

    def _show_state(self, state: backup.BackupState, tone: str | None = None) -> None:
        if state.newest is None:
            text = "No automatic backup yet."
        else:
            text = (
                f"Last backup {_when(state.newest)} · {state.count} kept, "
                f"{backup.human_size(state.total_bytes)}"
            )
        self._say(text, tone)

    def _say(self, text: str, tone: str | None = None) -> None:
        colour = tones.tone(self.palette(), tone).name() if tone else None
        self.state_label.setStyleSheet(f"color: {colour};" if colour else "")
        self.state_label.setText(text)

    def save(self) -> None:
        """Write the values.

        Raises:
            UserError: a folder that cannot be used (the message says why).
        """
        backup.set_backup_settings(
            self.auto_check.isChecked(), self.keep_spin.value(), self.folder_edit.text()
        )

    def _on_choose_clicked(self) -> None:
        start = self.folder_edit.text().strip() or str(self.home.data_dir)
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the backups", start)
        if chosen:
            self.folder_edit.setText(chosen)

    def _on_now_button_clicked(self) -> None:
        self.back_up_now()

    def back_up_now(self) -> bool:
        """Save the settings shown, then write a backup into the folder (on a worker)."""
        if self.working:
            return False
        try:
            self.save()
        except UserError as exc:
            self._say(str(exc), "error")
            return False
        self.working = True
        self.now_button.setEnabled(False)
        self._say("Backing up…")
        home, relay = self.home, self.relay
        run_in_background(
            lambda: backup.back_up_now(home, progress=relay.report),
            parent=self,
            on_success=self._on_backup_done,
            on_failure=self._on_backup_failed,
            until_finished=False,
        )
        return True

    def _on_relay_changed(self, done: int, total: int, _what: str) -> None:
        if total > 0:
            self._say(f"Backing up… {done * 100 // total} %")

    def _on_backup_done(self, report: backup.BackupReport) -> None:
        self.working = False
        self.now_button.setEnabled(True)
        state = backup.backup_state(self.home)
        self._show_state(state, "ok")
        self.state_label.setToolTip(str(report.path))

    def _on_backup_failed(self, exc: Exception) -> None:
        self.working = False
        self.now_button.setEnabled(True)
        if not isinstance(exc, UserError):
            log.error("backup failed: %s", exc, exc_info=exc)
        self._say(f"The backup failed: {exc}", "error")
