"""The posts that missed their time while the computer was off or asleep.

The engine marks a post ``missed`` rather than publishing it hours late; this dialog
is where the user decides, per post: publish it now, move it to a new time, or skip
it. Each choice is one store call; the row then says what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDateTimeEdit,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import TimeInputError, get_zone, human_delta, localize
from milton_desktop.operations import schedules
from milton_desktop.operations.schedules import MISSED_MESSAGE
from milton_desktop.storage import queries, settings
from milton_desktop.ui import tones
from milton_desktop.ui.style import platform_style, theme_for

log = logging.getLogger("milton.ui")


def _zone_name() -> str:
    return settings.get("timezone") or "UTC"


def _excerpt(text: str, n: int = 160) -> str:
    one = " ".join((text or "").split())
    return one if len(one) <= n else one[: n - 1].rstrip() + "…"


def _chip_style(platform: str, palette: QPalette) -> str:
    # the badge colours the calendar uses: a black brand colour still shows on a dark card
    fill, text = theme_for(palette).badge(platform, palette.color(QPalette.ColorRole.Base))
    return (
        f"background: {fill.name()}; color: {text.name()}; border-radius: 8px;"
        "padding: 1px 8px; font-weight: 600;"
    )


class MissedRow(QFrame):
    """One missed post with its three choices."""

    def __init__(self, schedule_id: int, dialog: MissedPostsDialog) -> None:
        super().__init__(dialog)
        self.schedule_id = schedule_id
        self.dialog = dialog
        self.resolved = False
        self.setObjectName("missed-row")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#missed-row { border: 1px solid palette(mid); border-radius: 6px;"
            " background: palette(base); }"
        )
        row = queries.schedule_view(schedule_id)
        zone = get_zone(_zone_name())
        now = dialog.clock.now()
        local = row.scheduled_time.astimezone(zone)
        late = now - row.scheduled_time

        #: the repeat that made it (several rows may come from one), and its time
        self.series = row.recurrence_id
        self.scheduled_time = row.scheduled_time
        dim = tones.dim(self.palette(), QPalette.ColorRole.Base).name()
        self.when_label = QLabel(
            f"<b>{local:%a %d %b, %H:%M}</b>"
            f" <span style='color: {dim}'>· {human_delta(late)} ago</span>"
        )
        chip = QLabel(platform_style(row.account.platform).label)
        chip.setObjectName("missed-platform")
        chip.setStyleSheet(_chip_style(row.account.platform, self.palette()))
        account = QLabel(row.account.display_name)
        head = QHBoxLayout()
        head.addWidget(self.when_label)
        head.addSpacing(8)
        head.addWidget(chip)
        head.addWidget(account)
        head.addStretch(1)

        text = row.text
        self.text_label = QLabel(_excerpt(text) or "(no text: media only)")
        self.text_label.setWordWrap(True)
        self.text_label.setToolTip(text)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # A row with its own note (one row standing for many missed occurrences of a
        # repeat) says so; the usual "not published in time" is what the dialog is about.
        self.note_label = QLabel(row.error_message or "")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet(
            f"color: {tones.tone(self.palette(), 'warning', QPalette.ColorRole.Base).name()};"
        )
        self.note_label.setVisible(
            row.status == Status.MISSED
            and bool(row.error_message)
            and row.error_message != MISSED_MESSAGE
        )

        self.publish_button = QPushButton("Publish now")
        self.publish_button.setToolTip("Publish this post at once")
        self.publish_button.clicked.connect(self._on_publish_button_clicked)
        self.when_edit = QDateTimeEdit()
        self.when_edit.setCalendarPopup(True)
        self.when_edit.setDisplayFormat("ddd d MMM yyyy  HH:mm")
        self.when_edit.setToolTip(f"The new time, in {_zone_name()}")
        self.set_when(self.default_new_time(row.scheduled_time, now, zone.key))
        self.reschedule_button = QPushButton("Reschedule")
        self.reschedule_button.setToolTip("Publish it at the time on the left instead")
        self.reschedule_button.clicked.connect(self._on_reschedule_button_clicked)
        self.skip_button = QPushButton("Skip")
        self.skip_button.setToolTip("Do not publish this post; the post itself is kept")
        self.skip_button.clicked.connect(self._on_skip_button_clicked)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.hide()

        self.action_row = QWidget()
        buttons = QHBoxLayout(self.action_row)
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.publish_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.when_edit)
        buttons.addWidget(self.reschedule_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.skip_button)
        buttons.addStretch(1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.text_label)
        layout.addWidget(self.note_label)
        layout.addWidget(self.action_row)
        layout.addWidget(self.status_label)
        # Still pending but past its time: the start-up count included it and the
        # scheduler's first check is about to mark it missed; the same choices apply.
        overdue = row.status == Status.PENDING and row.scheduled_time < now
        if row.status != Status.MISSED and not overdue:
            # Handled elsewhere already (the calendar, the command line, another window).
            self._done(f"Already {row.status}: nothing to decide.", ok=True)

    @staticmethod
    def default_new_time(scheduled: datetime, now: datetime, zone_name: str) -> datetime:
        """The same wall-clock time as planned, on the first day it is still ahead.

        People pick posting hours on purpose (9:00 before the commute), so keeping
        the hour is a better guess than "in an hour".
        """
        zone = get_zone(zone_name)
        planned = scheduled.astimezone(zone)
        day = now.astimezone(zone).date()
        for offset in range(3):
            naive = datetime.combine(day + timedelta(days=offset), planned.time().replace(fold=0))
            try:
                candidate = localize(naive, zone)
            except TimeInputError:
                continue
            if candidate > now + timedelta(minutes=5):
                return candidate
        return now + timedelta(hours=1)

    def set_when(self, when: datetime) -> None:
        local = when.astimezone(get_zone(_zone_name()))
        self.when_edit.setDateTime(
            QDateTime(QDate(local.year, local.month, local.day), QTime(local.hour, local.minute))
        )

    def chosen_time(self) -> datetime:
        """The edit's wall-clock time in the user's zone, as a UTC instant."""
        qdt = self.when_edit.dateTime()
        qdate, qtime = qdt.date(), qdt.time()
        naive = datetime(qdate.year(), qdate.month(), qdate.day(), qtime.hour(), qtime.minute())
        return localize(naive, get_zone(_zone_name()))

    def _done(self, message: str, *, ok: bool) -> None:
        self.resolved = ok
        self.status_label.setText(message)
        error = tones.tone(self.palette(), "error", QPalette.ColorRole.Base).name()
        self.status_label.setStyleSheet("" if ok else f"color: {error};")
        self.status_label.show()
        if ok:
            self.action_row.hide()
            self.setEnabled(True)
            dim = tones.dim(self.palette(), QPalette.ColorRole.Base).name()
            self.text_label.setStyleSheet(f"color: {dim};")
        self.dialog._on_row_resolved()

    def publish_now(self) -> None:
        try:
            schedules.publish_now(self.schedule_id, clock=self.dialog.clock)
        except UserError as exc:
            self._done(str(exc), ok=False)
            return
        log.info("missed schedule %s: publish now", self.schedule_id)
        self._done("Publishing now.", ok=True)
        self.dialog.changed.emit()

    def reschedule(self, when: datetime | None = None) -> None:
        try:
            when = when or self.chosen_time()
            schedules.reschedule(self.schedule_id, when, clock=self.dialog.clock)
        except (UserError, TimeInputError) as exc:
            self._done(str(exc), ok=False)
            return
        local = when.astimezone(get_zone(_zone_name()))
        log.info("missed schedule %s: rescheduled", self.schedule_id)
        self._done(f"Rescheduled to {local:%a %d %b, %H:%M}.", ok=True)
        self.dialog.changed.emit()

    def skip(self, why: str = "Skipped: it will not be published.") -> None:
        try:
            schedules.cancel(self.schedule_id, clock=self.dialog.clock)
        except UserError as exc:
            self._done(str(exc), ok=False)
            return
        log.info("missed schedule %s: skipped", self.schedule_id)
        self._done(why, ok=True)
        self.dialog.changed.emit()

    def _on_publish_button_clicked(self) -> None:
        self.publish_now()

    def _on_reschedule_button_clicked(self) -> None:
        self.reschedule()

    def _on_skip_button_clicked(self) -> None:
        self.skip()


class MissedPostsDialog(QDialog):
    """Lists missed posts; each can be published now, rescheduled or skipped."""

    #: a schedule was changed (the window refreshes and the runner re-arms)
    changed = Signal()

    def __init__(
        self,
        schedule_ids: Iterable[int],
        parent: QWidget | None = None,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("missed-posts-dialog")
        self.setWindowTitle("Missed posts")
        self.clock = clock or SystemClock()
        self.rows: dict[int, MissedRow] = {}

        self.title_label = QLabel()
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title_label.setFont(font)
        intro = QLabel(
            "They were due while the computer was off or asleep, or while Milton Desktop "
            "was not running, and were held back rather than published late. "
            "Choose what to do with each one."
        )
        intro.setWordWrap(True)

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 4, 0)
        self._list_layout.setSpacing(8)
        self._list_layout.addStretch(1)
        self._scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self._list)
        scroll.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.publish_all_button = QPushButton("Publish all now")
        self.publish_all_button.clicked.connect(self._on_publish_all_button_clicked)
        self.skip_all_button = QPushButton("Skip all")
        self.skip_all_button.clicked.connect(self._on_skip_all_button_clicked)
        self.close_button = QPushButton("Decide later")
        self.close_button.setToolTip("Keep them as missed; they stay marked in the calendar")
        self.close_button.clicked.connect(self.accept)
        bottom = QHBoxLayout()
        bottom.addWidget(self.publish_all_button)
        bottom.addWidget(self.skip_all_button)
        bottom.addStretch(1)
        bottom.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 14)
        layout.setSpacing(10)
        layout.addWidget(self.title_label)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addLayout(bottom)
        # Enter must never publish or skip everything: only "Decide later" is default.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
        self.close_button.setDefault(True)
        self.resize(760, 300)
        self.add_schedule_ids(schedule_ids)

    def add_schedule_ids(self, schedule_ids: Iterable[int]) -> None:
        """Add posts that became missed while the dialog is open (a second wake-up)."""
        for sid in schedule_ids:
            if sid in self.rows:
                continue
            try:
                row = MissedRow(sid, self)
            except UserError:
                continue  # deleted meanwhile: nothing to decide
            self.rows[sid] = row
            for button in row.findChildren(QPushButton):
                button.setAutoDefault(False)
            self._list_layout.insertWidget(self._list_layout.count() - 1, row)
        self._on_row_resolved()
        self._fit_to_rows()

    def _fit_to_rows(self) -> None:
        # Tall enough for the rows (up to about four), so a short list has no empty band
        # and a long one scrolls.
        wanted = min(self._list.sizeHint().height(), 460)
        self._scroll.setMinimumHeight(wanted)
        self.resize(self.width(), max(self.height(), self.sizeHint().height()))

    def open_ids(self) -> list[int]:
        return [sid for sid, row in self.rows.items() if not row.resolved]

    def _on_row_resolved(self) -> None:
        left = len(self.open_ids())
        if left:
            self.title_label.setText(
                "1 post missed its time" if left == 1 else f"{left} posts missed their time"
            )
        else:
            self.title_label.setText("All missed posts are taken care of")
        for button in (self.publish_all_button, self.skip_all_button):
            button.setVisible(left > 1)
        self.close_button.setText("Decide later" if left else "Close")
        repeated = len(self._to_publish()) < left
        self.publish_all_button.setText("Publish each once now" if repeated else "Publish all now")
        self.publish_all_button.setToolTip(
            "Publish every missed post now. Of a repeat that missed several times, only its "
            "latest time is published and the earlier ones are skipped, so followers do not "
            "see the same post again and again."
            if repeated
            else "Publish every missed post now"
        )

    def _to_publish(self) -> list[MissedRow]:
        """What "publish all" publishes: each missed post, and of each repeat only its
        latest missed time."""
        latest: dict[int, MissedRow] = {}
        chosen: list[MissedRow] = []
        for sid in self.open_ids():
            row = self.rows[sid]
            if row.series is None:
                chosen.append(row)
            elif row.series not in latest or row.scheduled_time > latest[row.series].scheduled_time:
                latest[row.series] = row
        return chosen + list(latest.values())

    def _on_publish_all_button_clicked(self) -> None:
        chosen = {id(row) for row in self._to_publish()}
        for sid in self.open_ids():
            row = self.rows[sid]
            if id(row) in chosen:
                row.publish_now()
            else:
                row.skip("Skipped: a later time of the same repeat is published instead.")

    def _on_skip_all_button_clicked(self) -> None:
        for sid in self.open_ids():
            self.rows[sid].skip()
