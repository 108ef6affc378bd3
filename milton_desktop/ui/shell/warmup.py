"""Import what the editor needs while the window is idle after start-up, so its first
opening does not pay ~100 ms of imports on the GUI thread.

Modules are imported one per event-loop turn, heaviest dependencies first, so no
single turn holds the loop for long and input arriving meanwhile is handled between
them.
"""

from __future__ import annotations

import importlib
import logging
import sys

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger("milton.ui.warmup")

#: after the panes are filled: the start-up's own reads and paints are done by then
WARMUP_DELAY_MS = 1500

#: the editor dialog's imports not already loaded by the main window, leaves first
EDITOR_MODULES = (
    "milton_desktop.domain.twittertext",
    "milton_desktop.operations.accounts",
    "milton_desktop.operations.drafting",
    "milton_desktop.assistant.client",
    "milton_desktop.operations.insights",
    "milton_desktop.operations.compose",
    "milton_desktop.ui.editor.preview_layout",
    "milton_desktop.ui.editor.preview",
    "milton_desktop.ui.editor.assistant",
    "milton_desktop.ui.editor.suggest",
    "milton_desktop.ui.editor.thread",
    "milton_desktop.ui.editor.media",
    "milton_desktop.ui.editor.dialog",
)


class IdleImports(QObject):
    """Imports ``modules`` one per event-loop turn, starting ``delay_ms`` from now."""

    #: every module is imported (or failed to, which its first real use will report)
    finished = Signal()

    def __init__(
        self,
        modules: tuple[str, ...] = EDITOR_MODULES,
        parent: QObject | None = None,
        delay_ms: int = WARMUP_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        self._left = [m for m in modules if m not in sys.modules]
        self.done = False
        QTimer.singleShot(delay_ms, self, self._next)

    def _next(self) -> None:
        while self._left:
            name = self._left.pop(0)
            if name in sys.modules:  # pulled in by an earlier one, or the user was quicker
                continue
            try:
                importlib.import_module(name)
            except Exception:
                log.exception("could not import %s ahead of time", name)
            if self._left:
                QTimer.singleShot(0, self, self._next)
                return
        self.done = True
        self.finished.emit()
