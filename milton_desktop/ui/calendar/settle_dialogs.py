"""The two small questions settling a post may ask: "when instead?" and "where is it?"."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

from PySide6.QtCore import QDate, QDateTime, QTime
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, localize
from milton_desktop.operations import schedules
from milton_desktop.ui.calendar.banner import accent
from milton_desktop.ui.calendar.model import ScheduleItem, format_day, zone_name
from milton_desktop.ui.wording import sentence

#: a new time is at least this far ahead, so it is not missed while the user reads it
LEAD = timedelta(minutes=5)


def same_time_ahead(planned: datetime, now: datetime, zone: tzinfo) -> datetime:
    """``planned``'s wall-clock time on the first day it is still ahead of ``now``.

    People pick posting hours on purpose (9:00 before the commute), so keeping the
    hour is a better guess than "in an hour"; a time the clocks skip that day is
    passed over.
    """
    local = planned.astimezone(zone)
    day = now.astimezone(zone).date()
    for offset in range(3):
        naive = datetime.combine(day + timedelta(days=offset), local.time().replace(fold=0))
        try:
            candidate = localize(naive, zone)
        except TimeInputError:
            continue
        if candidate > now + LEAD:
            return candidate
    return now + timedelta(hours=1)


def _error_style(label: QLabel) -> None:
    label.setStyleSheet(f"color: {accent('error', label.palette()).name()};")


class RescheduleDialog(QDialog):
    """Asks for a post's new time, in the display zone; refuses a time that has passed."""

    def __init__(
        self, item: ScheduleItem, now: datetime, zone: tzinfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("rescheduleDialog")
        self.setWindowTitle("Reschedule post")
        self.now, self.zone = now, zone
        intro = QLabel(
            f"When should “{item.short_text or '(no text)'}” go out on {item.account}? "
            f"It was due {format_day(item.day)} at {item.time_label}."
        )
        intro.setWordWrap(True)
        self.when_edit = QDateTimeEdit(self)
        self.when_edit.setObjectName("rescheduleWhen")
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.when_edit.setAccessibleName("New time")
        start = (
            item.when_utc if item.when_utc > now + LEAD else same_time_ahead(item.local, now, zone)
        )
        self.set_when(start)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("rescheduleError")
        self.error_label.setWordWrap(True)
        _error_style(self.error_label)
        self.error_label.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Reschedule")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(f"New time ({zone_name(zone)}):", self.when_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 36)

    def set_when(self, when: datetime) -> None:
        local = when.astimezone(self.zone)
        self.when_edit.setDateTime(
            QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))
        )

    def chosen(self) -> datetime:
        """The edit's wall-clock time as an aware instant (TimeInputError in a DST gap)."""
        qdt = self.when_edit.dateTime()
        d, t = qdt.date(), qdt.time()
        return localize(datetime(d.year(), d.month(), d.day(), t.hour(), t.minute()), self.zone)

    def accept(self) -> None:
        try:
            when = self.chosen()
        except TimeInputError as exc:
            self._refuse(sentence(str(exc)))
            return
        if when < self.now:
            self._refuse("That time has passed: choose a later one.")
            return
        super().accept()

    def _refuse(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()
        self.adjustSize()


class MarkPublishedDialog(QDialog):
    """Asks where an uncertain post is, now the user found it went out (a link is optional)."""

    def __init__(self, item: ScheduleItem, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("markPublishedDialog")
        self.setWindowTitle("Mark as published")
        intro = QLabel(
            f"You found “{item.short_text or '(no text)'}” on {item.account}: it will be shown "
            "as published and not sent again. Paste its link so “Open post” finds it "
            "(you can leave it empty)."
        )
        intro.setWordWrap(True)
        self.url_edit = QLineEdit(self)
        self.url_edit.setObjectName("markPublishedUrl")
        self.url_edit.setPlaceholderText("https://…")
        self.url_edit.setAccessibleName("Link to the post (optional)")
        self.url_edit.setClearButtonEnabled(True)
        self.error_label = QLabel(self)
        self.error_label.setObjectName("markPublishedError")
        self.error_label.setWordWrap(True)
        _error_style(self.error_label)
        self.error_label.hide()
        self.url_edit.textEdited.connect(self._on_url_edit_text_edited)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Mark as published")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Link:", self.url_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 40)
        self.url: str | None = None

    def accept(self) -> None:
        try:
            self.url = schedules.post_url(self.url_edit.text())
        except UserError as exc:
            self.error_label.setText(sentence(str(exc)))
            self.error_label.show()
            self.adjustSize()  # room for the complaint, the question stays whole
            self.url_edit.setFocus()
            return
        super().accept()

    def _on_url_edit_text_edited(self, _text: str) -> None:
        self.error_label.hide()
