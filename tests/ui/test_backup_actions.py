"""File ▸ Back up…, Restore… and Export…, and Settings ▸ Backups, driven with qtbot on a
real database: the work runs on a worker, the dialogs show progress and the result,
a restore asks first, pauses publishing and reloads the window."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path

import pytest
from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.engine.machine import Engine
from milton_desktop.engine.runner import Runner
from milton_desktop.operations import backup, posts
from milton_desktop.paths import resolve_paths
from milton_desktop.storage import queries, settings
from milton_desktop.ui.shell.data_dialogs import ExportDialog, TaskDialog
from milton_desktop.ui.shell.main_window import MainWindow
from milton_desktop.ui.shell.settings_dialog import SettingsDialog

SHOTS = os.environ.get("MILTON_SHOTS")  # a folder: the dialogs are saved there as PNG


def _shot(widget, name: str) -> None:
    if SHOTS:
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


@pytest.fixture
def window(qtbot, db, creds, make_schedule, later):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    clock = FakeClock(later)
    runner = Runner(Engine(creds, clock=clock), clock=clock)  # never started
    make_schedule("Launch day", later)
    make_schedule("Second post", later, platform="x")
    posts.add_post("a draft for later")
    w = MainWindow(ctx, runner, QUndoStack(), clock=clock)
    w.resize(1100, 720)
    qtbot.addWidget(w)
    yield w
    runner.stop(1)


def _wait_done(qtbot, dialog: TaskDialog | ExportDialog, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: not dialog.running, timeout=timeout)


def test_the_file_menu_has_the_three_actions(window):
    menu = window.menuBar().actions()[0].menu()
    texts = [a.text() for a in menu.actions()]
    for text in ("&Back up…", "&Restore…", "&Export…"):
        assert text in texts
    assert texts.index("&Back up…") < texts.index("&Quit")


def test_back_up_shows_progress_and_the_result(qtbot, window, tmp_path):
    target = tmp_path / "mine.zip"
    dialog = window.data_actions.back_up(target)
    assert dialog.isVisible() and not dialog.close_button.isEnabled()
    _wait_done(qtbot, dialog)
    assert dialog.error is None, dialog.error
    assert dialog.heading.text() == "Backup complete"
    assert str(target) in dialog.detail.text().replace("\u200b", "")
    assert dialog.bar.value() == dialog.bar.maximum()
    assert dialog.close_button.isEnabled()
    assert zipfile.is_zipfile(target)
    _shot(dialog, "backup-done")


def test_a_backup_that_cannot_be_written_says_why(qtbot, window, tmp_path):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    dialog = window.data_actions.back_up(folder)
    _wait_done(qtbot, dialog)
    assert "is a folder" in (dialog.error or "")
    assert not dialog.bar.isVisible()


def test_restore_asks_then_replaces_and_reloads(qtbot, window, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, window.data_actions.home)
    posts.add_post("written after the backup")
    window.undo_stack.push(__import__("PySide6.QtGui", fromlist=["QUndoCommand"]).QUndoCommand("x"))
    runner = window.runner
    dialog = window.data_actions.restore(archive)
    qtbot.waitUntil(lambda: dialog.yes_button.isVisible(), timeout=20000)
    text = dialog.detail.text().replace("\u200b", "")
    assert "holds 3 posts, 2 schedules and 3 accounts" in text
    assert "replaces what this window holds now (4 posts, 3 accounts)" in text
    assert "Publishing pauses" in text
    _shot(dialog, "restore-confirm")
    paused = []
    runner.dispatcher.paused = False
    original = runner.set_paused

    def spy(value):
        paused.append(value)
        original(value)

    runner.set_paused = spy
    dialog.yes_button.click()
    _wait_done(qtbot, dialog)
    assert dialog.error is None, dialog.error
    assert dialog.heading.text() == "Backup restored"
    assert "kept as" in dialog.detail.text().replace("\u200b", "")
    assert paused == [True, False]  # paused while it restored, then back as it was
    assert len(queries.draft_rows()) == 1  # the post written after the backup is gone
    assert window.undo_stack.count() == 0  # its commands spoke of the old database
    _shot(dialog, "restore-done")


def test_restore_refuses_a_tampered_archive_and_changes_nothing(qtbot, window, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, window.data_actions.home)
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(bad, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data[:-1] + b"!" if info.filename == "milton.sqlite3" else data)
    before = window.ctx.paths.db_path.read_bytes()
    dialog = window.data_actions.restore(bad)
    _wait_done(qtbot, dialog)
    assert "does not match its checksum" in (dialog.error or "")
    assert "does not match its checksum" in dialog.detail.text().replace("\u200b", "")
    assert not dialog.yes_button.isVisible()
    assert window.ctx.paths.db_path.read_bytes() == before
    _shot(dialog, "restore-refused")


def test_restore_is_refused_while_a_background_scheduler_publishes(qtbot, window, tmp_path):
    archive = tmp_path / "b.zip"
    backup.create_backup(archive, window.data_actions.home)
    window.set_runner(None, "pid 4242 on this computer")
    dialog = window.data_actions.restore(archive)
    qtbot.waitUntil(lambda: dialog.yes_button.isVisible(), timeout=20000)
    dialog.yes_button.click()
    assert "background scheduler (pid 4242" in (dialog.error or "")


def test_export_dialog_writes_the_file_with_progress(qtbot, window, tmp_path):
    dialog = window.data_actions.export()
    assert isinstance(dialog, ExportDialog)
    assert dialog.chosen_format() == "csv"
    assert dialog.which_combo.currentData() == "pending"
    _shot(dialog, "export")
    out = tmp_path / "posts.csv"
    dialog.path_edit.setText(str(out))
    assert dialog.start_export()
    _wait_done(qtbot, dialog)
    assert "exported 2 scheduled posts" in dialog.status.text().replace("\u200b", "").lower()
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {r["text"] for r in rows} == {"Launch day", "Second post"}
    dialog.format_combo.setCurrentIndex(2)  # .ics
    assert dialog.path_edit.text().endswith("posts.ics")
    _shot(dialog, "export-done")


def test_export_dialog_says_what_is_wrong(qtbot, window):
    dialog = window.data_actions.export()
    dialog.path_edit.setText("")
    assert not dialog.start_export()
    assert "Choose where to save" in dialog.status.text().replace("\u200b", "")
    dialog.path_edit.setText("/no/such/folder/x.csv")
    assert dialog.start_export()
    _wait_done(qtbot, dialog)
    assert "does not exist" in dialog.status.text().replace("\u200b", "")
    dialog.range_check.setChecked(True)
    dialog.to_edit.setDate(dialog.from_edit.date().addDays(-2))
    assert not dialog.start_export()
    assert "ends before it starts" in dialog.status.text().replace("\u200b", "")


def test_settings_backups_group_saves_and_backs_up_now(qtbot, db, tmp_path):
    home = backup.Home.of(resolve_paths().ensure())
    dialog = SettingsDialog(home=home)
    qtbot.addWidget(dialog)
    group = dialog.backup_group
    assert group.auto_check.isChecked() and group.keep_spin.value() == 14
    assert group.folder_edit.placeholderText() == str(home.data_dir / "backups")
    assert "No automatic backup yet" in group.state_label.text()
    _shot(dialog, "settings")
    chosen = tmp_path / "elsewhere"
    group.folder_edit.setText(str(chosen))
    group.keep_spin.setValue(3)
    assert group.back_up_now()
    qtbot.waitUntil(lambda: not group.working, timeout=20000)
    assert "Last backup" in group.state_label.text() and "1 kept" in group.state_label.text()
    assert len(backup.automatic_backups(chosen)) == 1
    assert settings.get("auto_backup_keep") == 3
    group.auto_check.setChecked(False)
    group.folder_edit.setText("not/absolute")
    assert not dialog.save()
    assert "not a full path" in dialog.error_label.text()
    group.folder_edit.setText("")
    assert dialog.save()
    assert settings.get("auto_backup") is False and settings.get("auto_backup_folder") == ""
