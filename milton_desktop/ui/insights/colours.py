"""The heatmap's colour scale, from the palette: warm where posts did better than the
account's typical post, cool where they did worse, a neutral shade at typical, and no
fill at all where nothing was posted (so "no posts" never looks like "poor")."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette

from milton_desktop.ui.style import MIN_SHAPE_CONTRAST, is_dark, mix, readable

#: (light palette, dark palette)
_WARM = ("#d9480f", "#ff8f4d")
_COOL = ("#4f6d9a", "#7f9cc9")
#: a score this far from 1.0 gets the full colour (2× typical, or half of it)
SPAN_UP = 1.0
SPAN_DOWN = 0.5


@dataclass(frozen=True)
class Scale:
    base: QColor
    text: QColor
    neutral: QColor
    warm: QColor
    cool: QColor
    empty_edge: QColor
    ring: QColor

    @classmethod
    def from_palette(cls, palette: QPalette) -> Scale:
        role = QPalette.ColorRole
        base = QColor(palette.color(role.Base))
        text = QColor(palette.color(role.Text))
        dark = is_dark(palette)
        pick = 1 if dark else 0
        return cls(
            base=base,
            text=text,
            neutral=mix(base, text, 0.16 if dark else 0.12),
            warm=readable(QColor(_WARM[pick]), base, ratio=MIN_SHAPE_CONTRAST),
            cool=QColor(_COOL[pick]),
            empty_edge=mix(base, text, 0.22 if dark else 0.18),
            ring=text,
        )

    def fill(self, score: float) -> QColor:
        """The colour of a slot scored ``score`` (1.0: a typical post)."""
        if score >= 1.0:
            t = min(1.0, (score - 1.0) / SPAN_UP)
            return mix(self.neutral, self.warm, 0.15 + 0.85 * t if t > 0 else 0.0)
        t = min(1.0, (1.0 - score) / SPAN_DOWN)
        return mix(self.neutral, self.cool, 0.15 + 0.55 * t)

    def text_on(self, fill: QColor) -> QColor:
        """Readable text (a post count) on a cell of ``fill``."""
        white, black = QColor("#ffffff"), QColor("#1b1b1b")
        from milton_desktop.ui.style import contrast

        return white if contrast(white, fill) >= contrast(black, fill) else black
