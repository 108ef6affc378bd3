"""File ▸ Import CSV… with pytest-qt on a real database: the preview marks bad rows with
their reason, nothing is written before the confirmation, the import lands in the
calendar, and Edit ▸ Undo takes the whole import away in one step."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtGui import QUndoStack

from milton_desktop.context import AppContext
from milton_desktop.domain.clock import FakeClock
from milton_desktop.paths import resolve_paths
from milton_desktop.storage.models import Post, ScheduledPost
from milton_desktop.ui.shell import import_dialog
from milton_desktop.ui.shell.import_dialog import ImportCommand, ImportDialog
from milton_desktop.ui.shell.main_window import MainWindow
from tests.operations.helpers import jpeg

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
SOON = NOW + timedelta(days=3)


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(["text", "account", "at", "media", "follow_up_1"])
        writer.writerows(rows)
    return path


@pytest.fixture
def sample(tmp_path, accounts) -> Path:
    jpeg(tmp_path / "pic.jpg")
    return write(
        tmp_path / "week.csv",
        [
            ["Monday's news", "Work LinkedIn", SOON.isoformat(), "pic.jpg", "a first comment"],
            ["Tuesday thread", "My X", (SOON + timedelta(days=1)).isoformat(), "", "2/ more"],
            ["for later", "", "", "", ""],
            ["nobody posts this", "Ghost", SOON.isoformat(), "", ""],
        ],
    )


@pytest.fixture
def dialog(qtbot, tmp_path, accounts):
    dlg = ImportDialog(QUndoStack(), tmp_path / "media", clock=FakeClock(NOW))
    qtbot.addWidget(dlg)
    return dlg


def cell(dlg: ImportDialog, row: int, col: int) -> str:
    return dlg.model.data(dlg.model.index(row, col))


def loaded(qtbot, dlg: ImportDialog, path: Path) -> None:
    dlg.load(path)
    qtbot.waitUntil(lambda: not dlg.busy and dlg.plan is not None, timeout=10_000)


def test_the_preview_shows_every_post_and_marks_the_bad_row(qtbot, dialog, sample):
    loaded(qtbot, dialog, sample)
    assert dialog.model.rowCount() == 4
    assert [cell(dialog, r, import_dialog._ROW) for r in range(4)] == ["2", "3", "4", "5"]
    assert cell(dialog, 0, import_dialog._ACCOUNT) == "Work LinkedIn · LinkedIn"
    assert cell(dialog, 0, import_dialog._COUNT) == "13/3000"
    assert cell(dialog, 0, import_dialog._PARTS) == "2 parts, 1 media"
    assert cell(dialog, 1, import_dialog._COUNT) == "14/280"
    assert cell(dialog, 2, import_dialog._ACCOUNT) == "Draft"
    assert cell(dialog, 2, import_dialog._WHEN) == "—"
    # an instant with an offset is shown in the app's zone, with the zone's name
    paris = SOON.astimezone(ZoneInfo("Europe/Paris"))
    assert cell(dialog, 0, import_dialog._WHEN) == f"{paris:%a %d %b %Y, %H:%M %Z}"
    assert cell(dialog, 3, import_dialog._STATUS) == "✕ Cannot import"
    assert cell(dialog, 3, import_dialog._DETAILS).startswith("no account named 'Ghost'")
    from PySide6.QtCore import Qt

    index = dialog.model.index(3, import_dialog._TEXT)
    assert dialog.model.data(index, Qt.ItemDataRole.BackgroundRole) is not None
    # all or nothing: one bad row and the import cannot start
    assert not dialog.import_button.isEnabled()
    assert "1 row cannot be imported" in dialog.summary.text()
    assert "3 posts to import" in dialog.summary.text()
    assert Post.select().count() == 0
    dialog.skip_check.setChecked(True)
    assert dialog.import_button.isEnabled() and dialog.import_button.text() == "Import 3 posts"


def test_confirming_imports_and_undo_removes_the_whole_import(qtbot, dialog, sample, tmp_path):
    loaded(qtbot, dialog, sample)
    dialog.skip_check.setChecked(True)
    with qtbot.waitSignal(dialog.imported, timeout=10_000) as caught:
        dialog.import_button.click()
    count, first_day = caught.args
    assert count == 3 and first_day == SOON.date()
    assert dialog.result() == ImportDialog.DialogCode.Accepted
    assert Post.select().count() == 3 and ScheduledPost.select().count() == 2
    assert len(list((tmp_path / "media").iterdir())) == 1
    stack = dialog.undo_stack
    assert stack.count() == 1 and isinstance(stack.command(0), ImportCommand)
    assert stack.undoText() == "Import of 3 posts from week.csv"
    stack.undo()
    assert Post.select().count() == 0 and ScheduledPost.select().count() == 0
    assert list((tmp_path / "media").iterdir()) == []
    stack.redo()
    assert Post.select().count() == 3 and ScheduledPost.select().count() == 2


def test_undo_is_refused_once_an_imported_post_went_out(qtbot, dialog, sample):
    loaded(qtbot, dialog, sample)
    dialog.skip_check.setChecked(True)
    said: list[str] = []
    dialog.report = said.append
    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.import_button.click()
    ScheduledPost.update(status="published").where(ScheduledPost.id == 1).execute()
    dialog.undo_stack.undo()
    assert said and "went out or were tried" in said[0]
    assert Post.select().count() == 3  # nothing was removed
    assert dialog.undo_stack.count() == 0  # the refused step is dropped, the stack stays sound


def test_a_file_that_cannot_be_read_says_why(qtbot, dialog, tmp_path, accounts):
    bad = tmp_path / "old.csv"
    bad.write_bytes("text\nCafé\n".encode("cp1252"))
    dialog.load(bad)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=10_000)
    assert "CSV UTF-8" in dialog.summary.text() and dialog.plan is None
    assert not dialog.import_button.isEnabled()


def test_a_large_file_shows_its_progress(qtbot, dialog, tmp_path, accounts):
    rows = [
        [f"post {n}", "Work LinkedIn", (SOON + timedelta(minutes=n)).isoformat(), "", ""]
        for n in range(1200)
    ]
    path = write(tmp_path / "big.csv", rows)
    dialog.load(path)
    qtbot.waitUntil(lambda: not dialog.busy and dialog.plan is not None, timeout=20_000)
    # the worker reported as it went; the bar took the counts
    assert dialog.progress.maximum() == 1200 and dialog.progress.value() == 1200
    assert not dialog.progress.isVisible()
    assert dialog.import_button.text() == "Import 1200 posts"


def test_file_menu_import_lands_in_the_calendar(qtbot, db, creds, accounts, sample):
    paths = resolve_paths().ensure()
    ctx = AppContext(paths=paths, credentials=creds, log_file=paths.log_file)
    window = MainWindow(ctx, None, QUndoStack(), clock=FakeClock(NOW))
    qtbot.addWidget(window)
    file_menu = window.menuBar().actions()[0].menu()
    assert window.import_action in file_menu.actions()
    assert window.import_action.text() == "&Import CSV…"
    window.import_action.trigger()
    dlg = window.import_dialog
    assert dlg is not None
    loaded(qtbot, dlg, sample)
    dlg.skip_check.setChecked(True)
    with qtbot.waitSignal(dlg.imported, timeout=10_000):
        dlg.import_button.click()
    ids = [s.id for s in ScheduledPost.select()]
    qtbot.waitUntil(
        lambda: all(window.calendar.model.item(i) is not None for i in ids), timeout=5000
    )
    assert window.undo_action.text() == "&Undo Import of 3 posts from week.csv"
    window.undo_action.trigger()
    assert ScheduledPost.select().count() == 0
    qtbot.waitUntil(lambda: all(window.calendar.model.item(i) is None for i in ids), timeout=5000)
