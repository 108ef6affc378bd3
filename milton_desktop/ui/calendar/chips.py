"""How one scheduled post is painted on the calendar: a chip.

A chip is tinted by its channel (LinkedIn, X, Instagram, or whatever platform comes
next), edged and marked by its status (so status never rests on colour alone), and
shows as much of the post's first words as its size allows. One-line chips (month
cells, the "+N" popover) put everything on a line; taller chips (the week and day
grids) give the text lines of its own under the time.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen, QPixmap, QTextLayout

from milton_desktop.domain.status import Status
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem

#: the status edge along a chip's left side
EDGE = 4
#: bytes of painted chips kept for repainting (a month shows ~85 chips, a week ~130, a
#: day ~230 at 100 000 posts: 10–20 kB each)
CHIP_CACHE_BYTES = 16 * 1024 * 1024


def wrap_lines(text: str, font: QFont, width: int, max_lines: int) -> list[str]:
    """``text`` word-wrapped into at most ``max_lines`` lines, the last one elided."""
    if width <= 0 or max_lines <= 0 or not text:
        return []
    fm = QFontMetrics(font)
    lines: list[str] = []
    rest = text
    while rest and len(lines) < max_lines - 1:
        layout = QTextLayout(rest, font)
        layout.beginLayout()
        line = layout.createLine()
        if not line.isValid():
            layout.endLayout()
            break
        line.setLineWidth(width)
        cut = line.textStart() + line.textLength()
        layout.endLayout()
        if cut <= 0:
            break
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        lines.append(fm.elidedText(rest, Qt.TextElideMode.ElideRight, width))
    return [ln for ln in lines if ln]


class ChipPainter:
    """Paints schedule chips; fonts, badges and cut texts are made once, not per paint.

    Args:
        font: the surface's font; chips use it and a bold twin for times.
        theme: the colours, from the surface's palette (:func:`style.theme_for`).
    """

    def __init__(self, font: QFont, theme: style.Theme | None = None) -> None:
        self.theme = theme or style.theme_for()
        self.font = QFont(font)
        self.fm = QFontMetrics(self.font)
        self.time_font = QFont(font)
        self.time_font.setBold(True)
        self.time_fm = QFontMetrics(self.time_font)
        self.strike_font = QFont(font)
        self.strike_font.setStrikeOut(True)
        self.badge_font = style.badge_font(font)
        self.badge_fm = QFontMetrics(self.badge_font)
        #: a one-line chip
        self.height = self.fm.height() + 5
        #: a chip with the time on one line and the text on the next
        self.block_height = self.fm.height() * 2 + 8
        self.time_width = self.time_fm.horizontalAdvance("00:00")
        # Below this a cut text ("W…") says nothing; the tooltip has the text instead.
        self.min_text_width = self.fm.horizontalAdvance("Wxy…")
        #: the narrowest chip a time grid makes before it folds posts into "+N"
        self.min_block_width = max(self.time_width, self.min_text_width) + EDGE + 12
        #: the "+N" box of a time grid
        self.more_width = self.fm.horizontalAdvance("+99") + 12
        self._badges: dict[tuple[str, int, int, float, bool], QPixmap] = {}
        self._elided: dict[tuple[str, int], str] = {}
        self._wrapped: dict[tuple[str, int, int], list[str]] = {}
        self._badge_widths: dict[str, int] = {}
        #: whole chips as painted, keyed by everything that changes their look
        self._painted: dict[tuple[object, ...], tuple[QPixmap, list[str]]] = {}
        self._painted_bytes = 0

    def badge_width(self, platform: str) -> int:
        width = self._badge_widths.get(platform)
        if width is None:
            short = style.platform_style(platform).short
            width = max(self.height - 4, self.badge_fm.horizontalAdvance(short) + 8)
            self._badge_widths[platform] = width
        return width

    def _badge(self, it: ScheduleItem, w: int, h: int, dpr: float, muted: bool) -> QPixmap:
        key = (it.platform + "|" + it.status, w, h, dpr, muted)
        pm = self._badges.get(key)
        if pm is None:
            colors = self.theme.chip(it.platform, it.status, muted=muted)
            pm = QPixmap(round(w * dpr), round(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            bp = QPainter(pm)
            bp.setFont(self.font)
            style.paint_platform_badge(
                bp, QRectF(0, 0, w, h), it.platform, (colors.badge, colors.badge_text)
            )
            bp.end()
            self._badges[key] = pm
        if style._recorders:  # a cached badge was drawn before anyone listened
            colors = self.theme.chip(it.platform, it.status, muted=muted)
            style.text_on(colors.badge_text, colors.badge, f"chip badge · {it.platform}")
        return pm

    def _elide(self, text: str, width: int) -> str:
        key = (text, width)
        cut = self._elided.get(key)
        if cut is None:
            if len(self._elided) > 20_000:  # a long session of browsing: start afresh
                self._elided.clear()
            cut = self.fm.elidedText(text, Qt.TextElideMode.ElideRight, width)
            self._elided[key] = cut
        return cut

    def _wrap(self, text: str, width: int, lines: int) -> list[str]:
        key = (text, width, lines)
        cut = self._wrapped.get(key)
        if cut is None:
            if len(self._wrapped) > 5_000:
                self._wrapped.clear()
            cut = self._wrapped[key] = wrap_lines(text, self.font, width, lines)
        return cut

    def marks(self, it: ScheduleItem) -> str:
        """The glyphs at a chip's right end: a thread's follow-ups, repeats, then the
        status mark."""
        mark = style.STATUS_MARKS.get(it.status, "")
        thread = f"+{it.parts - 1}" if it.parts > 1 else ""  # the follow-ups after it
        return thread + (style.REPEAT_MARK if it.recurring else "") + mark

    def paint(
        self,
        p: QPainter,
        rect: QRectF,
        it: ScheduleItem,
        *,
        selected: bool = False,
        focused: bool = False,
        muted: bool = False,
        detail: str = "",
        show_time: bool = True,
    ) -> list[str]:
        """One chip, as :meth:`paint_direct` paints it; a chip painted before with the
        same look and size is drawn from a pixmap (a repaint after a drop, an outcome
        or a scroll redraws the same chips, and text layout is most of their cost)."""
        if style._recorders:  # a test is checking the colours each text is drawn in
            return self.paint_direct(
                p,
                rect,
                it,
                selected=selected,
                focused=focused,
                muted=muted,
                detail=detail,
                show_time=show_time,
            )
        dpr = p.device().devicePixelRatioF()
        # Where the chip starts inside its first pixel: painted there, so the blit lands
        # exactly where direct painting would have drawn it.
        left, top = math.floor(rect.left()), math.floor(rect.top())
        dx, dy = round((rect.left() - left) * 4) / 4, round((rect.top() - top) * 4) / 4
        key = (
            it.platform,
            it.status,
            it.time_label,
            it.short_text,
            it.parts,
            it.recurring,
            round(rect.width() * 4),
            round(rect.height() * 4),
            dx,
            dy,
            dpr,
            selected,
            focused,
            muted,
            detail,
            show_time,
        )
        hit = self._painted.pop(key, None)  # put back last: the least recently drawn go first
        if hit is None:
            w, h = math.ceil(dx + rect.width()) + 1, math.ceil(dy + rect.height()) + 1
            pm = QPixmap(round(w * dpr), round(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            cp = QPainter(pm)
            cp.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            drawn = self.paint_direct(
                cp,
                QRectF(dx, dy, rect.width(), rect.height()),
                it,
                selected=selected,
                focused=focused,
                muted=muted,
                detail=detail,
                show_time=show_time,
            )
            cp.end()
            self._painted_bytes += pm.width() * pm.height() * 4
            while self._painted and self._painted_bytes > CHIP_CACHE_BYTES:
                old = self._painted.pop(next(iter(self._painted)))[0]
                self._painted_bytes -= old.width() * old.height() * 4
            hit = (pm, drawn)
        self._painted[key] = hit
        p.drawPixmap(QPointF(left, top), hit[0])
        return list(hit[1])

    def paint_direct(
        self,
        p: QPainter,
        rect: QRectF,
        it: ScheduleItem,
        *,
        selected: bool = False,
        focused: bool = False,
        muted: bool = False,
        detail: str = "",
        show_time: bool = True,
    ) -> list[str]:
        """One chip: channel tint, status edge, platform badge, time, text, marks.

        Returns the texts drawn, left to right and top to bottom (what a user can read
        on the chip at this size).

        ``muted`` paints a chip of another month's day; ``detail`` (the account, in the
        day view) goes before the text; ``show_time`` False leaves the time out (a drag
        pixmap: the time it would show is the old one). Expects an antialiased painter
        and leaves its pen, brush and font changed.
        """
        drawn: list[str] = []
        c = self.theme.chip(it.platform, it.status, muted=muted)
        top, h = rect.top(), rect.height()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(c.fill)
        p.drawRoundedRect(rect, 3, 3)
        # The status edge: rounded outside like the chip, straight inside.
        p.setBrush(c.edge)
        p.drawRoundedRect(QRectF(rect.left(), top, EDGE + 2, h), 3, 3)
        p.fillRect(QRectF(rect.left() + EDGE, top, 2, h), c.fill)

        line_h = float(self.height)
        multi = h >= self.block_height - 0.5
        first_h = line_h if multi else h
        left = rect.left() + EDGE + 3
        right = rect.right() - 3
        cancelled = it.status == Status.CANCELLED
        valign = Qt.AlignmentFlag.AlignVCenter
        what = f"{it.platform} {it.status}"

        marks = self.marks(it)
        mw = self.time_fm.horizontalAdvance(marks) + 2 if marks else 0
        bw = self.badge_width(it.platform)
        tw = self.time_width + 5 if show_time else 0
        room = right - left - mw
        # What goes when a chip is narrow: the badge first (the tint still says the
        # channel), then the time (the tooltip has it); the text and marks stay.
        text_need = 0 if multi else self.min_text_width
        show_badge = room - tw - text_need >= bw + 4
        if not show_badge and room - text_need < tw:
            show_time = False
            tw = 0

        if show_badge:
            bh = int(min(first_h - 4, float(self.fm.height())))
            pm = self._badge(it, bw, bh, p.device().devicePixelRatioF(), muted)
            p.drawPixmap(QPointF(left, round(top + (first_h - bh) / 2)), pm)
            drawn.append(style.platform_style(it.platform).short)
            left += bw + 4
        if marks:
            p.setFont(self.time_font)
            p.setPen(style.text_on(c.mark, c.fill, f"chip status mark · {what}"))
            p.drawText(
                QRectF(right - mw, top, mw, first_h), valign | Qt.AlignmentFlag.AlignRight, marks
            )
            right -= mw + 2
        texts: list[str] = []
        text_pen = style.text_on(c.text, c.fill, f"chip text · {what}")
        if show_time and right - left >= self.time_width:
            p.setFont(self.time_font)
            p.setPen(text_pen)
            p.drawText(
                QRectF(left, top, self.time_width + 1, first_h),
                valign | Qt.AlignmentFlag.AlignLeft,
                it.time_label,
            )
            texts.append(it.time_label)
            left += self.time_width + 5
        p.setFont(self.strike_font if cancelled else self.font)
        p.setPen(text_pen)
        body = it.short_text or "(no text)"
        if multi:
            if detail and right - left > self.min_text_width:
                cut = self._elide(detail, int(right - left))
                p.drawText(
                    QRectF(left, top, right - left, first_h),
                    valign | Qt.AlignmentFlag.AlignLeft,
                    cut,
                )
                texts.append(cut)
            text_left = rect.left() + EDGE + 4
            width = int(rect.right() - 3 - text_left)
            lines = max(1, int((h - line_h - 2) // self.fm.lineSpacing()))
            y = top + line_h - 1
            for line in self._wrap(body, width, lines):
                p.drawText(
                    QRectF(text_left, y, width, self.fm.height()),
                    valign | Qt.AlignmentFlag.AlignLeft,
                    line,
                )
                texts.append(line)
                y += self.fm.lineSpacing()
        else:
            room_text = int(right - left)
            if room_text > self.min_text_width // 2:
                label = self._elide(f"{detail} · {body}" if detail else body, room_text)
                p.drawText(
                    QRectF(left, top, room_text, h), valign | Qt.AlignmentFlag.AlignLeft, label
                )
                texts.append(label)
        if focused or selected:
            p.setBrush(Qt.BrushStyle.NoBrush)
            color: QColor = self.theme.focus if focused else self.theme.text
            p.setPen(QPen(color, 2.0 if focused else 1.6))
            p.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 3, 3)
        return drawn + texts + ([marks] if marks else [])
