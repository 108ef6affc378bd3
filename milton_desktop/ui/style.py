"""Colours and labels for statuses and platforms, declared once for every UI module.

The calendar chips, the list view, the upcoming panel and the drafts pane all read
this module, so a status looks the same wherever it appears.

Every colour a painter uses comes from a :class:`Theme`, derived from the widget's
palette (:func:`theme_for`): a dark desktop gets dark cells and light text without a
second table to keep in step. Text colours are checked against the background they
are drawn on and nudged until they reach WCAG's 4.5:1, so a user palette with odd
colours still reads. :meth:`Theme.text_pairs` lists every text/background pair by
state, and :func:`recording_text` records the pairs painters really draw, which is
what the contrast test checks in a light and a dark palette.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap

from milton_desktop.domain.status import Status

#: status -> strong colour (chip edge, list dot); hex so non-Qt code could read it too.
#: A theme adjusts them to its background; these are the light-theme originals.
STATUS_COLORS: dict[str, str] = {
    Status.PENDING: "#2563eb",  # blue
    Status.PUBLISHING: "#d99a00",  # amber
    Status.PUBLISHED: "#16a34a",  # green
    Status.FAILED: "#dc2626",  # red
    Status.UNCERTAIN: "#ea580c",  # orange
    Status.MISSED: "#7d6e9e",  # grey-purple
    Status.CANCELLED: "#9ca3af",  # grey
    Status.AWAITING_APPROVAL: "#0f8a8a",  # teal: waits for a member, nothing went wrong
}

STATUS_LABELS: dict[str, str] = {
    Status.PENDING: "Pending",
    Status.PUBLISHING: "Publishing",
    Status.PUBLISHED: "Published",
    Status.FAILED: "Failed",
    Status.UNCERTAIN: "Uncertain",
    Status.MISSED: "Missed",
    Status.CANCELLED: "Cancelled",
    Status.AWAITING_APPROVAL: "Awaiting approval",
}

#: a one-character mark drawn on chips so a status never depends on colour alone
STATUS_MARKS: dict[str, str] = {
    Status.PUBLISHING: "↑",
    Status.PUBLISHED: "✓",
    Status.FAILED: "!",
    Status.UNCERTAIN: "?",
    Status.MISSED: "◷",
    Status.CANCELLED: "✕",
    Status.AWAITING_APPROVAL: "⚐",  # a flag waiting to be raised (in the common fonts)
}

#: drawn on the chip of a post that repeats
REPEAT_MARK = "↻"

#: WCAG 2 AA for normal text; every text colour a painter uses reaches it
MIN_TEXT_CONTRAST = 4.5
#: WCAG 2 AA for the parts of a control that carry meaning (badges, edges)
MIN_SHAPE_CONTRAST = 3.0

# The light set, kept for code that has no palette at hand (and for older callers).
# Painters take their colours from theme_for(widget.palette()) instead.
ACCENT = "#2563eb"
TEXT = "#1f2328"
TEXT_DIM = "#5f6470"
GRID_LINE = "#e1e4e8"
GRID_LINE_SOFT = "#f0f1f3"
OUTSIDE_MONTH_BG = "#f6f7f9"
TODAY_BG = "#f5f8ff"
PAST_BG = "#fafafb"
GAP_HATCH = "#d5d8dd"
NOW_LINE = "#e11d48"


# ---------------------------------------------------------------- colour arithmetic


def _channel(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: QColor) -> float:
    """WCAG relative luminance of ``color`` (0 black … 1 white), alpha ignored."""
    return (
        0.2126 * _channel(color.redF())
        + 0.7152 * _channel(color.greenF())
        + 0.0722 * _channel(color.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours, 1 … 21."""
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way to ``b`` (0 gives ``a``, 1 gives ``b``)."""
    return QColor(
        round(a.red() + (b.red() - a.red()) * t),
        round(a.green() + (b.green() - a.green()) * t),
        round(a.blue() + (b.blue() - a.blue()) * t),
    )


#: readable()'s answers: a paint asks the same few questions for every cell and chip
_readable: dict[tuple[int, tuple[int, ...], float], int] = {}


def readable(fg: QColor, *backgrounds: QColor, ratio: float = MIN_TEXT_CONTRAST) -> QColor:
    """``fg``, or the nearest shade of it that reaches ``ratio`` on every background.

    The shade moves towards black on light backgrounds and towards white on dark
    ones, so a brand or status colour keeps its hue as far as contrast allows.
    """
    key = (fg.rgba(), tuple(bg.rgba() for bg in backgrounds), ratio)
    known = _readable.get(key)
    if known is None:
        if len(_readable) > 4096:
            _readable.clear()
        known = _readable[key] = _readable_shade(fg, backgrounds, ratio).rgba()
    return QColor.fromRgba(known)


def _readable_shade(fg: QColor, backgrounds: tuple[QColor, ...], ratio: float) -> QColor:
    if all(contrast(fg, bg) >= ratio for bg in backgrounds):
        return QColor(fg)
    darkest = min(backgrounds, key=luminance)
    lightest = max(backgrounds, key=luminance)
    # Away from the backgrounds: darker than the darkest or lighter than the lightest.
    towards_black = contrast(QColor("#000000"), darkest) >= contrast(QColor("#ffffff"), lightest)
    target = QColor("#000000") if towards_black else QColor("#ffffff")
    lo, hi = 0.0, 1.0
    for _ in range(14):
        t = (lo + hi) / 2
        if all(contrast(mix(fg, target, t), bg) >= ratio for bg in backgrounds):
            hi = t
        else:
            lo = t
    return mix(fg, target, hi)


def is_dark(palette: QPalette) -> bool:
    """Whether ``palette`` is a dark one (light text on a dark window)."""
    return luminance(palette.color(QPalette.ColorRole.Window)) < 0.25


def platform_color(platform: str) -> QColor:
    """A platform's brand colour from its descriptor; a platform this version does not
    know (a newer database) gets a steady colour of its own from a hash of its name."""
    from milton_desktop.publishers import registry  # the start-up frame paints without it

    found = registry.find(platform)
    if found is not None and found.colour:
        return QColor(found.colour)
    hue = zlib.crc32(platform.encode("utf-8")) % 360
    return QColor.fromHsl(hue, 150, 110)


# ---------------------------------------------------------------- recording what is drawn


@dataclass(frozen=True)
class TextUse:
    """One text colour a painter drew, on the background it drew it on."""

    role: str
    fg: str
    bg: str

    @property
    def ratio(self) -> float:
        return contrast(QColor(self.fg), QColor(self.bg))


_recorders: list[set[TextUse]] = []


@contextmanager
def recording_text() -> Iterator[set[TextUse]]:
    """Collect every :func:`text_on` call made inside the block (what tests check)."""
    uses: set[TextUse] = set()
    _recorders.append(uses)
    try:
        yield uses
    finally:
        _recorders.remove(uses)


def text_on(fg: QColor, bg: QColor, role: str) -> QColor:
    """``fg`` as the pen for text drawn on ``bg``; recorded when a test is listening."""
    if _recorders:
        use = TextUse(role, QColor(fg).name(), QColor(bg).name())
        for uses in _recorders:
            uses.add(use)
    return fg


# ---------------------------------------------------------------- the theme


@dataclass(frozen=True)
class CellState:
    """What a calendar cell (a month day, a time-grid slot) is, for its background."""

    today: bool = False
    past: bool = False
    weekend: bool = False
    outside: bool = False  # a day of the previous or next month in a month grid


@dataclass(frozen=True)
class ChipColors:
    """Everything a chip of one platform in one status is painted with."""

    fill: QColor
    edge: QColor
    text: QColor
    mark: QColor
    badge: QColor
    badge_text: QColor


@dataclass(frozen=True, eq=False)
class Theme:
    """The colours of the calendar surfaces and panes, derived from one palette."""

    dark: bool
    base: QColor
    window: QColor
    text: QColor
    text_dim: QColor
    accent: QColor
    on_accent: QColor
    grid_line: QColor
    grid_soft: QColor
    hatch: QColor
    now_line: QColor
    danger: QColor
    focus: QColor
    hover_fill: QColor
    _chips: dict[tuple[str, str, bool], ChipColors] = field(default_factory=dict)
    _cells: dict[CellState, QColor] = field(default_factory=dict)

    @classmethod
    def from_palette(cls, palette: QPalette) -> Theme:
        role = QPalette.ColorRole
        base = QColor(palette.color(role.Base))
        window = QColor(palette.color(role.Window))
        dark = is_dark(palette)
        text = readable(palette.color(role.Text), base)
        # Text on the accent (the today pill) keeps the palette's highlighted-text
        # colour; where that does not read, the accent darkens (or lightens) instead.
        on_accent = QColor(palette.color(role.HighlightedText))
        accent = readable(palette.color(role.Highlight), on_accent)
        on_accent = readable(on_accent, accent)
        theme = cls(
            dark=dark,
            base=base,
            window=window,
            text=text,
            # Dim, not faint: half-way to the base, then as dark (or light) as 4.5:1 needs
            # on the most shaded cell it is drawn on.
            text_dim=text,  # placeholder, set below once the cells exist
            accent=accent,
            on_accent=on_accent,
            grid_line=mix(base, text, 0.16 if dark else 0.12),
            grid_soft=mix(base, text, 0.08 if dark else 0.055),
            hatch=mix(base, text, 0.25),
            now_line=readable(QColor(NOW_LINE), base, ratio=MIN_SHAPE_CONTRAST),
            danger=readable(QColor(STATUS_COLORS[Status.FAILED]), base, ratio=MIN_SHAPE_CONTRAST),
            focus=readable(accent, base, ratio=MIN_SHAPE_CONTRAST),
            hover_fill=mix(base, text, 0.06),
        )
        shaded = [theme.cell_bg(CellState(past=True, weekend=True, outside=True))]
        shaded += [theme.cell_bg(CellState(today=True, weekend=True)), base, window]
        object.__setattr__(theme, "text_dim", readable(mix(text, base, 0.45), *shaded))
        return theme

    # -- cells

    def cell_bg(self, state: CellState) -> QColor:
        """A cell's background: today tinted with the accent; weekends, past days and the
        days of other months each a step further from the base."""
        bg = self._cells.get(state)
        if bg is None:
            start = mix(self.base, self.accent, 0.16 if self.dark else 0.07)
            bg = start if state.today else QColor(self.base)
            if self.dark:
                # On a dark base a shade towards black hardly shows: weekends lift a
                # little towards the text, old and other months' days sink.
                if state.weekend:
                    bg = mix(bg, self.text, 0.045)
                sink = (0.18 if state.past else 0.0) + (0.3 if state.outside else 0.0)
                if sink:
                    bg = mix(bg, QColor("#000000"), sink)
            else:
                k = 0.0
                k += 0.035 if state.weekend else 0.0
                k += 0.025 if state.past else 0.0
                k += 0.05 if state.outside else 0.0
                if k:
                    bg = mix(bg, QColor("#000000"), k)
            self._cells[state] = bg
        return bg

    def day_text(self, state: CellState) -> QColor:
        """The day number on a cell: dim on other months' days, full text otherwise."""
        bg = self.cell_bg(state)
        return readable(self.text_dim if state.outside else self.text, bg)

    # -- chips

    def status_edge(self, status: str) -> QColor:
        """The strong status colour (a chip's edge, a list dot) for this background."""
        hexa = STATUS_COLORS.get(status, "#6b7280")
        color = QColor(hexa)
        if self.dark:
            color = mix(color, QColor("#ffffff"), 0.15)
        return readable(color, self.base, ratio=MIN_SHAPE_CONTRAST)

    def chip(self, platform: str, status: str, *, muted: bool = False) -> ChipColors:
        """A chip's colours: tinted by its channel, edged and marked by its status.

        ``muted`` is a chip on another month's day: paler, still readable.
        """
        key = (platform, status, muted)
        found = self._chips.get(key)
        if found is not None:
            return found
        brand = platform_color(platform)
        cancelled = status == Status.CANCELLED
        if cancelled:
            fill = mix(self.base, self.text, 0.07)
        else:
            fill = mix(self.base, brand, 0.30 if self.dark else 0.13)
            # A brand as dark as the base (X's near-black on a dark theme) would leave
            # the chip invisible: lift it towards the text until it shows.
            t = 0.0
            while contrast(fill, self.base) < 1.22 and t < 0.3:
                t += 0.02
                fill = mix(mix(self.base, brand, 0.30 if self.dark else 0.13), self.text, t)
        if muted:
            fill = mix(fill, self.base, 0.55)
        text = readable(self.text_dim if cancelled or muted else self.text, fill)
        edge = self.status_edge(status)
        mark = readable(edge, fill)
        badge = brand
        if cancelled or muted:
            badge = mix(brand, fill, 0.35)
        # The badge must stand out from the chip (X's black on a dark chip would not).
        badge = readable(badge, fill, ratio=MIN_SHAPE_CONTRAST)
        white, black = QColor("#ffffff"), QColor("#111111")
        on_badge = white if contrast(white, badge) >= contrast(black, badge) else black
        colors = ChipColors(fill, edge, text, mark, badge, readable(on_badge, badge))
        self._chips[key] = colors
        return colors

    def badge(self, platform: str, bg: QColor | None = None) -> tuple[QColor, QColor]:
        """A platform badge's (background, glyph) colours on ``bg`` (the base by default)."""
        under = self.base if bg is None else bg
        badge = readable(platform_color(platform), under, ratio=MIN_SHAPE_CONTRAST)
        white, black = QColor("#ffffff"), QColor("#111111")
        glyph = white if contrast(white, badge) >= contrast(black, badge) else black
        return badge, readable(glyph, badge)

    # -- what the contrast test enumerates

    def text_pairs(self, platforms: tuple[str, ...] = ()) -> dict[str, tuple[QColor, QColor]]:
        """Every text colour this theme hands out, with its background, by state."""
        from milton_desktop.publishers import registry

        names = platforms or (*registry.names(), "futurenet")
        pairs: dict[str, tuple[QColor, QColor]] = {}
        statuses = [*STATUS_LABELS]
        for platform in names:
            for status in statuses:
                for muted in (False, True):
                    c = self.chip(platform, status, muted=muted)
                    tag = f"{platform} {status}{' outside month' if muted else ''}"
                    pairs[f"chip text · {tag}"] = (c.text, c.fill)
                    pairs[f"chip status mark · {tag}"] = (c.mark, c.fill)
                    pairs[f"chip badge · {tag}"] = (c.badge_text, c.badge)
            bg, glyph = self.badge(platform)
            pairs[f"badge · {platform}"] = (glyph, bg)
        for today in (False, True):
            for past in (False, True):
                for weekend in (False, True):
                    for outside in (False, True):
                        state = CellState(today, past, weekend, outside)
                        bg = self.cell_bg(state)
                        name = ", ".join(
                            n
                            for n, on in (
                                ("today", today),
                                ("past", past),
                                ("weekend", weekend),
                                ("outside month", outside),
                            )
                            if on
                        )
                        pairs[f"day number · {name or 'plain'}"] = (self.day_text(state), bg)
                        pairs[f"more link · {name or 'plain'}"] = (self.link_on(bg), bg)
        pairs["today pill"] = (self.on_accent, self.accent)
        pairs["heading"] = (self.text, self.base)
        pairs["dim text"] = (self.text_dim, self.base)
        pairs["dim text · window"] = (self.text_dim, self.window)
        pairs["draft title"] = (self.text, self.base)
        pairs["draft details"] = (self.text_dim, self.base)
        pairs["draft title · hover"] = (self.text, self.hover_fill)
        pairs["draft details · hover"] = (self.text_dim, self.hover_fill)
        pairs["hour label"] = (self.text_dim, self.base)
        pairs["drop label"] = (self.on_accent, self.accent)
        pairs["drop label · refused"] = (self.on_danger, self.danger)
        return pairs

    def link_on(self, bg: QColor) -> QColor:
        """Link-coloured text ("+3 more") on ``bg``."""
        return readable(self.accent, bg)

    @property
    def on_danger(self) -> QColor:
        white, black = QColor("#ffffff"), QColor("#111111")
        best = white if contrast(white, self.danger) >= contrast(black, self.danger) else black
        return readable(best, self.danger)


def _palette_key(palette: QPalette) -> tuple[int, ...]:
    role = QPalette.ColorRole
    return tuple(
        palette.color(r).rgba()
        for r in (role.Base, role.Window, role.Text, role.Highlight, role.HighlightedText)
    )


_themes: dict[tuple[int, ...], Theme] = {}


def theme_for(palette: QPalette | None = None) -> Theme:
    """The theme of ``palette`` (the application's when None), made once per palette."""
    if palette is None:
        palette = QGuiApplication.palette()
    key = _palette_key(palette)
    theme = _themes.get(key)
    if theme is None:
        if len(_themes) > 32:  # palettes come and go in tests; keep the cache small
            _themes.clear()
        theme = _themes[key] = Theme.from_palette(palette)
    return theme


def dark_palette() -> QPalette:
    """A dark palette in the Fusion style's spirit (screenshots, tests, a dark preference)."""
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    colors = {
        role.Window: "#2b2d31",
        role.WindowText: "#e8e9eb",
        role.Base: "#1f2023",
        role.AlternateBase: "#26282c",
        role.ToolTipBase: "#2b2d31",
        role.ToolTipText: "#e8e9eb",
        role.PlaceholderText: "#9a9ea6",
        role.Text: "#e8e9eb",
        role.Button: "#33363b",
        role.ButtonText: "#e8e9eb",
        role.BrightText: "#ff6b6b",
        role.Light: "#3f4248",
        role.Midlight: "#383b40",
        role.Mid: "#45484e",
        role.Dark: "#18191b",
        role.Shadow: "#0b0b0c",
        role.Highlight: "#3b82f6",
        role.HighlightedText: "#ffffff",
        role.Link: "#7aa7ff",
        role.LinkVisited: "#b195ff",
    }
    for r, hexa in colors.items():
        p.setColor(r, QColor(hexa))
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, r, QColor("#7d8088"))
    return p


def light_palette() -> QPalette:
    """A light palette to set back after :func:`dark_palette` (Fusion's own colours)."""
    from PySide6.QtWidgets import QStyleFactory

    fusion = QStyleFactory.create("Fusion")
    return fusion.standardPalette() if fusion is not None else QPalette()


# ---------------------------------------------------------------- platforms and statuses


@dataclass(frozen=True)
class PlatformStyle:
    """How a platform is shown: full label, a short glyph for chips, a brand colour."""

    label: str
    short: str
    color: str


def platform_style(platform: str) -> PlatformStyle:
    """The style of ``platform``; an unknown one (a newer database) still gets a readable badge."""
    from milton_desktop.publishers import registry  # the start-up frame paints without it

    found = registry.find(platform)
    if found is not None:
        return PlatformStyle(found.label, found.short, found.colour)
    return PlatformStyle(
        platform.capitalize() or "?", (platform[:2] or "?").upper(), platform_color(platform).name()
    )


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
    """A light tint of the status colour (light theme; painters use :meth:`Theme.chip`)."""
    return QColor(_blend(STATUS_COLORS.get(status, "#6b7280"), 0.16))


def badge_font(base: QFont) -> QFont:
    """The small bold font of platform badges, derived from the widget's font."""
    f = QFont(base)
    f.setBold(True)
    f.setPointSizeF(max(6.5, base.pointSizeF() * 0.78))
    return f


def paint_platform_badge(
    painter: QPainter,
    rect: QRectF,
    platform: str,
    colors: tuple[QColor, QColor] | None = None,
) -> None:
    """A rounded badge with the platform's short glyph; ``colors`` is (badge, glyph),
    by default the brand colour with whichever of white or black reads on it."""
    ps = platform_style(platform)
    bg, glyph = colors if colors is not None else theme_for().badge(platform)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(bg)
    radius = min(rect.height(), rect.width()) * 0.28
    painter.drawRoundedRect(rect, radius, radius)
    painter.setPen(text_on(glyph, bg, f"badge · {platform}"))
    painter.setFont(badge_font(painter.font()))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, ps.short)
    painter.restore()


def platform_dot(platform: str) -> QIcon:
    """A small disc in the platform's colour, so rows can be told apart at a glance;
    on a dark palette a dark brand colour (X's black) lightens until the disc shows."""
    return _dot(theme_for().badge(platform)[0].name())


@cache
def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
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


def dim_label(label: object) -> None:
    """Colour a QLabel's text dim, from its own palette (readable in light and dark)."""
    from PySide6.QtWidgets import QLabel

    if not isinstance(label, QLabel):
        raise TypeError("dim_label expects a QLabel")
    palette = label.palette()
    theme = theme_for(palette)
    palette.setColor(QPalette.ColorRole.WindowText, theme.text_dim)
    label.setPalette(palette)
