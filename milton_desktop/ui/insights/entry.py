"""The window's way in: View ▸ Insights…"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from milton_desktop.domain.clock import Clock
from milton_desktop.storage.credentials import CredentialStore


def insights_action(window: QWidget, credentials: CredentialStore, clock: Clock) -> QAction:
    """An action that opens the Insights view (one at a time: a second click raises it)."""
    action = QAction("&Insights…", window)
    action.setObjectName("insightsAction")
    action.setShortcut("Ctrl+I")
    action.setToolTip("Each account's best hours to post and its posts' figures")

    def open_view() -> None:
        from milton_desktop.ui.insights.view import InsightsDialog

        current = window.findChild(InsightsDialog, "insightsDialog")
        if current is not None:
            current.raise_()
            current.activateWindow()
            return
        dialog = InsightsDialog(credentials, window, clock=clock)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()

    action.triggered.connect(open_view)
    return action
