"""The editor's "Suggest a time": the best free hour of the coming week for the ticked
account, from its own history (``operations.insights.suggest_time``), read on a worker.

The button names the time it would set and its tooltip gives the evidence; with too
little history it says so and sets nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QPushButton, QWidget

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.status import AccountStatus
from milton_desktop.operations import insights
from milton_desktop.storage.queries import AccountView
from milton_desktop.ui.tasks import LatestRead
from milton_desktop.ui.wording import describe

log = logging.getLogger("milton.ui.editor")

IDLE_TIP = "Tick one account to get the best free time of its coming week, from its own history"


class SuggestTimeButton(QPushButton):
    """Signals:
    chosen: the suggested instant (aware, UTC) the user asked for.
    """

    chosen = Signal(object)

    def __init__(self, zone: tzinfo, parent: QWidget | None = None, *, clock: Clock | None = None):
        super().__init__("Suggest a time", parent)
        self.setObjectName("suggestTime")
        self.zone = zone
        self.clock: Clock = clock or SystemClock()
        self.suggested: insights.Suggested | None = None
        self._read = LatestRead(self)
        self._account: int | None = None
        self.clicked.connect(self._on_clicked)
        self._idle()

    def busy(self) -> bool:
        return self._read.busy()

    def set_accounts(self, accounts: list[AccountView]) -> None:
        """The accounts ticked in the editor: one gets a suggestion."""
        usable = [a for a in accounts if a.status == AccountStatus.CONNECTED]
        if len(usable) != 1:
            self._account = None
            self._read.supersede()
            self._idle()
            if len(usable) > 1:
                self.setToolTip("Best times are per account: tick only one to get its best time")
            return
        acc = usable[0]
        if acc.id == self._account and (self.suggested is not None or self.busy()):
            return
        self._account = acc.id
        self.suggested = None
        self.setEnabled(False)
        self.setText("Suggest a time…")
        clock = self.clock
        self._read.request(
            lambda: insights.suggest_time(acc.id, clock=clock), self._on_read, self._on_failed
        )

    def _idle(self) -> None:
        self.suggested = None
        self.setText("Suggest a time")
        self.setEnabled(False)
        self.setToolTip(IDLE_TIP)

    def _on_read(self, found: insights.Suggested) -> None:
        self.suggested = found
        if found.choice is None or found.choice.at is None:
            thin = found.best.posts < insights.ranking.MIN_POSTS
            self.setText("Suggest a time: too little history" if thin else "No best time free")
            self.setEnabled(False)
            self.setToolTip(found.reason[:1].upper() + found.reason[1:])
            return
        local = found.choice.at.astimezone(self.zone)
        self.setText(f"Suggest a time: {local:%a %d %b, %H:%M}")
        self.setEnabled(True)
        self.setToolTip(
            f"The best free hour of the next {insights.SUGGEST_DAYS} days, with no other "
            f"post of this account within an hour. {found.choice.evidence}"
        )

    def _on_failed(self, exc: Exception) -> None:
        log.warning("no time could be suggested: %s", exc)
        self.setText("Suggest a time")
        self.setEnabled(False)
        self.setToolTip(f"No time could be suggested: {describe(exc)}")

    def suggestion(self) -> datetime | None:
        found = self.suggested
        return found.choice.at if found is not None and found.choice is not None else None

    def _on_clicked(self) -> None:
        at = self.suggestion()
        if at is not None:
            self.chosen.emit(at)
