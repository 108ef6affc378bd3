""" "Fill my queue from best times" on an account's Queue page.

The account's best hours (``operations.insights.propose_queue``, read on a worker) are
offered as weekly slots in a preview; the ones the user keeps ticked join the page's
list on Apply, to be saved (or not) with the rest of the page. With too little history
the button is disabled and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.slots import Slot
from milton_desktop.operations import insights
from milton_desktop.ui.tasks import LatestRead
from milton_desktop.ui.wording import describe

log = logging.getLogger("milton.ui.accounts")

IDLE = "Fill my queue from best times"


def choice_label(choice: insights.SlotChoice) -> str:
    slot = choice.slot
    posts = f"{slot.posts} post{'s' if slot.posts != 1 else ''}"
    return (
        f"{choice.queue_slot.time_text} on {_day(choice)} — {posts}, {slot.raw:.1f}× a typical post"
    )


def _day(choice: insights.SlotChoice) -> str:
    return ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")[
        choice.queue_slot.weekday
    ]


class QueueFillDialog(QDialog):
    """The preview: the proposed slots, each ticked, to accept or not.

    Signals:
        applied: the slots that were added (a list of :class:`Slot`).
    """

    applied = Signal(object)

    def __init__(
        self,
        proposal: insights.QueueProposal,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("queueFillDialog")
        self.setWindowTitle("Fill the queue from best times")
        self.proposal = proposal
        self.clock: Clock = clock or SystemClock()
        best = proposal.best
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"The hours where the posts of “{best.account}” did best, from its "
            f"{best.posts} measured posts (times in {best.timezone}). Untick any you do not "
            "want; Apply adds the others to its queue."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QListWidget()
        self.list.setObjectName("queueFillList")
        for choice in proposal.choices:
            item = QListWidgetItem(choice_label(choice))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setToolTip(choice.evidence)
            item.setData(Qt.ItemDataRole.UserRole, choice.queue_slot)
            self.list.addItem(item)
        self.list.itemChanged.connect(self._on_list_item_changed)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel)
        self.apply_button = QPushButton()
        self.apply_button.setObjectName("queueFillApply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self._on_apply_button_clicked)
        buttons.addWidget(self.apply_button)
        layout.addLayout(buttons)
        self.resize(560, 340)
        self._update()

    def accepted_slots(self) -> list[Slot]:
        out = []
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def _update(self) -> None:
        n = len(self.accepted_slots())
        self.apply_button.setEnabled(n > 0)
        self.apply_button.setText(f"Add {n} to the list" if n else "Apply")

    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        self._update()

    def _on_apply_button_clicked(self) -> None:
        self.apply()

    def apply(self) -> None:
        """Hand the ticked slots to the Queue page; its Save writes them with the rest."""
        slots = self.accepted_slots()
        if not slots:
            return
        log.info(
            "queue of account %s: %d slots proposed from best times accepted",
            self.proposal.account_id,
            len(slots),
        )
        self.applied.emit(slots)
        self.accept()


class QueueFillButton(QPushButton):
    """The Queue page's button; ``current`` gives the slots the page is editing.

    Signals:
        applied: the slots the user accepted and that were added.
    """

    applied = Signal(object)

    def __init__(
        self,
        account_id: int,
        current: Callable[[], list[Slot]],
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(IDLE, parent)
        self.setObjectName("queueFill")
        self.account_id = account_id
        self.current = current
        self.clock: Clock = clock or SystemClock()
        self.proposal: insights.QueueProposal | None = None
        self.dialog: QueueFillDialog | None = None
        self._read = LatestRead(self)
        self.clicked.connect(self._on_clicked)
        self.refresh()

    def busy(self) -> bool:
        return self._read.busy()

    def refresh(self) -> None:
        """Read the proposal again (the page's slots changed)."""
        self.setEnabled(False)
        account, have = self.account_id, list(self.current())
        self._read.request(
            lambda: insights.propose_queue(account, have), self._on_read, self._on_failed
        )

    def _on_read(self, proposal: insights.QueueProposal) -> None:
        self.proposal = proposal
        if proposal.choices:
            n = len(proposal.choices)
            self.setEnabled(True)
            self.setToolTip(
                f"Proposes {n} weekly time{'s' if n != 1 else ''} from this account's own "
                "history, to accept or not before anything changes"
            )
        else:
            self.setEnabled(False)
            self.setToolTip(proposal.reason[:1].upper() + proposal.reason[1:])

    def _on_failed(self, exc: Exception) -> None:
        log.warning("best times could not be read for the queue: %s", exc)
        self.setEnabled(False)
        self.setToolTip(f"Best times could not be read: {describe(exc)}")

    def _on_clicked(self) -> None:
        self.open_preview()

    def open_preview(self) -> QueueFillDialog | None:
        if self.proposal is None or not self.proposal.choices:
            return None
        dialog = QueueFillDialog(self.proposal, self.window(), clock=self.clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.applied.connect(self._on_dialog_applied)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _on_dialog_applied(self, slots: list[Slot]) -> None:
        self.dialog = None
        self.applied.emit(slots)
