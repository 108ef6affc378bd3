"""The "+N" popover: the posts a calendar cell had no room for, as a small list.

It opens under the "+N" the user clicked (or pressed Enter on), lists the hidden
posts as chips, and each one behaves as it would on the calendar: a click selects
it, a double click or Enter opens it, the context menu is the calendar's, Delete
asks the calendar to cancel it, and a drag moves it. Escape, or a click elsewhere,
closes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QFocusEvent,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QPushButton,
    QScrollArea,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem, format_day

if TYPE_CHECKING:
    from milton_desktop.ui.calendar.view import CalendarSurface

#: rows shown before the list scrolls
MAX_ROWS = 10
GAP = 3


class ChipList(QWidget):
    """Chips one under another; keyboard and mouse act on them as on the calendar."""

    #: Escape: the popover should close
    closeRequested = Signal()

    def __init__(self, surface: CalendarSurface, items: Sequence[ScheduleItem]) -> None:
        super().__init__()
        self.surface = surface
        self.items = list(items)
        self.current = 0 if items else -1
        self._press: tuple[QPointF, ScheduleItem] | None = None
        self.setObjectName("calendarMoreList")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName("Hidden posts")
        cp = surface._chip_painter
        self.row_h = cp.height + 2
        self.setMinimumWidth(260)
        self.setFixedHeight(max(1, len(self.items)) * (self.row_h + GAP) + GAP)
        self._describe()

    def sizeHint(self) -> QSize:
        return QSize(300, self.height())

    def row_rect(self, n: int) -> QRectF:
        return QRectF(4, GAP + n * (self.row_h + GAP), self.width() - 8, self.row_h)

    def row_at(self, pos: QPointF) -> int:
        for n in range(len(self.items)):
            if self.row_rect(n).contains(pos):
                return n
        return -1

    def ids(self) -> list[int]:
        return [it.id for it in self.items]

    def _describe(self) -> None:
        if 0 <= self.current < len(self.items):
            self.setAccessibleDescription(self.items[self.current].accessible_text())

    def _choose(self, n: int) -> None:
        if 0 <= n < len(self.items):
            self.current = n
            self._describe()
            self.surface.chipClicked.emit(self.items[n].id)
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.surface._chip_painter.theme.base)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        cp = self.surface._chip_painter
        for n, it in enumerate(self.items):
            cp.paint(
                p,
                self.row_rect(n),
                it,
                selected=it.id == self.surface.selected_id,
                focused=self.hasFocus() and n == self.current,
            )
        p.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.closeRequested.emit()
        elif key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            step = 1 if key == Qt.Key.Key_Down else -1
            self._choose(max(0, min(len(self.items) - 1, self.current + step)))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.current >= 0:
            it = self.items[self.current]
            self.closeRequested.emit()
            self.surface.chipClicked.emit(it.id)
            self.surface.chipDoubleClicked.emit(it.id)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.current >= 0:
            it = self.items[self.current]
            self.closeRequested.emit()
            self.surface.chipClicked.emit(it.id)
            # The calendar's own Delete: whoever handles it there (the pane) handles it here.
            forwarded = QKeyEvent(QEvent.Type.KeyPress, key, event.modifiers())
            QApplication.sendEvent(self.surface, forwarded)
        elif key == Qt.Key.Key_Menu and self.current >= 0:
            rect = self.row_rect(self.current).toAlignedRect()
            self.surface.chipMenuRequested.emit(
                self.items[self.current].id, self.mapToGlobal(rect.bottomLeft())
            )
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        n = self.row_at(event.position())
        if n < 0 or event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self._press = (event.position(), self.items[n])
        self._choose(n)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, it = self._press
        if (event.position() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        self.closeRequested.emit()
        if it.movable:
            self.surface.start_drag(it)
        else:
            self.surface.chipDragRefused.emit(it.id)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        n = self.row_at(event.position())
        if n >= 0 and event.button() == Qt.MouseButton.LeftButton:
            self.closeRequested.emit()
            self.surface.chipDoubleClicked.emit(self.items[n].id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        n = self.row_at(QPointF(event.pos()))
        if n >= 0:
            self._choose(n)
            self.surface.chipMenuRequested.emit(self.items[n].id, event.globalPos())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            n = self.row_at(QPointF(event.pos()))
            if n >= 0:
                rect = self.row_rect(n).toAlignedRect()
                QToolTip.showText(event.globalPos(), self.items[n].tooltip(), self, rect)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class MorePopover(QFrame):
    """A frameless popup listing the posts of ``day`` that did not fit on the calendar."""

    def __init__(self, surface: CalendarSurface, day: date, items: Sequence[ScheduleItem]) -> None:
        super().__init__(surface, Qt.WindowType.Popup | Qt.WindowType.FramelessWindowHint)
        self.surface = surface
        self.day = day
        self.setObjectName("calendarMorePopover")
        self.setAccessibleName(f"{len(items)} more posts on {format_day(day)}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        theme = style.theme_for(surface.palette())
        self.setStyleSheet(
            f"#calendarMorePopover {{ background: {theme.base.name()};"
            f" border: 1px solid {theme.grid_line.name()}; border-radius: 4px; }}"
        )
        self.header = QPushButton(f"{format_day(day)} · open the day  ›", self)
        self.header.setObjectName("calendarMoreDayButton")
        self.header.setFlat(True)
        self.header.setToolTip("Show this day in the day view")
        self.header.clicked.connect(self._on_header_clicked)
        self.list = ChipList(surface, items)
        self.list.closeRequested.connect(self.close)
        scroll = QScrollArea(self)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.list)
        rows = min(len(items), MAX_ROWS)
        scroll.setFixedHeight(rows * (self.list.row_h + GAP) + GAP + 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(scroll)
        surface.model.modelReset.connect(self.close)  # its rows are stale after a reload
        self.setTabOrder(self.list, self.header)

    def popup_at(self, anchor: QPoint) -> None:
        """Show with its top-left at ``anchor`` (global), kept on the screen."""
        self.adjustSize()
        size = self.sizeHint()
        screen = self.surface.screen().availableGeometry()
        x = min(max(screen.left(), anchor.x()), screen.right() - size.width())
        y = anchor.y()
        if y + size.height() > screen.bottom():
            y = max(screen.top(), anchor.y() - size.height())
        self.move(x, y)
        self.show()
        self.list.setFocus(Qt.FocusReason.PopupFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
            return
        super().keyPressEvent(event)

    def _on_header_clicked(self) -> None:
        self.close()
        self.surface.dayRequested.emit(self.day)
