"""An account's queue: its weekly posting times and the zone they are read in.

The slots are edited here as a list (days ticked, a time, Add; select, Remove) and
written in one go on Save, through ``operations.queue``; until then the dialog only
previews the next posting times, so a half-made week is never live.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import timedelta

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QCompleter,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import UserError
from milton_desktop.domain.slots import DAYS, MAX_SLOTS, Slot, skipped_between, slot_instants
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations import queue
from milton_desktop.publishers import registry
from milton_desktop.storage.queries import AccountView
from milton_desktop.ui import style, tones
from milton_desktop.ui.accounts.queue_fill import QueueFillButton
from milton_desktop.ui.wording import describe

log = logging.getLogger("milton.ui.accounts")

#: the day names the checkboxes show, Monday first as in :data:`DAYS`
DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: how many coming posting times the preview lists
PREVIEW = 5
#: the zone picker's first entry: no zone of its own
FOLLOW_APP = ""


def slot_label(slot: Slot) -> str:
    return f"{DAY_LABELS[slot.weekday]} {slot.time_text}"


class QueueDialog(QDialog):
    """The Queue page of one account.

    Signals:
        saved: the slots and zone were written (the account's id).
    """

    saved = Signal(int)

    def __init__(
        self, account: AccountView, parent: QWidget | None = None, *, clock: Clock | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("queueDialog")
        self.account = account
        self.clock: Clock = clock or SystemClock()
        self.setWindowTitle(f"Queue of {account.display_name}")
        shown = queue.show_queue(account.id, clock=self.clock)
        self._slots: set[Slot] = set(shown.slots)

        layout = QVBoxLayout(self)
        intro = QLabel(
            f"Posting times of “{account.display_name}” ({registry.label(account.platform)}). "
            "“Add to queue” puts a post in the next free one; the week and day views show "
            "the free ones, to drop drafts on."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        form = QFormLayout()
        self.zone_combo = QComboBox()
        self.zone_combo.setObjectName("queueZone")
        self.zone_combo.setEditable(True)
        self.zone_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.zone_combo.addItem(f"The app's zone ({queue.app_zone()})", FOLLOW_APP)
        for name in sorted(zoneinfo.available_timezones()):
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
                self.zone_combo.addItem(name, name)
        self.zone_combo.addItem("UTC", "UTC")
        completer = self.zone_combo.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.zone_combo.setToolTip("The time zone the posting times are read in")
        own = account.timezone
        at = self.zone_combo.findData(own) if own else 0
        if own and at < 0:  # a zone the list leaves out (Etc/GMT+5): still the account's
            self.zone_combo.addItem(own, own)
            at = self.zone_combo.count() - 1
        self.zone_combo.setCurrentIndex(at)
        self.zone_combo.currentIndexChanged.connect(self._on_zone_combo_changed)
        form.addRow("Time zone:", self.zone_combo)
        layout.addLayout(form)

        self.slot_list = QListWidget()
        self.slot_list.setObjectName("queueSlots")
        self.slot_list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.slot_list.itemSelectionChanged.connect(self._on_slot_list_selection_changed)
        self.empty_label = QLabel("No posting times yet: tick days, choose a time and click Add.")
        self.empty_label.setObjectName("queueEmpty")
        self.empty_label.setWordWrap(True)
        style.dim_label(self.empty_label)
        layout.addWidget(self.slot_list, 1)
        layout.addWidget(self.empty_label)

        add_row = QHBoxLayout()
        self.day_checks: list[QCheckBox] = []
        for n, label in enumerate(DAY_LABELS):
            check = QCheckBox(label)
            check.setObjectName(f"queueDay{DAYS[n]}")
            check.toggled.connect(self._on_day_check_toggled)
            self.day_checks.append(check)
            add_row.addWidget(check)
        self.time_edit = QTimeEdit(QTime(9, 0))
        self.time_edit.setObjectName("queueTime")
        self.time_edit.setDisplayFormat("HH:mm")
        self.time_edit.setToolTip("A 24 h time in the queue's time zone")
        add_row.addWidget(self.time_edit)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("queueAdd")
        self.add_button.clicked.connect(self._on_add_button_clicked)
        add_row.addWidget(self.add_button)
        add_row.addStretch(1)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("queueRemove")
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        add_row.addWidget(self.remove_button)
        layout.addLayout(add_row)

        self.fill_button = QueueFillButton(account.id, self.slots, self, clock=self.clock)
        self.fill_button.applied.connect(self._on_fill_button_applied)
        fill_row = QHBoxLayout()
        fill_row.addWidget(self.fill_button)
        fill_row.addStretch(1)
        layout.addLayout(fill_row)

        self.preview_label = QLabel()
        self.preview_label.setObjectName("queuePreview")
        self.preview_label.setWordWrap(True)
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.preview_label)
        self.error_label = QLabel()
        self.error_label.setObjectName("queueError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {tones.tone(self.palette(), 'error').name()};")
        self.error_label.hide()
        layout.addWidget(self.error_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("queueSave")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)

        self.resize(640, 460)
        self._fill()

    # ------------------------------------------------------------ state

    def zone_choice(self) -> str | None:
        """The zone chosen (None: the app's), or raises :class:`UserError` for a typo."""
        text = self.zone_combo.currentText().strip()
        at = self.zone_combo.findText(text)
        data = self.zone_combo.itemData(at) if at >= 0 else text
        if data == FOLLOW_APP:
            return None
        get_zone(str(data))
        return str(data)

    def slots(self) -> list[Slot]:
        return sorted(self._slots)

    def add_slots(self, days: list[int], hour: int, minute: int) -> None:
        """What Add does with the ticked days and the time."""
        for day in days:
            self._slots.add(Slot(day, hour * 60 + minute))
        self._fill()

    def _fill(self) -> None:
        self.slot_list.clear()
        for slot in self.slots():
            item = QListWidgetItem(slot_label(slot))
            item.setData(Qt.ItemDataRole.UserRole, (slot.weekday, slot.minute))
            self.slot_list.addItem(item)
        empty = not self._slots
        self.fill_button.refresh()  # it proposes only what the list does not have
        self.slot_list.setVisible(not empty)
        self.empty_label.setVisible(empty)
        self._update_buttons()
        self._preview()

    def _zone_name(self) -> str | None:
        try:
            choice = self.zone_choice()
        except UserError:
            return None
        return choice or queue.app_zone()

    def _preview(self) -> None:
        zone = self._zone_name()
        if zone is None:
            self.preview_label.setText("Choose a time zone from the list to see the times.")
            return
        if not self._slots:
            self.preview_label.setText("")
            return
        now = self.clock.now()
        lo = now + queue.LEAD
        times = [t for t, _ in slot_instants(self.slots(), zone, lo, lo + timedelta(days=15))]
        local = [t.astimezone(get_zone(zone)) for t in times[:PREVIEW]]
        lines = ["Next posting times: " + ", ".join(f"{t:%a %d %b %H:%M}" for t in local)]
        app = queue.app_zone()
        if zone != app and local:
            first = local[0].astimezone(get_zone(app))
            lines.append(f"({local[0]:%H:%M} in {zone} is {first:%H:%M} in {app}.)")
        for skipped in skipped_between(self.slots(), zone, lo, lo + queue.SKIP_REACH):
            lines.append(skipped.reason[:1].upper() + skipped.reason[1:] + ".")
        self.preview_label.setText("\n".join(lines))

    def _update_buttons(self) -> None:
        days = any(c.isChecked() for c in self.day_checks)
        self.add_button.setEnabled(days and len(self._slots) < MAX_SLOTS)
        self.add_button.setToolTip("" if days else "Tick at least one day first")
        self.remove_button.setEnabled(bool(self.slot_list.selectedItems()))

    def _say(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # ------------------------------------------------------------ slots

    def _on_zone_combo_changed(self, _index: int) -> None:
        self._say("")
        self._preview()

    def _on_day_check_toggled(self, _checked: bool) -> None:
        self._update_buttons()

    def _on_slot_list_selection_changed(self) -> None:
        self._update_buttons()

    def _on_add_button_clicked(self) -> None:
        days = [n for n, c in enumerate(self.day_checks) if c.isChecked()]
        t = self.time_edit.time()
        self.add_slots(days, t.hour(), t.minute())

    def _on_remove_button_clicked(self) -> None:
        for item in self.slot_list.selectedItems():
            weekday, minute = item.data(Qt.ItemDataRole.UserRole)
            self._slots.discard(Slot(int(weekday), int(minute)))
        self._fill()

    def _on_fill_button_applied(self, slots: list[Slot]) -> None:
        # they join the list like slots added by hand: Save keeps them, Cancel does not
        self._slots.update(slots)
        self._fill()

    def _on_save_button_clicked(self) -> None:
        self.save()

    def save(self) -> bool:
        """Write the slots and the zone; False (and why, in the dialog) when refused."""
        try:
            zone = self.zone_choice()
            queue.save_queue(self.account.id, self.slots(), zone, clock=self.clock)
        except UserError as exc:
            self._say(describe(exc))
            return False
        log.info(
            "queue of account %s saved: %d slots, zone %s",
            self.account.id,
            len(self._slots),
            zone or "the app's",
        )
        self.saved.emit(self.account.id)
        self.accept()
        return True
