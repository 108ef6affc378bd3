"""File ▸ Back up…, Restore… and Export…: the user's data, from the window.

Each runs its operation on a worker with a progress bar. A restore checks the whole
archive first, then asks; it pauses this window's publishing and waits until no
publish is in flight, refuses while another process publishes from this home,
replaces the database, and reloads every pane (the undo history goes: it speaks of
posts that are gone).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog

from milton_desktop.engine.quiet import restore_blocker
from milton_desktop.operations import backup
from milton_desktop.storage import settings
from milton_desktop.ui.shell.data_dialogs import ExportDialog, TaskDialog

if TYPE_CHECKING:
    from milton_desktop.ui.shell.main_window import MainWindow

log = logging.getLogger("milton.ui")

#: how long a restore waits for this window's publishes in flight to end
IDLE_WAIT_MS = 60_000
_IDLE_POLL_MS = 100


def _local(when: datetime | None) -> str:
    if when is None:
        return "an unknown date"
    from milton_desktop.domain.timeutil import get_zone

    local = when.astimezone(get_zone(settings.get("timezone") or "UTC"))
    return local.strftime("%a %d %b %Y, %H:%M %Z")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _restore_text(report: backup.RestoreReport) -> str:
    """What a restore did, in the window's sentences (the times in the user's zone)."""
    rows = report.rows
    lines = [
        f"Restored the backup of {_local(report.archive.created_at)}: "
        f"{_plural(rows.get('posts', 0), 'post')}, "
        f"{_plural(rows.get('scheduled_posts', 0), 'schedule')}, "
        f"{_plural(rows.get('accounts', 0), 'account')} and "
        f"{_plural(report.media_files, 'media file')}."
    ]
    if report.previous is not None:
        lines.append(f"The database it replaced is kept as {report.previous}.")
    if report.uncertain:
        ids = ", ".join(str(i) for i in report.uncertain)
        lines.append(
            f"Being published when the backup was taken, so now uncertain: schedule {ids}. "
            "Check them on the platform, then mark them."
        )
    if report.keyring_problem:
        lines.append(f"The tokens could not be checked: {report.keyring_problem}")
    elif report.reconnect:
        lines.append(
            "Reconnect these accounts in Accounts… (this keyring has no token for them): "
            f"{', '.join(report.reconnect)}."
        )
    return "\n".join(lines)


class DataActions(QObject):
    """Owns the three actions and the dialog each opens (one at a time)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("milton-data-actions")
        self.window = window
        self.home = backup.Home.of(window.ctx.paths)
        self.dialog: TaskDialog | ExportDialog | None = None
        self._archive: Path | None = None
        self._was_paused = True

        self.backup_action = QAction("&Back up…", window)
        self.backup_action.setObjectName("backup-action")
        self.backup_action.setStatusTip(
            "Save your posts, schedules, accounts and media in one file (tokens stay in the keyring)"
        )
        self.backup_action.triggered.connect(self._on_backup_action_triggered)
        self.restore_action = QAction("&Restore…", window)
        self.restore_action.setObjectName("restore-action")
        self.restore_action.setStatusTip("Bring back everything from a backup file")
        self.restore_action.triggered.connect(self._on_restore_action_triggered)
        self.export_action = QAction("&Export…", window)
        self.export_action.setObjectName("export-action")
        self.export_action.setStatusTip("Save your schedule as CSV, JSON or a calendar (.ics)")
        self.export_action.triggered.connect(self._on_export_action_triggered)

    @property
    def actions(self) -> list[QAction]:
        return [self.backup_action, self.restore_action, self.export_action]

    # ------------------------------------------------------------ back up
    def _on_backup_action_triggered(self) -> None:
        stamp = datetime.now().strftime("%Y-%m-%d")
        suggested = str(Path.home() / f"milton-backup-{stamp}.zip")
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Back up to", suggested, "Backups (*.zip)"
        )
        if name:
            self.back_up(Path(name))

    def back_up(self, target: Path) -> TaskDialog:
        """Write a backup to ``target``, showing its progress."""
        dialog = self._task("Back up…")
        home = self.home
        dialog.start(
            "Backing up…",
            lambda progress: backup.create_backup(target, home, progress=progress),
            lambda report: f"{report.summary()[:1].upper()}{report.summary()[1:]}.",
        )
        dialog.succeeded.connect(self._on_backup_succeeded)
        return dialog

    def _on_backup_succeeded(self, _report: object) -> None:
        if isinstance(self.dialog, TaskDialog):
            self.dialog.heading.setText("Backup complete")

    # ------------------------------------------------------------ restore
    def _on_restore_action_triggered(self) -> None:
        folder = backup.auto_folder(self.home)
        name, _ = QFileDialog.getOpenFileName(
            self.window,
            "Restore from",
            str(folder if folder.is_dir() else Path.home()),
            "Backups (*.zip)",
        )
        if name:
            self.restore(Path(name))

    def restore(self, archive: Path) -> TaskDialog:
        """Check ``archive``, ask, then restore it into this home."""
        dialog = self._task("Restore…")
        dialog.start(
            "Checking the backup…",
            lambda progress: (
                backup.verify_archive(archive, progress=progress),
                backup.home_contents(),
            ),
            lambda _result: "",
        )
        dialog.succeeded.connect(self._on_restore_checked)
        self._archive = archive
        return dialog

    def _on_restore_checked(self, result: Any) -> None:
        dialog = self.dialog
        if not isinstance(dialog, TaskDialog):
            return
        dialog.succeeded.disconnect(self._on_restore_checked)
        info, (posts, accounts) = result
        rows = info.rows
        made = (
            f"This backup of {_local(info.created_at)} (Milton Desktop {info.app_version}) "
            f"holds {_plural(rows.get('posts', 0), 'post')}, "
            f"{_plural(rows.get('scheduled_posts', 0), 'schedule')} and "
            f"{_plural(rows.get('accounts', 0), 'account')}."
        )
        if posts or accounts:
            now = (
                f" Restoring it replaces what this window holds now "
                f"({_plural(posts, 'post')}, {_plural(accounts, 'account')}); the current "
                "database is kept as a copy beside the restored one."
            )
        else:
            now = " This home is empty: nothing is replaced."
        dialog.ask(
            "Restore this backup?",
            made + now + " Publishing pauses while it restores.",
            "Restore",
            self._on_restore_confirmed,
        )

    def _on_restore_confirmed(self) -> None:
        dialog = self.dialog
        if not isinstance(dialog, TaskDialog):
            return
        window = self.window
        if window.runner is None and window.external_owner:
            dialog.show_error(
                f"A background scheduler ({window.external_owner}) publishes from this home. "
                "Stop it first (milton-desktop run), then restore."
            )
            return
        runner = window.runner
        was_paused = runner.paused if runner is not None else True
        if runner is not None and not was_paused:
            runner.set_paused(True)
            window.sync_paused()
        self._was_paused = was_paused
        dialog.busy("Waiting for the posts being published…")
        self._wait_idle(self._run_restore, IDLE_WAIT_MS)

    def _wait_idle(self, then: Callable[[], None], left_ms: int) -> None:
        runner = self.window.runner
        busy = runner is not None and (
            runner.dispatcher.in_flight() or not runner.engine.flush_results(0)
        )
        if not busy:
            then()
        elif left_ms <= 0:
            self._restore_failed(
                "A post is still being published after a minute; try again when it is done.",
                resume=True,
            )
        else:
            QTimer.singleShot(
                _IDLE_POLL_MS, self, lambda: self._wait_idle(then, left_ms - _IDLE_POLL_MS)
            )

    def _run_restore(self) -> None:
        dialog = self.dialog
        if not isinstance(dialog, TaskDialog):
            return
        archive, home = self._archive, self.home
        assert archive is not None
        credentials = self.window.ctx.credentials
        data_dir = home.data_dir
        dialog.start(
            "Restoring…",
            lambda progress: backup.restore_backup(
                archive,
                home,
                credentials,
                force=True,
                quiet=lambda: restore_blocker(data_dir),
                progress=progress,
            ),
            _restore_text,
            writes=True,
            failed=lambda _exc: self._resume(),
        )
        dialog.succeeded.connect(self._on_restore_succeeded)

    def _on_restore_succeeded(self, report: backup.RestoreReport) -> None:
        if isinstance(self.dialog, TaskDialog):
            self.dialog.heading.setText("Backup restored")
        self.window.data_replaced()
        self._resume()

    def _restore_failed(self, message: str, *, resume: bool) -> None:
        if isinstance(self.dialog, TaskDialog):
            self.dialog.running = False
            self.dialog.show_error(message)
        if resume:
            self._resume()

    def _resume(self) -> None:
        runner = self.window.runner
        if runner is not None and not self._was_paused:
            runner.set_paused(False)
        self.window.sync_paused()

    # ------------------------------------------------------------ export
    def _on_export_action_triggered(self) -> None:
        self.export()

    def export(self) -> ExportDialog:
        dialog = ExportDialog(self.window)
        self._keep(dialog)
        dialog.open()
        return dialog

    # ------------------------------------------------------------ helpers
    def _task(self, title: str) -> TaskDialog:
        dialog = TaskDialog(title, self.window)
        self._keep(dialog)
        dialog.open()
        return dialog

    def _keep(self, dialog: TaskDialog | ExportDialog) -> None:
        """One of these dialogs at a time: the one before goes when the next opens."""
        previous, self.dialog = self.dialog, dialog
        if previous is not None and not previous.running:
            previous.close()
            previous.deleteLater()
