"""Colours and labels for statuses and platforms, declared once for every UI module.

The calendar chips, the list view, the upcoming panel and the drafts pane all read
this table, so a status looks the same wherever it appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from milton_desktop.domain.status import Status
from milton_desktop.publishers import registry

#: status -> strong colour (chip edge, list dot); hex so non-Qt code could read it too
STATUS_COLORS: dict[str, str] = {
    Status.PENDING: "#2563eb",  # blue
    Status.PUBLISHING: "#d99a00",  # amber
    Status.PUBLISHED: "#16a34a",  # green
    Status.FAILED: "#dc2626",  # red
    Status.UNCERTAIN: "#ea580c",  # orange
    Status.MISSED: "#7d6e9e",  # grey-purple
    Status.CANCELLED: "#9ca3af",  # grey
}

STATUS_LABELS: dict[str, str] = {
    Status.PENDING: "Pending",
    Status.PUBLISHING: "Publishing",
    Status.PUBLISHED: "Published",
    Status.FAILED: "Failed",
    Status.UNCERTAIN: "Uncertain",
    Status.MISSED: "Missed",
    Status.CANCELLED: "Cancelled",
}

#: a one-character mark drawn on chips so a status never depends on colour alone
STATUS_MARKS: dict[str, str] = {
    Status.PUBLISHING: "↑",
    Status.PUBLISHED: "✓",
    Status.FAILED: "!",
    Status.UNCERTAIN: "?",
    Status.MISSED: "◷",
}


# Neutral colours of the calendar surfaces.
ACCENT = "#2563eb"
TEXT = "#1f2328"
TEXT_DIM = "#8b8f96"
GRID_LINE = "#e1e4e8"
GRID_LINE_SOFT = "#f0f1f3"
OUTSIDE_MONTH_BG = "#f6f7f9"
TODAY_BG = "#f5f8ff"
PAST_BG = "#fafafb"
GAP_HATCH = "#d5d8dd"
NOW_LINE = "#e11d48"


@dataclass(frozen=True)
class PlatformStyle:
    """How a platform is shown: full label, a short glyph for chips, a brand colour."""

    label: str
    short: str
    color: str


def platform_style(platform: str) -> PlatformStyle:
    """The style of ``platform``; an unknown one (a newer database) still gets a readable badge."""
    found = registry.find(platform)
    if found is not None:
        return PlatformStyle(found.label, found.short, found.colour)
    return PlatformStyle(platform.capitalize() or "?", (platform[:2] or "?").upper(), "#6b7280")


def status_label(status: str) -> str:
    """The word shown to the user for ``status``."""
    return STATUS_LABELS.get(status, status.capitalize())


def status_color(status: str) -> QColor:
    """The strong colour of ``status`` (grey for a status this version does not know)."""
    return QColor(STATUS_COLORS.get(status, "#6b7280"))


@cache
def _blend(hex_color: str, alpha: float) -> str:
    c = QColor(hex_color)
    r = round(255 + (c.red() - 255) * alpha)
    g = round(255 + (c.green() - 255) * alpha)
    b = round(255 + (c.blue() - 255) * alpha)
    return QColor(r, g, b).name()


def status_fill(status: str) -> QColor:
    """A light tint of the status colour: a chip background dark text stays readable on."""
    return QColor(_blend(STATUS_COLORS.get(status, "#6b7280"), 0.16))


def badge_font(base: QFont) -> QFont:
    """The small bold font of platform badges, derived from the widget's font."""
    f = QFont(base)
    f.setBold(True)
    f.setPointSizeF(max(6.5, base.pointSizeF() * 0.78))
    return f


def paint_platform_badge(painter: QPainter, rect: QRectF, platform: str) -> None:
    """A rounded badge in the platform colour with its short glyph in white."""
    ps = platform_style(platform)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(ps.color))
    radius = min(rect.height(), rect.width()) * 0.28
    painter.drawRoundedRect(rect, radius, radius)
    painter.setPen(QColor("#ffffff"))
    painter.setFont(badge_font(painter.font()))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, ps.short)
    painter.restore()


@cache
def platform_dot(platform: str) -> QIcon:
    """A small disc in the platform's colour, so rows can be told apart at a glance."""
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(platform_style(platform).color))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


def platform_icon(platform: str, size: int = 16) -> QIcon:
    """The platform badge as an icon, for list rows, menus and the upcoming panel."""
    pm = QPixmap(size * 2, size * 2)  # drawn at 2x so it stays crisp on HiDPI screens
    pm.setDevicePixelRatio(2.0)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    font = painter.font()
    font.setPointSizeF(size * 0.62)
    painter.setFont(font)
    paint_platform_badge(painter, QRectF(0, 0, size, size), platform)
    painter.end()
    return QIcon(pm)


@cache
def status_icon(status: str, size: int = 12) -> QIcon:
    """A round dot in the status colour, for table cells and menus."""
    pm = QPixmap(size * 2, size * 2)
    pm.setDevicePixelRatio(2.0)
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(status_color(status))
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    painter.end()
    return QIcon(pm)
