"""A post's interactions over its snapshots, as a tiny line in a table cell."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPointF, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from milton_desktop.ui.style import MIN_SHAPE_CONTRAST, readable

#: the model role carrying a post's [(taken at, interactions), ...], oldest first
HISTORY_ROLE = Qt.ItemDataRole.UserRole + 20


def points(history: list[tuple[datetime, int]], rect: QRect) -> list[QPointF]:
    """``history`` placed in ``rect``: time across (by instant, so a week-late snapshot
    sits far right), interactions up, from zero."""
    if not history:
        return []
    t0 = history[0][0].timestamp()
    span = max(1.0, history[-1][0].timestamp() - t0)
    top = max(1, max(v for _t, v in history))
    out = []
    for at, value in history:
        x = rect.left() + (at.timestamp() - t0) / span * rect.width()
        y = rect.bottom() - value / top * rect.height()
        out.append(QPointF(x, y))
    if len(out) == 1:  # one snapshot: a level stroke says "one figure so far"
        out = [QPointF(rect.left(), out[0].y()), QPointF(rect.right(), out[0].y())]
    return out


def paint_sparkline(
    painter: QPainter, rect: QRect, history: list[tuple[datetime, int]], colour: QColor
) -> None:
    pts = points(history, rect)
    if not pts:
        return
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath(pts[0])
    for p in pts[1:]:
        path.lineTo(p)
    area = QPainterPath(path)
    area.lineTo(QPointF(pts[-1].x(), rect.bottom()))
    area.lineTo(QPointF(pts[0].x(), rect.bottom()))
    area.closeSubpath()
    soft = QColor(colour)
    soft.setAlphaF(0.18)
    painter.fillPath(area, soft)
    painter.setPen(QPen(colour, 1.6))
    painter.drawPath(path)
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    if len(history) > 1:
        painter.drawEllipse(pts[-1], 2.2, 2.2)
    painter.restore()


class SparklineDelegate(QStyledItemDelegate):
    """Paints :data:`HISTORY_ROLE` as a sparkline in the accent colour."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        super().paint(painter, option, index)
        history = index.data(HISTORY_ROLE) or []
        rect: QRect = option.rect.adjusted(6, 5, -8, -5)
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole
        bg = palette.color(role.Highlight if selected else role.Base)
        colour = (
            palette.color(role.HighlightedText)
            if selected
            else readable(palette.color(role.Highlight), bg, ratio=MIN_SHAPE_CONTRAST)
        )
        paint_sparkline(painter, rect, history, colour)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return QSize(96, 26)
