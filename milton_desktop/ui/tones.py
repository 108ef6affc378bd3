"""Colours for words that mean something (an error, a warning, done), chosen by the palette.

A red that reads well on white is too dark on a dark theme, so each meaning has a
light and a dark variant and the widget's palette picks one; dim text and links come
from the palette itself, corrected where it would fall under a 4.5:1 contrast.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

#: meaning -> (on a light background, on a dark background)
_TONES: dict[str, tuple[str, str]] = {
    "error": ("#b3261e", "#ff8a80"),
    "warning": ("#8a5a00", "#ffcc66"),
    "ok": ("#1b7f3b", "#7ee2a0"),
}

#: the contrast WCAG asks of body text
MIN_CONTRAST = 4.5


def _luminance(colour: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.redF())
        + 0.7152 * channel(colour.greenF())
        + 0.0722 * channel(colour.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = _luminance(a), _luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def background(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    return palette.color(role)


def is_dark(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> bool:
    """Whether the palette's ``role`` background is dark (a dark theme)."""
    return _luminance(palette.color(role)) < 0.2


def tone(
    palette: QPalette, meaning: str, role: QPalette.ColorRole = QPalette.ColorRole.Window
) -> QColor:
    """The colour for ``meaning`` (error, warning, ok) on the palette's ``role`` background."""
    light, dark = _TONES[meaning]
    return readable(QColor(dark if is_dark(palette, role) else light), palette.color(role))


def readable(colour: QColor, on: QColor) -> QColor:
    """``colour``, moved towards black or white until it reads on ``on`` (4.5:1)."""
    if contrast(colour, on) >= MIN_CONTRAST:
        return QColor(colour)
    towards = QColor("#000000") if _luminance(on) > 0.18 else QColor("#ffffff")
    c = QColor(colour)
    for step in range(1, 21):
        t = step / 20
        c = QColor.fromRgbF(
            colour.redF() + (towards.redF() - colour.redF()) * t,
            colour.greenF() + (towards.greenF() - colour.greenF()) * t,
            colour.blueF() + (towards.blueF() - colour.blueF()) * t,
        )
        if contrast(c, on) >= MIN_CONTRAST:
            break
    return c


def dim(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    """Secondary text: the palette's placeholder colour, made readable on ``role``."""
    return readable(palette.color(QPalette.ColorRole.PlaceholderText), palette.color(role))


def link(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Base) -> QColor:
    """The palette's link colour, made readable on ``role``."""
    return readable(palette.color(QPalette.ColorRole.Link), palette.color(role))


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` (0..1) of the way to ``b``: tints for panels and borders."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * t,
        a.greenF() + (b.greenF() - a.greenF()) * t,
        a.blueF() + (b.blueF() - a.blueF()) * t,
    )
