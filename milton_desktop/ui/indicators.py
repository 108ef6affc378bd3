"""Check boxes and radio buttons that stay visible on a dark palette.

Qt's Fusion style outlines an unticked box with the window colour made darker; on a
dark palette that outline is as dark as the box, so "Publish to", "Show cancelled"
and every radio button vanish until ticked. A proxy style draws the indicator as the
style does, then outlines it in a colour read from the palette that stands out from
the background (3:1, what WCAG asks of a control's edge). On a light palette, and for
styles that draw their own visible edges, nothing changes.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleOption, QWidget

from milton_desktop.ui import style

_OUTLINED = (
    QStyle.PrimitiveElement.PE_IndicatorCheckBox,
    QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck,
    QStyle.PrimitiveElement.PE_IndicatorRadioButton,
)


class ReadableIndicators(QProxyStyle):
    """The current style, with an edge on check and radio indicators on dark palettes."""

    def drawPrimitive(
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _OUTLINED or not style.is_dark(option.palette):
            return
        palette: QPalette = option.palette
        edge = edge_colour(palette)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(edge, 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 2.0, 2.0)
        painter.restore()


def edge_colour(palette: QPalette) -> QColor:
    """The indicator's edge: the palette's mid tone, moved until it shows. It aims
    at 4.5:1 so that a thin antialiased edge still reaches 3:1 where it is drawn."""
    return style.readable(
        palette.color(QPalette.ColorRole.Mid),
        palette.color(QPalette.ColorRole.Window),
        palette.color(QPalette.ColorRole.Base),
        ratio=style.MIN_TEXT_CONTRAST,
    )


def install(app: QApplication) -> None:
    """Wrap the application's style, once (again after a ``setStyle``)."""
    if not isinstance(app.style(), ReadableIndicators):
        app.setStyle(ReadableIndicators(app.style().name()))
