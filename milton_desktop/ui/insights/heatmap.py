"""The weekday × hour heatmap of an account's best times (custom painted).

Seven rows (Monday first) of 24 hours in the account's zone. A cell is coloured by its
slot's score (``domain/best_times.py``): warm above the account's typical post, cool
below, and left unfilled, with a faint outline, where no post went out. The best cell
carries a ring. Hovering a cell tells its posts and how they did.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QHelpEvent,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from milton_desktop.domain import best_times as ranking
from milton_desktop.ui.insights.colours import Scale
from milton_desktop.ui.style import readable

DAY_LABELS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_GAP = 3
_LEFT = 44
_TOP = 22
_LEGEND = 34


class Heatmap(QWidget):
    """The heatmap of one account's :class:`~milton_desktop.domain.best_times.BestTimes`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("insightsHeatmap")
        self.setAccessibleName("Best times: weekday by hour")
        self.setMouseTracking(True)
        self.setMinimumSize(560, 7 * 18 + _TOP + _LEGEND + 12)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.best: ranking.BestTimes | None = None
        self._cells: dict[tuple[int, int], ranking.Slot] = {}
        self._hover: tuple[int, int] | None = None

    # ------------------------------------------------------------ data

    def set_best(self, best: ranking.BestTimes | None) -> None:
        self.best = best
        self._cells = {}
        if best is not None and best.basis == ranking.HISTORY:
            for slot in best.slots:
                self._cells[(ranking.DAYS.index(slot.day), slot.hour)] = slot
        self._hover = None
        self.update()

    def slot_at(self, weekday: int, hour: int) -> ranking.Slot | None:
        return self._cells.get((weekday, hour))

    def best_cell(self) -> tuple[int, int] | None:
        """(weekday, hour) of the best slot that did better than typical, if any."""
        if self.best is None or not self.best.slots or self.best.slots[0].score <= 1.0:
            return None
        top = self.best.slots[0]
        return ranking.DAYS.index(top.day), top.hour

    def cell_text(self, weekday: int, hour: int) -> str:
        """What hovering the cell says."""
        span = f"{DAY_LABELS[weekday]} {hour:02d}:00–{(hour + 1) % 24:02d}:00"
        slot = self.slot_at(weekday, hour)
        if slot is None:
            return f"{span}: no posts went out in this hour yet"
        posts = f"{slot.posts} post{'s' if slot.posts != 1 else ''}"
        if slot.raw >= 1.0:
            how = f"{slot.raw:.1f}× a typical post"
        else:
            how = f"{slot.raw:.0%} of a typical post"
        rank = ""
        if self.best is not None:
            place = self.best.slots.index(slot) + 1
            rank = f" — #{place} of {len(self.best.slots)} hours with posts"
        return f"{span}: {posts}, on average {how} (score {slot.score:.2f}){rank}"

    # ------------------------------------------------------------ geometry

    def sizeHint(self) -> QSize:
        return QSize(24 * 30 + _LEFT, 7 * 30 + _TOP + _LEGEND + 12)

    def _grid(self) -> QRect:
        return QRect(_LEFT, _TOP, self.width() - _LEFT - 4, self.height() - _TOP - _LEGEND - 10)

    def _cell_rect(self, weekday: int, hour: int) -> QRectF:
        grid = self._grid()
        w = grid.width() / 24
        h = grid.height() / 7
        return QRectF(
            grid.left() + hour * w + _GAP / 2,
            grid.top() + weekday * h + _GAP / 2,
            w - _GAP,
            h - _GAP,
        )

    def cell_at(self, pos: QPoint) -> tuple[int, int] | None:
        grid = self._grid()
        if not grid.contains(pos) or grid.width() <= 0 or grid.height() <= 0:
            return None
        hour = int((pos.x() - grid.left()) * 24 / grid.width())
        weekday = int((pos.y() - grid.top()) * 7 / grid.height())
        if 0 <= hour < 24 and 0 <= weekday < 7:
            return weekday, hour
        return None

    def cell_center(self, weekday: int, hour: int) -> QPoint:
        return self._cell_rect(weekday, hour).center().toPoint()

    # ------------------------------------------------------------ events

    def event(self, ev: object) -> bool:
        if isinstance(ev, QHelpEvent):
            cell = self.cell_at(ev.pos())
            if cell is None:
                QToolTip.hideText()
            else:
                QToolTip.showText(ev.globalPos(), self.cell_text(*cell), self)
            return True
        return super().event(ev)  # type: ignore[arg-type]

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        cell = self.cell_at(event.position().toPoint())
        if cell != self._hover:
            self._hover = cell
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: object) -> None:
        self._hover = None
        self.update()
        super().leaveEvent(event)  # type: ignore[arg-type]

    # ------------------------------------------------------------ painting

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        scale = Scale.from_palette(self.palette())
        dim = readable(
            QColor(self.palette().color(self.palette().ColorRole.PlaceholderText)),
            self.palette().color(self.palette().ColorRole.Window),
        )
        font = QFont(self.font())
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        grid = self._grid()

        painter.setFont(small)
        painter.setPen(dim)
        for hour in range(0, 24, 3):
            r = self._cell_rect(0, hour)
            painter.drawText(
                QRectF(r.left() - 4, 2, r.width() + 30, _TOP - 4),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                f"{hour:02d}:00",
            )
        painter.setFont(font)
        painter.setPen(self.palette().color(self.palette().ColorRole.WindowText))
        for day in range(7):
            r = self._cell_rect(day, 0)
            painter.drawText(
                QRectF(0, r.top(), _LEFT - 8, r.height()),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                DAY_LABELS[day],
            )

        best = self.best_cell()
        painter.setFont(small)
        radius = 3.0
        for day in range(7):
            for hour in range(24):
                r = self._cell_rect(day, hour)
                slot = self._cells.get((day, hour))
                if slot is None:
                    pen = QPen(scale.empty_edge, 1.0, Qt.PenStyle.DotLine)
                    painter.setPen(pen)
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), radius, radius)
                else:
                    fill = scale.fill(slot.score)
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(fill)
                    painter.drawRoundedRect(r, radius, radius)
                    if r.width() >= 16 and r.height() >= 14:
                        painter.setPen(scale.text_on(fill))
                        painter.drawText(r, Qt.AlignmentFlag.AlignCenter, str(slot.posts))
                if (day, hour) == best:
                    painter.setPen(QPen(scale.ring, 2.0))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRoundedRect(r.adjusted(-1, -1, 1, 1), radius + 1, radius + 1)
                if (day, hour) == self._hover:
                    painter.setPen(QPen(scale.ring, 1.0))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRoundedRect(r, radius, radius)
        self._paint_legend(painter, scale, dim, grid)
        painter.end()

    def _paint_legend(self, painter: QPainter, scale: Scale, dim: QColor, grid: QRect) -> None:
        y = grid.bottom() + 12
        h = 12
        x = float(grid.left())
        painter.setPen(dim)
        metrics = painter.fontMetrics()

        def words(text: str) -> None:
            nonlocal x
            width = metrics.horizontalAdvance(text)
            painter.setPen(dim)
            painter.drawText(
                QRectF(x, y - 3, width + 2, h + 6), Qt.AlignmentFlag.AlignVCenter, text
            )
            x += width + 8

        words("worse than usual")
        bar = QRectF(x, y, 150, h)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for at, score in ((0.0, 0.5), (0.33, 0.999), (0.34, 1.0), (1.0, 2.0)):
            gradient.setColorAt(at, scale.fill(score))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(QPen(scale.ring, 1.0))
        tick = bar.left() + bar.width() * 0.335
        painter.drawLine(int(tick), int(bar.top()) - 2, int(tick), int(bar.bottom()) + 2)
        x = bar.right() + 8
        words("better than usual")
        x += 10
        empty = QRectF(x, y, 16, h)
        painter.setPen(QPen(scale.empty_edge, 1.0, Qt.PenStyle.DotLine))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(empty, 3, 3)
        x = empty.right() + 6
        words("no posts yet")
        x += 10
        ring = QRectF(x, y, 16, h)
        painter.setPen(QPen(scale.ring, 2.0))
        painter.drawRoundedRect(ring, 3, 3)
        x = ring.right() + 6
        words("best hour · the number is how many posts")
