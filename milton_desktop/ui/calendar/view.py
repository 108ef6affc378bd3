"""The calendar's painted surfaces: the month grid and the week and day time grids.

They are painted, not built from widgets: a month with a thousand posts is a few
hundred chips, and only the chips that fit are laid out and painted. Data comes from
:class:`ScheduleModel`, loaded for the visible range only. What a drop or a menu
does is the pane's business (:mod:`.pane`); a surface reports it by signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import (
    QEvent,
    QLocale,
    QMimeData,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QDrag,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.status import Status
from milton_desktop.domain.timeutil import TimeInputError, localize
from milton_desktop.publishers import registry
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import (
    POST_MIME,
    SCHEDULE_MIME,
    AccountChoice,
    ScheduleItem,
    ScheduleModel,
)

log = logging.getLogger("milton.ui.calendar")

VIEW_NAMES = ("month", "week", "day", "list")
SLOTS_PER_DAY = 48  # 30-minute slots
WORKDAY_START_HOUR = 8

#: why a chip in each status cannot be dragged, in the user's words
#: keyed by the status text a ScheduleItem carries (a Status is that text)
WHY_NOT_MOVABLE: dict[str, str] = {
    Status.PUBLISHED: "it is already published",
    Status.PUBLISHING: "it is being published right now",
    Status.UNCERTAIN: "its last publish may have gone through; check the account, then mark it "
    "published or publish it again",
    Status.CANCELLED: "it was cancelled; drag the post from Drafts to schedule it again",
}

#: (date, time or None) — a drop target; None time means "keep / default time" (month view)
DropTarget = tuple[date, time | None]
DropHandler = Callable[[QMimeData, date, time | None], bool]
ChooseAccount = Callable[[int, Sequence[AccountChoice]], Sequence[int]]


def week_start(d: date, first_weekday: int) -> date:
    """The first day of ``d``'s week, ``first_weekday`` being ISO (1 = Monday … 7 = Sunday)."""
    return d - timedelta(days=(d.isoweekday() - first_weekday) % 7)


def month_grid_start(d: date, first_weekday: int) -> date:
    """The first day shown by a 6-week month grid containing ``d``'s month."""
    return week_start(d.replace(day=1), first_weekday)


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clamped to the target month's length."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(d.day, (next_first - timedelta(days=1)).day))


def range_title(start: date, end: date) -> str:
    """``9–15 March 2026``; ``30 March – 5 April 2026``; across years, both years."""
    if start.year != end.year:
        return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"
    if start.month != end.month:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day}–{end.day} {end:%B %Y}"


def local_first_weekday() -> int:
    """The locale's first day of the week, ISO-numbered (Monday 1 … Sunday 7)."""
    return QLocale().firstDayOfWeek().value


# ---------------------------------------------------------------- chip painting


class ChipPainter:
    """Paints schedule chips; fonts, colours, badges and cut texts are made once, not per paint."""

    def __init__(self, font: QFont) -> None:
        self.font = QFont(font)
        self.fm = QFontMetrics(self.font)
        self.time_font = QFont(font)
        self.time_font.setBold(True)
        self.time_fm = QFontMetrics(self.time_font)
        self.strike_font = QFont(font)
        self.strike_font.setStrikeOut(True)
        self.badge_font = style.badge_font(font)
        self.badge_fm = QFontMetrics(self.badge_font)
        self.height = self.fm.height() + 5
        self.time_width = self.time_fm.horizontalAdvance("00:00")
        # Below this a cut text ("W…") says nothing; the tooltip has the text instead.
        self.min_text_width = self.fm.horizontalAdvance("Wxyz…")
        self._text = QColor(style.TEXT)
        self._text_dim = QColor(style.TEXT_DIM)
        self._edge: dict[str, QColor] = {}
        self._fill: dict[str, QColor] = {}
        self._mark: dict[str, QColor] = {}
        self._badges: dict[tuple[str, int, int, float], QPixmap] = {}
        self._elided: dict[tuple[str, int], str] = {}

    def badge_width(self, platform: str) -> int:
        short = style.platform_style(platform).short
        return max(self.height - 4, self.badge_fm.horizontalAdvance(short) + 8)

    def _colors(self, status: str) -> tuple[QColor, QColor, QColor]:
        edge = self._edge.get(status)
        if edge is None:
            edge = self._edge[status] = style.status_color(status)
            self._fill[status] = style.status_fill(status)
            self._mark[status] = edge.darker(115)
        return edge, self._fill[status], self._mark[status]

    def _badge(self, platform: str, w: int, h: int, dpr: float) -> QPixmap:
        key = (platform, w, h, dpr)
        pm = self._badges.get(key)
        if pm is None:
            pm = QPixmap(round(w * dpr), round(h * dpr))
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            bp = QPainter(pm)
            bp.setFont(self.font)
            style.paint_platform_badge(bp, QRectF(0, 0, w, h), platform)
            bp.end()
            self._badges[key] = pm
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

    def paint(
        self,
        p: QPainter,
        rect: QRectF,
        it: ScheduleItem,
        *,
        selected: bool = False,
        dimmed: bool = False,
        detail: str = "",
    ) -> None:
        """One chip: status tint, status edge, platform badge, time, text, status mark.

        Expects an antialiased painter and leaves its pen, brush and font changed.
        """
        if dimmed:
            p.setOpacity(0.5)
        edge, fill, mark_color = self._colors(it.status)
        top, h = rect.top(), rect.height()
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(fill)
        p.drawRoundedRect(rect, 3, 3)
        # The status edge: rounded outside like the chip, straight inside.
        p.setBrush(edge)
        p.drawRoundedRect(QRectF(rect.left(), top, 6, h), 3, 3)
        p.fillRect(QRectF(rect.left() + 3, top, 3, h), fill)

        left = rect.left() + 6
        right = rect.right() - 3
        bh = int(min(h - 4, float(self.fm.height())))
        bw = self.badge_width(it.platform)
        if right - left >= bw:
            pm = self._badge(it.platform, bw, bh, p.device().devicePixelRatioF())
            p.drawPixmap(QPointF(left, round(top + (h - bh) / 2)), pm)
            left += bw + 4
        cancelled = it.status == Status.CANCELLED
        text_color = self._text_dim if cancelled else self._text
        valign = Qt.AlignmentFlag.AlignVCenter

        mark = style.STATUS_MARKS.get(it.status, "")
        if mark and right - left > self.time_width + 16:
            p.setFont(self.time_font)
            p.setPen(mark_color)
            mw = self.time_fm.horizontalAdvance(mark) + 2
            p.drawText(QRectF(right - mw, top, mw, h), valign | Qt.AlignmentFlag.AlignRight, mark)
            right -= mw + 3
        if right - left >= self.time_width:
            p.setFont(self.time_font)
            p.setPen(text_color)
            p.drawText(
                QRectF(left, top, self.time_width + 1, h),
                valign | Qt.AlignmentFlag.AlignLeft,
                it.time_label,
            )
            left += self.time_width + 5
        room = int(right - left)
        if room > self.min_text_width:
            label = f"{detail} · {it.short_text}" if detail else it.short_text
            p.setFont(self.strike_font if cancelled else self.font)
            p.setPen(text_color)
            p.drawText(
                QRectF(left, top, room, h),
                valign | Qt.AlignmentFlag.AlignLeft,
                self._elide(label, room),
            )
        if selected:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(self._text, 1.6))
            p.drawRoundedRect(rect.adjusted(0.8, 0.8, -0.8, -0.8), 3, 3)
        if dimmed:
            p.setOpacity(1.0)


# ---------------------------------------------------------------- shared surface


class CalendarSurface(QWidget):
    """What month and time-grid surfaces share: chips to click, drag and drop onto."""

    #: a chip was clicked (its schedule id), or 0 when empty space was clicked
    chipClicked = Signal(int)
    #: a chip was double-clicked (its schedule id)
    chipDoubleClicked = Signal(int)
    #: the context menu was asked for on a chip: (schedule id, global position)
    chipMenuRequested = Signal(int, QPoint)
    #: the user asked to see one day (a "+N more" link or a day label)
    dayRequested = Signal(object)
    #: the user tried to drag a chip that cannot move (its schedule id), so say why
    chipDragRefused = Signal(int)

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.selected_id: int | None = None
        self.drop_handler: DropHandler | None = None
        self.today: date = date.today()
        self.now_local: datetime | None = None
        self.zone: tzinfo = UTC
        self._chip_painter = ChipPainter(self.font())
        self._chips: list[tuple[QRectF, ScheduleItem]] = []
        self._mores: list[tuple[QRectF, date]] = []
        self._more_counts: list[int] = []  # how many schedules each "+N" stands for
        self._day_links: list[tuple[QRectF, date]] = []
        self._layout_dirty = True
        self._press: tuple[QPointF, ScheduleItem] | None = None
        self._hover: DropTarget | None = None
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        model.modelReset.connect(self._on_model_reset)

    # -- subclasses

    def _relayout(self) -> None:
        raise NotImplementedError

    def target_at(self, pos: QPointF) -> DropTarget | None:
        raise NotImplementedError

    def target_rect(self, target: DropTarget) -> QRectF:
        raise NotImplementedError

    def target_in_past(self, target: DropTarget) -> bool:
        raise NotImplementedError

    # -- layout cache

    def _ensure_layout(self) -> None:
        if self._layout_dirty:
            self._chips.clear()
            self._mores.clear()
            self._more_counts.clear()
            self._day_links.clear()
            self._relayout()
            self._layout_dirty = False

    def invalidate(self) -> None:
        self._layout_dirty = True
        self.update()

    def _on_model_reset(self) -> None:
        self.invalidate()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout_dirty = True
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._chip_painter = ChipPainter(self.font())
            self.invalidate()
        super().changeEvent(event)

    # -- queries (also what tests and accessibility helpers use)

    def chip_at(self, pos: QPointF) -> ScheduleItem | None:
        self._ensure_layout()
        for rect, it in self._chips:
            if rect.contains(pos):
                return it
        return None

    def chip_rect(self, schedule_id: int) -> QRect | None:
        """Where the chip of ``schedule_id`` is drawn, or None when it is not shown."""
        self._ensure_layout()
        for rect, it in self._chips:
            if it.id == schedule_id:
                return rect.toAlignedRect()
        return None

    def shown_ids(self, day: date | None = None) -> list[int]:
        """Ids of the chips drawn (on ``day`` only, if given), in drawing order."""
        self._ensure_layout()
        return [it.id for _, it in self._chips if day is None or it.day == day]

    def hidden_count(self, day: date) -> int:
        """How many schedules of ``day`` are folded into "+N more"."""
        return self.model.count_on(day) - len(self.shown_ids(day))

    # -- mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = event.position()
        it = self.chip_at(pos)
        if it is not None:
            self._press = (pos, it)
            self.chipClicked.emit(it.id)
            return
        self._press = None
        for rect, day in self._mores + self._day_links:
            if rect.contains(pos):
                self.dayRequested.emit(day)
                return
        self.chipClicked.emit(0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, it = self._press
        if (event.position() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        if it.movable:
            self._start_drag(it)
        else:
            self.chipDragRefused.emit(it.id)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        it = self.chip_at(event.position())
        if it is not None and event.button() == Qt.MouseButton.LeftButton:
            self.chipDoubleClicked.emit(it.id)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        it = self.chip_at(QPointF(event.pos()))
        if it is not None:
            self.chipClicked.emit(it.id)
            self.chipMenuRequested.emit(it.id, event.globalPos())

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            it = self.chip_at(QPointF(event.pos()))
            if it is None:
                QToolTip.hideText()
            else:
                rect = self.chip_rect(it.id) or QRect()
                QToolTip.showText(event.globalPos(), it.tooltip(), self, rect)
            return True
        return super().event(event)

    def _start_drag(self, it: ScheduleItem) -> None:
        drag = QDrag(self)
        drag.setMimeData(self.model.mimeData([self.model.index_of(it.id)]))
        rect = self.chip_rect(it.id)
        if rect is not None and rect.width() > 0:
            dpr = self.devicePixelRatioF()
            pm = QPixmap(rect.size() * dpr)
            pm.setDevicePixelRatio(dpr)
            pm.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pm)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._chip_painter.paint(painter, QRectF(0, 0, rect.width(), rect.height()), it)
            painter.end()
            drag.setPixmap(pm)
            drag.setHotSpot(QPoint(12, rect.height() // 2))
        # Offscreen exec() returns at once; with a real screen it blocks until the drop.
        drag.exec(Qt.DropAction.MoveAction)

    # -- drops

    @staticmethod
    def _accepts(mime: QMimeData | None) -> bool:
        return mime is not None and (mime.hasFormat(SCHEDULE_MIME) or mime.hasFormat(POST_MIME))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.setDropAction(self._action_for(event.mimeData()))
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self.target_at(event.position()) if self._accepts(event.mimeData()) else None
        if target != self._hover:
            self._hover = target
            self.update()
        if target is None:
            event.ignore()
            return
        self._autoscroll(event.position())
        event.setDropAction(self._action_for(event.mimeData()))
        event.accept(self.target_rect(target).toAlignedRect())

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._hover = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._hover = None
        self.update()
        mime = event.mimeData()
        target = self.target_at(event.position()) if self._accepts(mime) else None
        if target is None or self.drop_handler is None:
            event.ignore()
            return
        if self.drop_handler(mime, target[0], target[1]):
            event.setDropAction(self._action_for(mime))
            event.accept()
        else:
            event.ignore()

    @staticmethod
    def _action_for(mime: QMimeData) -> Qt.DropAction:
        if mime.hasFormat(SCHEDULE_MIME):
            return Qt.DropAction.MoveAction
        return Qt.DropAction.CopyAction

    def _autoscroll(self, pos: QPointF) -> None:
        """Overridden by scrollable surfaces to follow a drag to the edge."""

    def _paint_hover(self, p: QPainter) -> None:
        if self._hover is None:
            return
        rect = self.target_rect(self._hover).adjusted(1, 1, -1, -1)
        bad = self.target_in_past(self._hover)
        color = QColor(style.STATUS_COLORS[Status.FAILED] if bad else style.ACCENT)
        fill = QColor(color)
        fill.setAlpha(28)
        p.fillRect(rect, fill)
        p.setPen(QPen(color, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)


# ---------------------------------------------------------------- month


class MonthView(CalendarSurface):
    """Six weeks of seven day cells, each listing as many chips as fit and "+N more"."""

    ROWS, COLS = 6, 7

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.first_day: date = month_grid_start(date.today(), 1)
        self.month: int = date.today().month
        self._cells: list[tuple[date, QRectF]] = []
        self.setObjectName("calendarMonthView")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(7 * 150, 6 * 118)

    def minimumSizeHint(self) -> QSize:
        return QSize(7 * 56, 6 * 52)

    def set_range(self, first_day: date, month: int, today: date, zone: tzinfo) -> None:
        self.first_day, self.month, self.today, self.zone = first_day, month, today, zone
        self.invalidate()

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.ROWS * self.COLS)]

    def _header_height(self) -> int:
        return self.fontMetrics().height() + 10

    def _label_height(self) -> int:
        return self.fontMetrics().height() + 8

    def day_rect(self, day: date) -> QRect:
        """The cell of ``day`` (an empty rect when the day is not on this grid)."""
        self._ensure_layout()
        for d, rect in self._cells:
            if d == day:
                return rect.toAlignedRect()
        return QRect()

    def _relayout(self) -> None:
        w, h = self.width(), self.height()
        top = self._header_height()
        cw = w / self.COLS
        rh = max(1.0, (h - top) / self.ROWS)
        cp = self._chip_painter
        gap = 2.0
        label_h = self._label_height()
        more_h = self.fontMetrics().height() + 2
        self._cells = []
        for n, day in enumerate(self.days):
            r, c = divmod(n, self.COLS)
            cell = QRectF(c * cw, top + r * rh, cw, rh)
            self._cells.append((day, cell))
            # Only the day number is a link to the day view, not the whole strip.
            link_w = self.fontMetrics().horizontalAdvance(f"{day.day} {day:%b}") + 16
            self._day_links.append((QRectF(cell.left(), cell.top(), link_w, label_h), day))
            count = self.model.count_on(day)
            if not count:
                continue
            x, width = cell.left() + 3, cw - 6
            y = cell.top() + label_h
            bottom = cell.bottom() - 3
            fits = max(0, int((bottom - y + gap) // (cp.height + gap)))
            if count > fits:
                # Keep a line for "+N more": it is the way to the rest of the day.
                room_with_more = bottom - more_h - y + gap
                fits = max(0, int(room_with_more // (cp.height + gap)))
            # Only the chips that fit are built; the rest of a busy day is just a count.
            shown = self.model.items_on(day, limit=fits)
            for it in shown:
                self._chips.append((QRectF(x, y, width, cp.height), it))
                y += cp.height + gap
            if len(shown) < count:
                self._mores.append((QRectF(x, y, width, more_h), day))
                self._more_counts.append(count - len(shown))

    def target_at(self, pos: QPointF) -> DropTarget | None:
        self._ensure_layout()
        for day, rect in self._cells:
            if rect.contains(pos):
                return (day, None)
        return None

    def target_rect(self, target: DropTarget) -> QRectF:
        return QRectF(self.day_rect(target[0]))

    def target_in_past(self, target: DropTarget) -> bool:
        return target[0] < self.today

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        p = QPainter(self)
        fm = self.fontMetrics()
        pal_base = self.palette().base().color()
        p.fillRect(self.rect(), pal_base)

        # Weekday header.
        top = self._header_height()
        cw = self.width() / self.COLS
        p.setPen(QColor(style.TEXT_DIM))
        for c in range(self.COLS):
            d = self.first_day + timedelta(days=c)
            p.drawText(
                QRectF(c * cw + 8, 0, cw - 8, top),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                f"{d:%a}",
            )

        bold = QFont(self.font())
        bold.setBold(True)
        label_h = self._label_height()
        for day, cell in self._cells:
            if not cell.intersects(QRectF(event.rect())):
                continue
            outside = day.month != self.month
            if day == self.today:
                p.fillRect(cell, QColor(style.TODAY_BG))
            elif outside:
                p.fillRect(cell, QColor(style.OUTSIDE_MONTH_BG))
            label = f"{day.day} {day:%b}" if day.day == 1 else str(day.day)
            if day == self.today:
                p.setFont(bold)
                tw = QFontMetrics(bold).horizontalAdvance(label) + 12
                pill = QRectF(cell.left() + 4, cell.top() + 3, max(tw, label_h - 6), label_h - 6)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(style.ACCENT))
                p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
                p.setPen(QColor("#ffffff"))
                p.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
            else:
                p.setFont(bold if day.day == 1 else self.font())
                p.setPen(QColor(style.TEXT_DIM if outside else style.TEXT))
                p.drawText(
                    QRectF(cell.left() + 8, cell.top() + 3, cell.width() - 10, label_h - 6),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    label,
                )
        p.setFont(self.font())

        # Grid lines over the cell backgrounds.
        p.setPen(QPen(QColor(style.GRID_LINE), 1))
        rh = (self.height() - top) / self.ROWS
        for r in range(self.ROWS + 1):
            y = round(top + r * rh) - (1 if r == self.ROWS else 0)
            p.drawLine(0, y, self.width(), y)
        for c in range(1, self.COLS):
            x = round(c * cw)
            p.drawLine(x, top, x, self.height())

        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for rect, it in self._chips:
            if rect.intersects(QRectF(event.rect())):
                self._chip_painter.paint(
                    p,
                    rect,
                    it,
                    selected=it.id == self.selected_id,
                    dimmed=it.day.month != self.month,
                )
        p.setPen(QColor(style.ACCENT))
        p.setFont(self.font())
        for (rect, _day), hidden in zip(self._mores, self._more_counts, strict=True):
            p.drawText(
                rect.adjusted(4, 0, 0, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(f"+{hidden} more", Qt.TextElideMode.ElideRight, int(rect.width())),
            )
        self._paint_hover(p)
        p.end()


# ---------------------------------------------------------------- week / day


class TimeGridBody(CalendarSurface):
    """Hour rows 00–23 in 30-minute slots for one or more days; chips sit in their slot."""

    def __init__(self, model: ScheduleModel, day_count: int, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.day_count = day_count
        self.first_day: date = date.today()
        self.scroll_area: QScrollArea | None = None
        self._gaps: set[tuple[date, int]] = set()
        self.setObjectName("calendarTimeGrid")
        self._update_metrics()

    def _update_metrics(self) -> None:
        fm = self.fontMetrics()
        self.slot_height = max(22, fm.height() + 8)
        self.gutter = fm.horizontalAdvance("00:00") + 16
        self.setFixedHeight(self.slot_height * SLOTS_PER_DAY + 1)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._update_metrics()
        super().changeEvent(event)

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.day_count)]

    def set_range(self, first_day: date, today: date, now_local: datetime, zone: tzinfo) -> None:
        self.first_day, self.today, self.now_local, self.zone = first_day, today, now_local, zone
        self._gaps = self._find_gaps()
        self.invalidate()

    def set_now(self, now_local: datetime) -> None:
        self.now_local = now_local
        self.update()

    def _find_gaps(self) -> set[tuple[date, int]]:
        """Slots that do not exist locally (spring-forward), so they can be hatched."""
        gaps: set[tuple[date, int]] = set()
        for day in self.days:
            start = datetime.combine(day, time(0), tzinfo=self.zone).utcoffset()
            end = datetime.combine(day, time(23, 59), tzinfo=self.zone).utcoffset()
            if start == end:
                continue  # no transition that day: skip 48 round trips
            for slot in range(SLOTS_PER_DAY):
                try:
                    localize(datetime.combine(day, self.slot_time(slot)), self.zone)
                except TimeInputError:
                    gaps.add((day, slot))
        return gaps

    @staticmethod
    def slot_time(slot: int) -> time:
        return time(slot // 2, 30 * (slot % 2))

    @staticmethod
    def slot_of(t: time) -> int:
        return t.hour * 2 + t.minute // 30

    def _column(self, n: int) -> tuple[float, float]:
        cw = (self.width() - self.gutter) / self.day_count
        return self.gutter + n * cw, cw

    def slot_rect(self, day: date, t: time) -> QRect:
        """The rectangle of the slot holding local ``t`` on ``day`` (empty if not shown)."""
        return self._slot_rectf(day, self.slot_of(t)).toAlignedRect()

    def _slot_rectf(self, day: date, slot: int) -> QRectF:
        n = (day - self.first_day).days
        if not 0 <= n < self.day_count:
            return QRectF()
        x, cw = self._column(n)
        return QRectF(x, slot * self.slot_height, cw, self.slot_height)

    def _relayout(self) -> None:
        cp = self._chip_painter
        widest = max(cp.badge_width(name) for name in registry.names())
        min_chip = widest + cp.time_width + 16
        for n, day in enumerate(self.days):
            x, cw = self._column(n)
            by_slot: dict[int, list[ScheduleItem]] = {}
            for it in self.model.items_on(day):
                by_slot.setdefault(self.slot_of(it.local.time()), []).append(it)
            per_slot = max(1, int((cw - 4) // min_chip))
            for slot, items in by_slot.items():
                y = slot * self.slot_height + 1
                h = self.slot_height - 2
                shown = items if len(items) <= per_slot else items[: per_slot - 1]
                boxes = len(shown) + (len(shown) < len(items))
                bw = (cw - 4) / boxes
                for k, it in enumerate(shown):
                    self._chips.append((QRectF(x + 2 + k * bw, y, bw - 2, h), it))
                if len(shown) < len(items):
                    self._mores.append((QRectF(x + 2 + len(shown) * bw, y, bw - 2, h), day))
                    self._more_counts.append(len(items) - len(shown))

    def target_at(self, pos: QPointF) -> DropTarget | None:
        if pos.x() < self.gutter or pos.y() < 0:
            return None
        n = int((pos.x() - self.gutter) // ((self.width() - self.gutter) / self.day_count))
        slot = int(pos.y() // self.slot_height)
        if not (0 <= n < self.day_count and 0 <= slot < SLOTS_PER_DAY):
            return None
        return (self.first_day + timedelta(days=n), self.slot_time(slot))

    def target_rect(self, target: DropTarget) -> QRectF:
        return self._slot_rectf(target[0], self.slot_of(target[1] or time(0)))

    def target_in_past(self, target: DropTarget) -> bool:
        if self.now_local is None:
            return False
        return datetime.combine(target[0], target[1] or time(0)) < self.now_local.replace(
            tzinfo=None
        )

    def _autoscroll(self, pos: QPointF) -> None:
        if self.scroll_area is None:
            return
        vp = self.scroll_area.viewport()
        y = self.mapTo(vp, pos.toPoint()).y()
        bar = self.scroll_area.verticalScrollBar()
        edge = self.slot_height
        if y < edge:
            bar.setValue(bar.value() - self.slot_height)
        elif y > vp.height() - edge:
            bar.setValue(bar.value() + self.slot_height)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        p = QPainter(self)
        clip = QRectF(event.rect())
        p.fillRect(event.rect(), self.palette().base().color())
        sh = self.slot_height
        first = max(0, int(clip.top() // sh))
        last = min(SLOTS_PER_DAY - 1, int(clip.bottom() // sh))
        width = self.width()

        now = self.now_local.replace(tzinfo=None) if self.now_local else None
        past_color = QColor(style.PAST_BG)
        hatch = QBrush(QColor(style.GAP_HATCH), Qt.BrushStyle.BDiagPattern)
        for n, day in enumerate(self.days):
            x, cw = self._column(n)
            if day == self.today:
                p.fillRect(
                    QRectF(x, first * sh, cw, (last - first + 1) * sh), QColor(style.TODAY_BG)
                )
            for slot in range(first, last + 1):
                start = datetime.combine(day, self.slot_time(slot))
                if now is not None and start + timedelta(minutes=30) <= now:
                    p.fillRect(QRectF(x, slot * sh, cw, sh), past_color)
                if (day, slot) in self._gaps:
                    p.fillRect(QRectF(x, slot * sh, cw, sh), hatch)

        # Lines: hours solid, half hours soft; the gutter keeps only hour labels.
        for slot in range(first, last + 2):
            y = slot * sh
            if slot % 2 == 0:
                p.setPen(QPen(QColor(style.GRID_LINE), 1))
                p.drawLine(self.gutter - 6, y, width, y)
            else:
                p.setPen(QPen(QColor(style.GRID_LINE_SOFT), 1))
                p.drawLine(self.gutter, y, width, y)
        p.setPen(QPen(QColor(style.GRID_LINE), 1))
        for n in range(self.day_count):
            x = round(self._column(n)[0])
            p.drawLine(x, first * sh, x, (last + 1) * sh)
        p.setPen(QColor(style.TEXT_DIM))
        for slot in range(first - first % 2, last + 1, 2):
            if slot == 0:
                continue  # "00:00" on the top edge would be cut in half
            p.drawText(
                QRectF(0, slot * sh - sh / 2, self.gutter - 10, sh),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{slot // 2:02d}:00",
            )

        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        many = self.day_count == 1
        for rect, it in self._chips:
            if rect.intersects(clip):
                self._chip_painter.paint(
                    p,
                    rect,
                    it,
                    selected=it.id == self.selected_id,
                    detail=it.account if many else "",
                )
        p.setFont(self.font())
        for (rect, _day), hidden in zip(self._mores, self._more_counts, strict=True):
            if rect.intersects(clip):
                p.setPen(QPen(QColor(style.ACCENT), 1))
                p.setBrush(QColor("#ffffff"))
                p.drawRoundedRect(rect, 3, 3)
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, f"+{hidden}")

        # The current time, across today's column.
        if now is not None and self.first_day <= now.date() < self.first_day + timedelta(
            days=self.day_count
        ):
            x, cw = self._column((now.date() - self.first_day).days)
            now_y = (now.hour * 60 + now.minute) / 30 * sh
            p.setPen(QPen(QColor(style.NOW_LINE), 2))
            p.drawLine(QPointF(x, now_y), QPointF(x + cw, now_y))
            p.setBrush(QColor(style.NOW_LINE))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QPointF(x, now_y), 4, 4)
        self._paint_hover(p)
        p.end()


class DayHeader(QWidget):
    """Day names above the time grid, aligned with its columns; a click opens that day."""

    dayRequested = Signal(object)

    def __init__(self, body: TimeGridBody, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = body
        self.setObjectName("calendarDayHeader")
        self.setFixedHeight(self.fontMetrics().height() + 14)

    def _label(self, day: date) -> str:
        if self.body.day_count == 1:
            return f"{day:%A} {day.day}"
        return f"{day:%a} {day.day}"

    def mousePressEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        for n, day in enumerate(self.body.days):
            left, cw = self.body._column(n)
            if left <= x < left + cw:
                self.dayRequested.emit(day)
                return

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), self.palette().base().color())
        bold = QFont(self.font())
        bold.setBold(True)
        bfm = QFontMetrics(bold)
        for n, day in enumerate(self.body.days):
            left, cw = self.body._column(n)
            rect = QRectF(left, 0, cw, self.height())
            label = self._label(day)
            if day == self.body.today:
                tw = bfm.horizontalAdvance(label) + 16
                pill = QRectF(rect.center().x() - tw / 2, 4, tw, self.height() - 8)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(style.ACCENT))
                p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
                p.setPen(QColor("#ffffff"))
                p.setFont(bold)
            else:
                p.setPen(QColor(style.TEXT))
                p.setFont(self.font())
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(QPen(QColor(style.GRID_LINE), 1))
        p.drawLine(0, self.height() - 1, self.width(), self.height() - 1)
        p.end()


class TimeGridView(QWidget):
    """A day header over a scrollable time grid; opens scrolled to working hours."""

    def __init__(self, model: ScheduleModel, day_count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # Every child gets its parent now: a widget left Python-owned until a layout
        # adopts it can be deleted by the garbage collector under a live view.
        self.grid = TimeGridBody(model, day_count)
        self.header = DayHeader(self.grid, self)
        self.scroll_area = QScrollArea(self)
        self.scroll_area.setObjectName("calendarTimeGridScroll")
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # Always on, so the header's columns and the grid's never disagree by a scrollbar.
        self.scroll_area.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.scroll_area.setWidget(self.grid)
        self.grid.scroll_area = self.scroll_area
        self._header_pad = QWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        header_row = QHBoxLayout()
        header_row.setContentsMargins(0, 0, 0, 0)
        header_row.setSpacing(0)
        layout.addLayout(header_row)
        header_row.addWidget(self.header)
        header_row.addWidget(self._header_pad)
        layout.addWidget(self.scroll_area)
        self._scrolled_once = False

    def set_range(self, first_day: date, today: date, now_local: datetime, zone: tzinfo) -> None:
        self.grid.set_range(first_day, today, now_local, zone)
        self.header.update()

    def scroll_to_hour(self, hour: int) -> bool:
        """Put ``hour`` at the top (half a slot lower, so its label is not cut in half).

        Returns False when the grid cannot scroll that far yet (not laid out, or a
        viewport taller than the rest of the day), in which case it scrolls as far as it can.
        """
        bar = self.scroll_area.verticalScrollBar()
        want = max(0, hour * 2 * self.grid.slot_height - self.grid.slot_height // 2)
        bar.setValue(want)
        return bar.value() == want

    def _scroll_to_workday(self) -> None:
        # The first layouts happen at provisional sizes; keep trying until one fits.
        if not self._scrolled_once and self.isVisible():
            self._scrolled_once = self.scroll_to_hour(WORKDAY_START_HOUR)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._sync_header()
        self._scroll_to_workday()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._sync_header()
        self._scroll_to_workday()

    def _sync_header(self) -> None:
        self._header_pad.setFixedWidth(self.scroll_area.verticalScrollBar().sizeHint().width())


class WeekView(TimeGridView):
    """Seven days from the locale's first weekday."""

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(model, 7, parent)
        self.setObjectName("calendarWeekView")


class DayView(TimeGridView):
    """One day, with room for the account name on each chip."""

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(model, 1, parent)
        self.setObjectName("calendarDayView")


# ---------------------------------------------------------------- list
