"""File ▸ Import CSV…: a spreadsheet of posts, checked and shown before anything is written.

The file is read and every row checked on a worker (``operations.csv_import``), with a
progress bar for a large file; the preview lists one row per post, its account, local
time, text and the platform's counter, and marks each row that cannot be imported
with the reason. Nothing is written until the user confirms; the import is then one
step on the undo stack, so Edit ▸ Undo removes every post it made.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QPalette, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations import csv_import, queue
from milton_desktop.publishers import registry
from milton_desktop.storage import settings
from milton_desktop.ui import tones
from milton_desktop.ui.calendar.undo import Report, StoreCommand
from milton_desktop.ui.tasks import run_in_background
from milton_desktop.ui.wording import with_hint

log = logging.getLogger("milton.ui.import")

#: the preview's columns: (title, what it shows)
COLUMNS = ("Row", "Status", "Account", "When", "Text", "Count", "Parts", "Details")
_ROW, _STATUS, _ACCOUNT, _WHEN, _TEXT, _COUNT, _PARTS, _DETAILS = range(len(COLUMNS))


class ImportCommand(StoreCommand):
    """An import as one undo step: undo removes every post it made (refused once one
    of them has gone out or been tried); redo imports the same rows again."""

    def __init__(
        self,
        plan: csv_import.ImportPlan,
        result: csv_import.ImportResult,
        media_dir: Path,
        *,
        skip_invalid: bool,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        count = result.count
        super().__init__(
            f"Import of {count} post{'s' if count != 1 else ''} from {plan.path.name}",
            clock=clock,
            report=report,
        )
        self.plan = plan
        self.result = result
        self.media_dir = media_dir
        self.skip_invalid = skip_invalid
        # it was done on the writer thread before it was pushed
        self._skip_next_redo = True

    def apply(self) -> None:
        self.result = csv_import.commit_import(
            self.plan, media_dir=self.media_dir, skip_invalid=self.skip_invalid, clock=self.clock
        )
        if not self.result.post_ids:
            raise UserError("its rows are all in the calendar already")

    def revert(self) -> None:
        csv_import.remove_imported(self.result.post_ids, clock=self.clock)


class PreviewModel(QAbstractTableModel):
    """The plan's rows as a table (a plain adapter: the plan holds everything)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[csv_import.PlannedRow] = []
        self._colours: dict[str, Any] = {}

    def set_plan(self, plan: csv_import.ImportPlan | None, palette: QPalette) -> None:
        self.beginResetModel()
        self.rows = list(plan.rows) if plan is not None else []
        base = QPalette.ColorRole.Base
        error = tones.tone(palette, "error", base)
        # a wash of the error colour behind a bad row, light enough for its words to read
        fill = tones.mix(palette.color(base), error, 0.12)
        alternate = tones.mix(palette.color(QPalette.ColorRole.AlternateBase), error, 0.12)
        self._colours = {
            "error": tones.readable(error, fill, alternate),
            "warning": tones.tone(palette, "warning", base),
            "ok": tones.tone(palette, "ok", base),
            "dim": tones.dim(palette, base),
            "error_fill": fill,
        }
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(row, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == _TEXT:
                return row.text
            if col in (_DETAILS, _STATUS):
                return _details(row) or None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col in (_STATUS, _DETAILS):
                return self._colours.get(_tone(row))
            if col == _ROW:
                return self._colours.get("dim")
            if col == _COUNT and _over(row.counter):
                return self._colours.get("error")
        if role == Qt.ItemDataRole.BackgroundRole and row.problems:
            return self._colours.get("error_fill")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (_ROW, _COUNT):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _over(counter: str) -> bool:
    """Whether a "count/limit" counter is over its limit."""
    count, _, limit = counter.partition("/")
    return count.isdigit() and limit.isdigit() and int(count) > int(limit)


def _tone(row: csv_import.PlannedRow) -> str:
    if row.problems:
        return "error"
    if row.duplicate_of is not None or row.notes:
        return "warning"
    return "ok"


def _status(row: csv_import.PlannedRow) -> str:
    if row.problems:
        return "✕ Cannot import"
    if row.duplicate_of is not None:
        return "= Duplicate"
    return "✓ Draft" if row.is_draft else "✓ Ready"


def _details(row: csv_import.PlannedRow) -> str:
    if row.problems:
        return "; ".join(row.problems)
    if row.duplicate_of is not None:
        return f"Left out: the same as {row.duplicate_of}"
    notes = list(row.notes)
    if row.queued:
        notes.insert(0, "Next free queue slot")
    if row.repeat:
        notes.append(f"Repeats: {row.repeat}")
    return "; ".join(notes)


def _cell(row: csv_import.PlannedRow, col: int) -> str:
    if col == _ROW:
        return str(row.row)
    if col == _STATUS:
        return _status(row)
    if col == _ACCOUNT:
        if not row.account:
            return "Draft"
        label = registry.label(row.platform) if row.platform else ""
        return f"{row.account} · {label}" if label else row.account
    if col == _WHEN:
        local = row.local_time()
        return f"{local:%a %d %b %Y, %H:%M %Z}" if local is not None else "—"
    if col == _TEXT:
        one = " ".join(row.text.split()) or "(media only)"
        return one if len(one) <= 90 else one[:89] + "…"
    if col == _COUNT:
        return row.counter
    if col == _PARTS:
        extra = []
        if row.follow_ups:
            extra.append(f"{1 + len(row.follow_ups)} parts")
        if row.media:
            extra.append(f"{len(row.media)} media")
        return ", ".join(extra)
    return _details(row)


class _Progress(QObject):
    """Carries a worker's "rows checked so far" to the GUI thread."""

    #: rows checked, rows in the file
    advanced = Signal(int, int)


class ImportDialog(QDialog):
    """Choose a CSV file, look at what it would create, import it (or not)."""

    #: the import was made: how many posts, and the day of the first scheduled one
    #: (None when it made only drafts)
    imported = Signal(int, object)

    def __init__(
        self,
        undo_stack: QUndoStack,
        media_dir: Path,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        report: Report | None = None,
    ) -> None:
        """``report`` is told why a later undo or redo of the import was refused."""
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.report = report
        self.media_dir = media_dir
        self.clock = clock or SystemClock()
        self.plan: csv_import.ImportPlan | None = None
        self.path: Path | None = None
        self._generation = 0
        self.busy = False
        self.setObjectName("import-dialog")
        self.setWindowTitle("Import posts from a CSV file")
        self.resize(980, 600)

        intro = QLabel(
            "One post per row. The first row names the columns, in any order: "
            "<b>text</b>, account (empty for a draft), at, tz, media, media_url, alt_text, "
            "voice, repeat, follow_up_1, follow_up_2… A row with an account and no time "
            "takes the account's next free queue slot. Nothing is written until you import."
        )
        intro.setWordWrap(True)
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setObjectName("import-intro")

        self.file_edit = QLineEdit()
        self.file_edit.setReadOnly(True)
        self.file_edit.setPlaceholderText("No file chosen")
        self.file_edit.setObjectName("import-file")
        self.choose_button = QPushButton("Choose file…")
        self.choose_button.setObjectName("import-choose")
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(QLabel("File:"))
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(self.choose_button)

        self.zone_combo = QComboBox()
        self.zone_combo.setObjectName("import-zone")
        self.zone_combo.setEditable(True)
        self.zone_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zone_combo.addItem(f"The app's zone ({queue.app_zone()})", None)
        for name in sorted(zoneinfo.available_timezones()):
            self.zone_combo.addItem(name, name)
        completer = self.zone_combo.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.zone_combo.setToolTip(
            "The zone of times written without an offset, in rows without a tz of their own"
        )
        self.zone_combo.setMinimumContentsLength(24)
        self.zone_combo.activated.connect(self._on_option_changed)
        self.skip_check = QCheckBox("Import the valid rows and skip the others")
        self.skip_check.setObjectName("import-skip-invalid")
        self.skip_check.toggled.connect(self._update_summary)
        self.duplicates_check = QCheckBox("Also import duplicates")
        self.duplicates_check.setObjectName("import-allow-duplicates")
        self.duplicates_check.setToolTip(
            "Rows identical to a post already there (same text, account and time; or a "
            "draft with the same text and media), or to an earlier row, are left out unless "
            "this is ticked"
        )
        self.duplicates_check.toggled.connect(self._on_option_changed)
        options = QHBoxLayout()
        options.addWidget(QLabel("Local times in:"))
        options.addWidget(self.zone_combo)
        options.addSpacing(16)
        options.addWidget(self.skip_check)
        options.addSpacing(16)
        options.addWidget(self.duplicates_check)
        options.addStretch(1)

        self.progress = QProgressBar()
        self.progress.setObjectName("import-progress")
        self.progress.setTextVisible(True)
        self.progress.setFormat("Checking row %v of %m…")
        self.progress.hide()

        self.summary = QLabel("Choose a CSV file to see what it would create.")
        self.summary.setObjectName("import-summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)

        self.model = PreviewModel(self)
        self.table = QTableView()
        self.table.setObjectName("import-preview")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        widths = {_ROW: 44, _STATUS: 118, _ACCOUNT: 176, _WHEN: 188, _TEXT: 226, _COUNT: 74}
        for col, width in widths.items():
            header.resizeSection(col, width)
        header.resizeSection(_PARTS, 124)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(_TEXT, QHeaderView.ResizeMode.Interactive)

        self.table.selectionModel().currentRowChanged.connect(self._on_table_current_row_changed)
        # the whole reason of the row in focus: a cell shows only its start
        self.details = QLabel()
        self.details.setObjectName("import-details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setMinimumHeight(self.fontMetrics().height() * 2 + 4)
        self.details.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.import_button.setObjectName("import-confirm")
        self.import_button.setEnabled(False)
        self.import_button.setDefault(True)
        self.buttons.accepted.connect(self._on_buttons_accepted)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(intro)
        layout.addLayout(file_row)
        layout.addLayout(options)
        layout.addWidget(self.summary)
        layout.addWidget(self.progress)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.details)
        layout.addWidget(self.buttons)

    # ------------------------------------------------------------ planning
    def load(self, path: Path | str) -> None:
        """Read and check ``path`` on a worker; the preview follows (see :attr:`busy`)."""
        self.path = Path(path)
        self.file_edit.setText(str(self.path))
        self._plan()

    def zone(self) -> str | None:
        """The zone chosen for local times (None: the app's)."""
        text = self.zone_combo.currentText().strip()
        found = self.zone_combo.findText(text)
        if found >= 0:
            return self.zone_combo.itemData(found)
        return text if text in zoneinfo.available_timezones() else None

    def _plan(self) -> None:
        if self.path is None:
            return
        self._generation += 1
        generation = self._generation
        self.busy = True
        self.plan = None
        self.model.set_plan(None, self.palette())
        self.details.clear()
        self.import_button.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the first rows are counted
        self.progress.show()
        self.summary.setText("Reading the file…")
        relay = _Progress(self)
        relay.advanced.connect(self._on_progress_advanced)
        path, zone, duplicates = self.path, self.zone(), self.duplicates_check.isChecked()
        clock = self.clock

        def report(done: int, total: int) -> None:
            try:
                relay.advanced.emit(done, total)
            except RuntimeError:  # the dialog is gone: nobody to tell
                pass

        run_in_background(
            lambda: csv_import.plan_import(
                path, tz=zone, allow_duplicates=duplicates, clock=clock, progress=report
            ),
            parent=self,
            on_success=lambda plan: self._on_planned(generation, plan),
            on_failure=lambda exc: self._on_plan_failed(generation, exc),
        )

    def _on_progress_advanced(self, done: int, total: int) -> None:
        if self.busy:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_planned(self, generation: int, plan: csv_import.ImportPlan) -> None:
        if generation != self._generation:
            return  # an option changed meanwhile: a newer plan follows
        self.busy = False
        self.progress.hide()
        self.plan = plan
        self.model.set_plan(plan, self.palette())
        # the first row that cannot be imported is where the user looks
        first_bad = next((i for i, r in enumerate(plan.rows) if r.problems), 0)
        if plan.rows:
            self.table.setCurrentIndex(self.model.index(first_bad, 0))
            self.table.scrollTo(self.model.index(first_bad, 0))
        self._update_summary()

    def _on_plan_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self.busy = False
        self.progress.hide()
        self.plan = None
        self.import_button.setEnabled(False)
        if isinstance(exc, UserError):
            self._say(with_hint(str(exc), exc.hint), "error")
        else:
            log.error("reading %s failed: %r", self.path, exc)
            self._say(f"The file could not be read ({type(exc).__name__}: {exc}).", "error")

    def _say(self, text: str, meaning: str | None = None) -> None:
        from html import escape

        if meaning is None:
            self.summary.setText(text)
            return
        colour = tones.tone(self.palette(), meaning).name()
        self.summary.setText(f"<span style='color: {colour}'>{escape(text)}</span>")

    def _update_summary(self) -> None:
        plan = self.plan
        if plan is None:
            return
        ready, bad, dups = plan.ready, plan.invalid, plan.duplicates
        drafts = sum(1 for r in ready if r.is_draft)
        parts = [
            f"<b>{len(ready)} post{'s' if len(ready) != 1 else ''} to import</b> "
            f"({len(ready) - drafts} scheduled, {drafts} draft{'s' if drafts != 1 else ''})"
        ]
        if dups:
            parts.append(f"{len(dups)} duplicate{'s' if len(dups) != 1 else ''} left out")
        if bad:
            colour = tones.tone(self.palette(), "error").name()
            parts.append(
                f"<span style='color: {colour}'><b>{len(bad)} row{'s' if len(bad) != 1 else ''}"
                " cannot be imported</b></span>"
            )
        text = " · ".join(parts)
        blocked = bool(bad) and not self.skip_check.isChecked()
        if blocked:
            text += (
                "<br>Fix them in the file and choose it again, or tick “Import the valid rows "
                "and skip the others”."
            )
        elif not ready and dups:
            text += "<br>Everything in this file is in the calendar already."
        self.summary.setText(text)
        can = bool(ready) and not blocked
        self.import_button.setEnabled(can)
        self.import_button.setText(
            f"Import {len(ready)} post{'s' if len(ready) != 1 else ''}" if ready else "Import"
        )

    # ------------------------------------------------------------ importing
    def _on_buttons_accepted(self) -> None:
        plan = self.plan
        if plan is None or self.busy or not self.import_button.isEnabled():
            return
        self.busy = True
        self.import_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Importing…")
        self.progress.show()
        skip, media_dir, clock = self.skip_check.isChecked(), self.media_dir, self.clock
        run_in_background(
            lambda: csv_import.commit_import(
                plan, media_dir=media_dir, skip_invalid=skip, clock=clock
            ),
            parent=self,
            writes=True,
            on_success=lambda result: self._on_committed(plan, skip, result),
            on_failure=self._on_commit_failed,
        )

    def _on_committed(
        self, plan: csv_import.ImportPlan, skip: bool, result: csv_import.ImportResult
    ) -> None:
        self.busy = False
        self.progress.hide()
        self.progress.setFormat("Checking row %v of %m…")
        if result.post_ids:
            command = ImportCommand(
                plan,
                result,
                self.media_dir,
                skip_invalid=skip,
                clock=self.clock,
                report=self.report,
            )
            self.undo_stack.push(command)
        times = [r.at for r in plan.ready if r.at is not None]
        # the calendar's day, in the zone it shows
        zone = get_zone(settings.get("timezone") or "UTC")
        first: date | None = min(times).astimezone(zone).date() if times else None
        self.imported.emit(result.count, first)
        self.accept()

    def _on_commit_failed(self, exc: Exception) -> None:
        self.busy = False
        self.progress.hide()
        self.progress.setFormat("Checking row %v of %m…")
        if isinstance(exc, csv_import.ImportRefused):
            # something changed since the preview (an account removed, a slot taken)
            self._say(
                "Nothing was imported: since the preview, "
                + "; ".join(exc.lines[:3])
                + ". The preview has been brought up to date.",
                "error",
            )
            self._plan()
            return
        if isinstance(exc, UserError):
            self._say(f"Nothing was imported: {with_hint(str(exc), exc.hint)}", "error")
        else:
            log.error("importing %s failed: %r", self.path, exc)
            self._say(f"Nothing was imported: {exc}", "error")
        self._update_summary_button_only()

    def _update_summary_button_only(self) -> None:
        plan = self.plan
        self.import_button.setEnabled(
            plan is not None
            and bool(plan.ready)
            and (not plan.invalid or self.skip_check.isChecked())
        )

    # ------------------------------------------------------------ slots
    def _on_choose_button_clicked(self) -> None:
        start = str(self.path.parent) if self.path else str(Path.home())
        name, _filter = QFileDialog.getOpenFileName(
            self, "Import posts from a CSV file", start, "CSV files (*.csv *.txt);;All files (*)"
        )
        if name:
            self.load(name)

    def _on_table_current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid() or current.row() >= len(self.model.rows):
            self.details.clear()
            return
        row = self.model.rows[current.row()]
        said = _details(row)
        if not said:
            self.details.setText(f"Row {row.row}: ready to import.")
            return
        from html import escape

        colour = self.model.data(current.siblingAtColumn(_DETAILS), Qt.ItemDataRole.ForegroundRole)
        style = f" style='color: {colour.name()}'" if colour is not None else ""
        self.details.setText(f"<b>Row {row.row}:</b> <span{style}>{escape(said)}</span>")

    def _on_option_changed(self, *_args: object) -> None:
        self._plan()
