"""A message bar over the calendar: why a drop or an action was refused, or what became
of a post the user just sent out.

It stays until the user dismisses it or does the next thing (a status-bar line is
cut off, shares its space with "Next:", and is gone before it is read). Its colours
come from the palette, with a level colour chosen for a light or a dark one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QWidget,
)

#: level -> (accent on a light palette, accent on a dark palette)
LEVEL_ACCENTS: dict[str, tuple[str, str]] = {
    "error": ("#c92a2a", "#ff8787"),
    "warning": ("#c2410c", "#ffa94d"),
    "info": ("#1d4ed8", "#74a7ff"),
    "success": ("#2b8a3e", "#69db7c"),
}
#: a one-character mark, so the level never depends on colour alone
LEVEL_MARKS = {"error": "✕", "warning": "!", "info": "i", "success": "✓"}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def accent(level: str, palette: QPalette) -> QColor:
    """The colour of ``level`` that reads on ``palette``'s window colour."""
    light, dark = LEVEL_ACCENTS.get(level, LEVEL_ACCENTS["info"])
    return QColor(dark if is_dark(palette) else light)


def tint(base: QColor, over: QColor, amount: float) -> QColor:
    """``over`` laid on ``base`` at ``amount`` opacity."""
    return QColor.fromRgbF(
        base.redF() + (over.redF() - base.redF()) * amount,
        base.greenF() + (over.greenF() - base.greenF()) * amount,
        base.blueF() + (over.blueF() - base.blueF()) * amount,
    )


class Banner(QFrame):
    """One message at a time, with an optional action button and a Dismiss button."""

    #: the user dismissed the message
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calendarBanner")
        self.setAccessibleName("Message")
        self.level = "info"
        self._action: Callable[[], object] | None = None
        self.mark = QLabel(self)
        self.mark.setObjectName("calendarBannerMark")
        self.mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.mark.setFixedWidth(self.fontMetrics().height() + 6)
        self.text_label = QLabel(self)
        self.text_label.setObjectName("calendarBannerText")
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton(self)
        self.action_button.setObjectName("calendarBannerAction")
        self.action_button.setAutoDefault(False)
        self.action_button.hide()
        self.action_button.clicked.connect(self._on_action_button_clicked)
        self.dismiss_button = QToolButton(self)
        self.dismiss_button.setObjectName("calendarBannerDismiss")
        self.dismiss_button.setText("Dismiss")
        self.dismiss_button.setToolTip("Hide this message (Esc)")
        self.dismiss_button.setAccessibleName("Dismiss message")
        self.dismiss_button.clicked.connect(self._on_dismiss_button_clicked)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 8, 6)
        row.setSpacing(8)
        # the mark sits beside the first line, and the two stay centred on the buttons
        # (a one-line message used to sit lower than its mark)
        message = QHBoxLayout()
        message.setSpacing(8)
        message.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        message.addWidget(self.text_label, 1, Qt.AlignmentFlag.AlignTop)
        row.addLayout(message, 1)
        row.setAlignment(message, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.hide()

    def show_message(
        self,
        text: str,
        level: str = "error",
        *,
        action: tuple[str, Callable[[], object]] | None = None,
    ) -> None:
        """Show ``text`` (replacing any message) until dismissed or replaced."""
        self.level = level if level in LEVEL_ACCENTS else "info"
        self.text_label.setText(text)
        self.mark.setText(LEVEL_MARKS[self.level])
        self.setAccessibleDescription(text)
        if action is None:
            self._action = None
            self.action_button.hide()
        else:
            label, callback = action
            self._action = callback
            self.action_button.setText(label)
            self.action_button.show()
        self._apply_colours()
        self.show()

    def text(self) -> str:
        """The message shown, or "" when there is none."""
        return "" if self.isHidden() else self.text_label.text()

    def clear(self) -> None:
        """Hide the message (the user moved on to something else)."""
        self._action = None
        self.text_label.clear()
        self.hide()

    def _apply_colours(self) -> None:
        # The parent's palette: this widget's own is the one its style sheet made.
        host = self.parentWidget()
        pal = host.palette() if host is not None else self.palette()
        window = pal.color(QPalette.ColorRole.Window)
        edge = accent(self.level, pal)
        fill = tint(window, edge, 0.14)
        text = pal.color(QPalette.ColorRole.WindowText)
        line = tint(window, text, 0.2)
        sheet = (
            f"#calendarBanner {{ background: {fill.name()}; border: none;"
            f" border-left: 4px solid {edge.name()}; border-bottom: 1px solid {line.name()}; }}"
            f" #calendarBanner QLabel {{ background: transparent; color: {text.name()}; }}"
            f" #calendarBannerMark {{ color: {edge.name()}; font-weight: bold; }}"
        )
        if sheet != self.styleSheet():  # setting it again would announce a new palette
            self.setStyleSheet(sheet)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and not self.isHidden():
            self._apply_colours()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self._on_dismiss_button_clicked()
            return
        super().keyPressEvent(event)

    def _on_action_button_clicked(self) -> None:
        callback = self._action
        if callback is not None:
            callback()

    def _on_dismiss_button_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()
