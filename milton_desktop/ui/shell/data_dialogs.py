"""The dialogs of File ▸ Back up…, Restore… and Export…: a task with its progress,
and the export's choices. The work runs on a worker (``ui.tasks``); these only show it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.exporting import DRAFT, ExportFilter, parse_filter
from milton_desktop.domain.status import Status
from milton_desktop.operations import export
from milton_desktop.storage import settings
from milton_desktop.ui import tones
from milton_desktop.ui.tasks import run_in_background

log = logging.getLogger("milton.ui")


def fit(dialog: QDialog) -> None:
    """Grow ``dialog`` to the text it shows now (a wrapped label asks for more height)."""
    layout = dialog.layout()
    if layout is not None:
        layout.activate()
    dialog.resize(dialog.width(), max(dialog.height(), dialog.sizeHint().height()))


class ProgressRelay(QObject):
    """Carries a worker's progress to the GUI thread (a queued signal)."""

    #: done, total, what (bytes or rows so far, of how many, and the step)
    changed = Signal(object, object, str)

    def report(self, done: int, total: int, what: str = "") -> None:
        """Called on the worker: a closed dialog no longer hears it."""
        if shiboken6.isValid(self):
            try:
                self.changed.emit(done, total, what)
            except RuntimeError:
                pass


def breakable(text: str) -> str:
    """``text`` with break chances after each path separator: a long path wraps in a
    label instead of being cut off at its edge."""
    return text.replace("/", "/\u200b").replace("\\", "\\\u200b")


def _heading(text: str = "") -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.15)
    font.setBold(True)
    label.setFont(font)
    return label


def _dim(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class TaskDialog(QDialog):
    """One long task: a heading, a line of detail, a progress bar, and its result.

    It can also ask first (:meth:`ask`): the task then starts on the user's yes.

    Signals:
        succeeded: the task's result, once it has shown it.
    """

    succeeded = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("taskDialog")
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.heading = _heading()
        self.heading.setObjectName("taskHeading")
        self.detail = _dim()
        self.detail.setObjectName("taskDetail")
        self.bar = QProgressBar()
        self.bar.setObjectName("taskProgress")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        layout.addWidget(self.heading)
        layout.addWidget(self.detail)
        layout.addWidget(self.bar)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox()
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.clicked.connect(self.reject)
        self.yes_button = self.buttons.addButton("Go ahead", QDialogButtonBox.ButtonRole.AcceptRole)
        self.yes_button.setObjectName("taskConfirm")
        self.yes_button.clicked.connect(self._on_yes_button_clicked)
        self.yes_button.hide()
        layout.addWidget(self.buttons)
        self.relay = ProgressRelay(self)
        self.relay.changed.connect(self._on_relay_changed)
        self.running = False
        self.error: str | None = None
        self._on_yes: Callable[[], None] | None = None

    # ------------------------------------------------------------ states
    def start(
        self,
        heading: str,
        fn: Callable[[Callable[[int, int, str], None]], Any],
        done: Callable[[Any], str],
        *,
        writes: bool = False,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``fn(progress)`` on a worker; show ``done(result)`` when it returns."""
        self.running = True
        self.error = None
        self.heading.setText(heading)
        self.detail.setText("")
        self._set_tone(None)
        self.bar.show()
        self.bar.setRange(0, 0)  # busy until the first figure arrives
        self.yes_button.hide()
        self.close_button.setEnabled(False)
        relay = self.relay

        def on_success(result: Any) -> None:
            self.running = False
            self.bar.setRange(0, 1000)
            self.bar.setValue(1000)
            self.detail.setText(breakable(done(result)))
            self._fit()
            self.close_button.setEnabled(True)
            self.close_button.setFocus()
            self.succeeded.emit(result)

        def on_failure(exc: Exception) -> None:
            self.running = False
            if not isinstance(exc, UserError):
                log.error("%s failed: %s", self.windowTitle(), exc, exc_info=exc)
            self.show_error(_message(exc))
            if failed is not None:
                failed(exc)

        run_in_background(
            lambda: fn(relay.report),
            parent=self,
            on_success=on_success,
            on_failure=on_failure,
            writes=writes,
            until_finished=False,
        )

    def busy(self, heading: str) -> None:
        """A wait without figures (the close button waits too)."""
        self.running = True
        self.heading.setText(heading)
        self.detail.setText("")
        self.bar.show()
        self.bar.setRange(0, 0)
        self.yes_button.hide()
        self.close_button.setEnabled(False)

    def ask(self, heading: str, text: str, yes: str, on_yes: Callable[[], None]) -> None:
        """Show a question; ``on_yes`` runs when the user confirms."""
        self.heading.setText(heading)
        self.detail.setText(text)
        self._set_tone(None)
        self.bar.hide()
        self.detail.setText(breakable(text))
        self.yes_button.setText(yes)
        self.yes_button.show()
        self.yes_button.setDefault(True)
        self.close_button.setText("Cancel")
        self.close_button.setEnabled(True)
        self._on_yes = on_yes
        self._fit()

    def show_error(self, message: str) -> None:
        self.error = message
        self.heading.setText(f"{self.windowTitle().rstrip('…')} did not complete")
        self.detail.setText(breakable(message))
        self._set_tone("error")
        self.bar.hide()
        self.yes_button.hide()
        self.close_button.setText("Close")
        self.close_button.setEnabled(True)
        self._fit()

    def finish(self, heading: str, text: str) -> None:
        self.heading.setText(heading)
        self.detail.setText(text)
        self.close_button.setText("Close")
        self.close_button.setEnabled(True)

    def _fit(self) -> None:
        """Grow to the text now shown (a wrapped label asks for more height)."""
        fit(self)

    def _set_tone(self, tone: str | None) -> None:
        colour = tones.tone(self.palette(), tone).name() if tone else None
        self.detail.setStyleSheet(f"color: {colour};" if colour else "")

    # ------------------------------------------------------------ slots
    def _on_relay_changed(self, done: int, total: int, what: str) -> None:
        if total <= 0:
            return
        self.bar.setRange(0, 1000)
        self.bar.setValue(int(done * 1000 // total))
        if what:
            self.detail.setText(f"{what[:1].upper()}{what[1:]}… {done * 100 // total} %")

    def _on_yes_button_clicked(self) -> None:
        self.close_button.setText("Close")
        on_yes, self._on_yes = self._on_yes, None
        if on_yes is not None:
            on_yes()

    def reject(self) -> None:
        if self.running:
            return  # the task goes on: its result must be seen
        super().reject()


def _message(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ---------------------------------------------------------------- export

#: (label, --format)
_FORMATS = (
    ("CSV spreadsheet: the import columns, to import elsewhere", "csv"),
    ("JSON: every post, schedule, media and result", "json"),
    ("iCalendar (.ics): one event per schedule, for a calendar app", "ics"),
)
#: (label, --status)
_WHICH = (
    ("Everything (schedules and drafts)", None),
    ("Waiting to go out (pending)", Status.PENDING.value),
    ("Published", Status.PUBLISHED.value),
    ("Needing attention: failed", Status.FAILED.value),
    ("Needing attention: uncertain", Status.UNCERTAIN.value),
    ("Needing attention: missed", Status.MISSED.value),
    ("Cancelled", Status.CANCELLED.value),
    ("Drafts only", DRAFT),
)


class ExportDialog(QDialog):
    """Choose what to export and where; the export runs on a worker with a progress bar.

    Signals:
        exported: the :class:`ExportReport` of a finished export.
    """

    exported = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle("Export")
        self.setMinimumWidth(600)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("Export your posts"))
        intro = _dim(
            "A CSV file can be imported into Milton on another computer: its media are "
            "copied into a folder beside it. JSON keeps everything, with each publish "
            "attempt. A calendar app can subscribe to the .ics file."
        )
        layout.addWidget(intro)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormat")
        for label, value in _FORMATS:
            self.format_combo.addItem(label, value)
        self.format_combo.currentIndexChanged.connect(self._on_format_combo_changed)
        form.addRow("Format:", self.format_combo)
        self.which_combo = QComboBox()
        self.which_combo.setObjectName("exportWhich")
        for which, status in _WHICH:
            self.which_combo.addItem(which, status)
        self.which_combo.setCurrentIndex(1)  # pending: what imports again elsewhere
        form.addRow("Posts:", self.which_combo)

        self.range_check = QCheckBox("Only from")
        self.range_check.setObjectName("exportRange")
        today = QDate.currentDate()
        self.from_edit = QDateEdit(today)
        self.to_edit = QDateEdit(today.addMonths(1))
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
        self.range_check.toggled.connect(self.from_edit.setEnabled)
        self.range_check.toggled.connect(self.to_edit.setEnabled)
        span = QHBoxLayout()
        span.addWidget(self.range_check)
        span.addWidget(self.from_edit)
        span.addWidget(QLabel("to"))
        span.addWidget(self.to_edit)
        span.addStretch(1)
        form.addRow("Dates:", span)

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPath")
        self.path_edit.setPlaceholderText("Where to save the file")
        choose = QPushButton("Choose…")
        choose.clicked.connect(self._on_choose_clicked)
        where = QHBoxLayout()
        where.addWidget(self.path_edit, 1)
        where.addWidget(choose)
        form.addRow("Save as:", where)
        layout.addLayout(form)

        self.status = _dim()
        self.status.setObjectName("exportStatus")
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.hide()
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.relay = ProgressRelay(self)
        self.relay.changed.connect(self._on_relay_changed)
        self.running = False
        self.report: export.ExportReport | None = None
        self._suggest_path()

    def chosen_format(self) -> str:
        return str(self.format_combo.currentData())

    def chosen_filter(self) -> ExportFilter:
        start = end = None
        if self.range_check.isChecked():
            start = self.from_edit.date().toString("yyyy-MM-dd")
            end = self.to_edit.date().toString("yyyy-MM-dd")
        return parse_filter(
            self.which_combo.currentData(), start, end, settings.get("timezone") or "UTC"
        )

    def _suggest_path(self) -> None:
        current = self.path_edit.text().strip()
        ext = self.chosen_format()
        if current:
            self.path_edit.setText(str(Path(current).with_suffix(f".{ext}")))
            return
        folder = Path.home() / "Documents"
        folder = folder if folder.is_dir() else Path.home()
        stamp = datetime.now().strftime("%Y-%m-%d")
        self.path_edit.setText(str(folder / f"milton-posts-{stamp}.{ext}"))

    def _on_format_combo_changed(self, _index: int) -> None:
        self._suggest_path()

    def _on_choose_clicked(self) -> None:
        ext = self.chosen_format()
        name, _ = QFileDialog.getSaveFileName(
            self, "Export to", self.path_edit.text(), f"{ext.upper()} files (*.{ext})"
        )
        if name:
            self.path_edit.setText(name)

    def _say(self, text: str, tone: str | None = None) -> None:
        colour = tones.tone(self.palette(), tone).name() if tone else None
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self.status.setText(breakable(text))
        fit(self)

    def _on_export_button_clicked(self) -> None:
        self.start_export()

    def start_export(self) -> bool:
        """Check the choices and start the export; False (with the reason shown) if not."""
        if self.running:
            return False
        text = self.path_edit.text().strip()
        if not text:
            self._say("Choose where to save the file.", "error")
            return False
        try:
            flt = self.chosen_filter()
        except UserError as exc:
            self._say(_message(exc), "error")
            return False
        fmt, out, relay = self.chosen_format(), Path(text).expanduser(), self.relay
        self.running = True
        self.export_button.setEnabled(False)
        self.bar.show()
        self.bar.setRange(0, 0)
        self._say("Exporting…")

        def work() -> export.ExportReport:
            return export.export(
                fmt, flt, out=out, progress=lambda d, t: relay.report(d, t, "exporting")
            )

        run_in_background(
            work,
            parent=self,
            on_success=self._on_export_done,
            on_failure=self._on_export_failed,
            until_finished=False,
        )
        return True

    def _on_relay_changed(self, done: int, total: int, _what: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
            self._say(f"Exporting… {done} of {total}")

    def _on_export_done(self, report: export.ExportReport) -> None:
        self.running = False
        self.report = report
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        notes = "".join(f"\n{w[:1].upper()}{w[1:]}." for w in report.warnings)
        self._say(f"{report.summary()[:1].upper()}{report.summary()[1:]}.{notes}", "ok")
        self.export_button.setEnabled(True)
        self.export_button.setText("Export again")
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        if cancel is not None:
            cancel.setText("Close")
        self.exported.emit(report)

    def _on_export_failed(self, exc: Exception) -> None:
        self.running = False
        self.bar.hide()
        self.export_button.setEnabled(True)
        if not isinstance(exc, UserError):
            log.error("export failed: %s", exc, exc_info=exc)
        self._say(_message(exc), "error")

    def reject(self) -> None:
        if self.running:
            return
        super().reject()
