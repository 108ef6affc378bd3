"""The window's Post menu and its "needs attention" and Find actions.

The Post menu offers, for the post selected in the calendar or the list, exactly what
its chip menu offers (``ui.calendar.settle``), so everything a post allows is also a
menu and keyboard away. "Needs attention" counts the failed, uncertain and missed
posts and opens the list filtered to them; it is the way back after "Decide later".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from milton_desktop.domain.status import NEEDS_ATTENTION, Status
from milton_desktop.storage import queries
from milton_desktop.ui import tones
from milton_desktop.ui.calendar.settle import attention_title

if TYPE_CHECKING:
    from milton_desktop.ui.shell.main_window import MainWindow


def shortcut_of(standard: QKeySequence.StandardKey, fallback: str) -> list[QKeySequence]:
    """The platform's keys for ``standard``, or ``fallback`` where it has none (Settings
    has no standard key on most Linux desktops; Ctrl+, is what apps there use)."""
    keys = QKeySequence.keyBindings(standard)
    return keys or [QKeySequence(fallback)]


class PostActions(QObject):
    """Owns the Post menu, "Needs attention (N)", "Review missed posts…" and Find."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("milton-post-actions")
        self.window = window
        self.count = 0

        self.attention_action = QAction("Needs attention", window)
        self.attention_action.setObjectName("needs-attention-action")
        self.attention_action.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.attention_action.triggered.connect(self._on_attention_action_triggered)
        self.missed_action = QAction("Review &missed posts…", window)
        self.missed_action.setStatusTip(
            "Publish, reschedule or skip the posts that missed their time"
        )
        self.missed_action.triggered.connect(self._on_missed_action_triggered)
        self.find_action = QAction("&Find…", window)
        self.find_action.setShortcuts(shortcut_of(QKeySequence.StandardKey.Find, "Ctrl+F"))
        self.find_action.setStatusTip("Search the posts of the view you are in")
        self.find_action.triggered.connect(self._on_find_action_triggered)

        self.menu = QMenu("&Post", window)
        self.menu.setObjectName("post-menu")
        self.menu.setPalette(tones.legible_disabled(self.menu.palette()))
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self._on_menu_about_to_show)
        self.fill_menu()
        self.refresh()

    def refresh(self) -> None:
        """Bring the count of posts needing attention up to date (one cheap query)."""
        self.show_counts(
            queries.status_count(*NEEDS_ATTENTION), queries.status_count(Status.MISSED)
        )

    def show_counts(self, attention: int, missed: int) -> None:
        """Show how many posts need attention, and whether any are missed (counts read
        on a worker, see :func:`read_counts`)."""
        self.count = n = attention
        self.attention_action.setText(f"Needs attention ({n})" if n else "Needs attention")
        tip = (
            attention_title(n) + ": failed, uncertain or missed (Ctrl+Shift+A)"
            if n
            else "No failed, uncertain or missed posts"
        )
        self.attention_action.setToolTip(tip)
        self.attention_action.setStatusTip(tip)
        self.missed_action.setEnabled(missed > 0)

    def fill_menu(self) -> None:
        """Rebuild the Post menu for the selected post (done each time it opens)."""
        menu = self.menu
        menu.clear()
        calendar = self.window.calendar
        sid = calendar.selected_id()
        item = calendar.settler.item(sid) if sid else None
        if item is None:
            hint = menu.addAction("Select a post in the calendar or the list first")
            hint.setEnabled(False)
        else:
            calendar.settler.fill_menu(menu, item)
        menu.addSeparator()
        menu.addAction(self.attention_action)
        menu.addAction(self.missed_action)

    def _on_menu_about_to_show(self) -> None:
        self.refresh()
        self.fill_menu()

    def _on_attention_action_triggered(self) -> None:
        self.window.show_attention()

    def _on_missed_action_triggered(self) -> None:
        self.window.show_missed()

    def _on_find_action_triggered(self) -> None:
        self.window.calendar.focus_search()
