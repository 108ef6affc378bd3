"""Colours for words that mean something (an error, a warning, done), chosen by the palette.

A red that reads well on white is too dark on a dark theme, so each meaning has a
light and a dark variant and the widget's palette picks one; dim text and links come
from the palette itself, corrected where it would fall under a 4.5:1 contrast.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette

from milton_desktop.ui.style import MIN_TEXT_CONTRAST, contrast, luminance, mix, readable

#: meaning -> (on a light background, on a dark background)
_TONES: dict[str, tuple[str, str]] = {
    "error": ("#b3261e", "#ff8a80"),
    "warning": ("#8a5a00", "#ffcc66"),
    "ok": ("#1b7f3b", "#7ee2a0"),
}

# the arithmetic is style's: one definition of contrast for the whole window
MIN_CONTRAST = MIN_TEXT_CONTRAST
__all__ = [
    "MIN_CONTRAST",
    "background",
    "contrast",
    "dim",
    "is_dark",
    "legible_disabled",
    "link",
    "mix",
    "readable",
    "tone",
]


def background(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    return palette.color(role)


def is_dark(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> bool:
    """Whether the palette's ``role`` background is dark (a dark theme)."""
    return luminance(palette.color(role)) < 0.2


def tone(
    palette: QPalette, meaning: str, role: QPalette.ColorRole = QPalette.ColorRole.Window
) -> QColor:
    """The colour for ``meaning`` (error, warning, ok) on the palette's ``role`` background."""
    light, dark = _TONES[meaning]
    return readable(QColor(dark if is_dark(palette, role) else light), palette.color(role))


def dim(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Window) -> QColor:
    """Secondary text: the palette's placeholder colour, made readable on ``role``."""
    return readable(palette.color(QPalette.ColorRole.PlaceholderText), palette.color(role))


def link(palette: QPalette, role: QPalette.ColorRole = QPalette.ColorRole.Base) -> QColor:
    """The palette's link colour, made readable on ``role``."""
    return readable(palette.color(QPalette.ColorRole.Link), palette.color(role))


def legible_disabled(palette: QPalette) -> QPalette:
    """``palette`` with disabled text dim but readable (4.5:1) on a menu's background.

    Menus use disabled entries for words the user needs: a post's problem above its
    choices, why an account cannot take a post, the next post in the tray. Qt's
    disabled grey is made to look switched off (under 2:1 on a light menu), so
    those lines get the palette's secondary text colour instead: still dimmer
    than a choice, and readable.
    """
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    base, window = palette.color(role.Base), palette.color(role.Window)
    # Fusion paints menus a shade off the base; the window colour covers other styles.
    backgrounds = (base, base.lighter(108), window)
    colour = readable(mix(palette.color(role.Text), base, 0.45), *backgrounds)
    fixed = QPalette(palette)
    for r in (role.Text, role.WindowText, role.ButtonText):
        fixed.setColor(group.Disabled, r, colour)
    return fixed
