"""The calendar's painted surfaces: the month grid and the week and day time grids.

They are painted, not built from widgets: a month with a thousand posts is a few
hundred chips, and only the chips that fit are laid out and painted. Data comes from
:class:`ScheduleModel`, loaded for the visible range only. What a drop or a menu
does is the pane's business (:mod:`.pane`); a surface reports it by signal.

Every colour comes from the surface's palette through :func:`style.theme_for`, so
a dark desktop gets a dark calendar. The keyboard moves a cursor through the days
and the chips of each day (arrows), Enter opens what it is on, and the "+N" of a
busy day opens a popover (:mod:`.popover`) listing what did not fit.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from PySide6.QtCore import (
    QEvent,
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
    QFocusEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
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
from milton_desktop.storage import settings
from milton_desktop.ui import style
from milton_desktop.ui.calendar import grid
from milton_desktop.ui.calendar.chips import ChipPainter
from milton_desktop.ui.calendar.chrome import VIEW_NAMES
from milton_desktop.ui.calendar.grid import (
    local_first_weekday,
    month_grid_start,
    week_start,
    weekend_days,
)
from milton_desktop.ui.calendar.hovercard import HIDES_CARD, HoverCard
from milton_desktop.ui.calendar.model import (
    POST_MIME,
    SCHEDULE_MIME,
    AccountChoice,
    ScheduleItem,
    ScheduleModel,
    decode_ids,
    format_day,
    parse_hhmm,
)
from milton_desktop.ui.calendar.popover import MorePopover
from milton_desktop.ui.style import CellState

log = logging.getLogger("milton.ui.calendar")

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
#: what time a drop at a target would give (None: the surface's own guess)
DropTimeHint = Callable[[QMimeData, date, time | None], time | None]


@dataclasses.dataclass(frozen=True)
class SlotMark:
    """A free queue slot the time grid draws, and takes a dropped draft on."""

    day: date
    #: local wall time in the calendar's zone
    at: time
    when_utc: datetime
    account_id: int
    account: str
    platform: str


#: what a draft dropped on a free queue slot does: (mime, slot) -> done
SlotDropHandler = Callable[[QMimeData, SlotMark], bool]

#: one place the keyboard cursor can stop on a day: ("chip", schedule id, rect) or
#: ("more", index into the "+N" boxes, rect)
Stop = tuple[str, int, QRectF]


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clamped to the target month's length."""
    y, m = divmod(d.month - 1 + n, 12)
    year, month = d.year + y, m + 1
    next_first = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(d.day, (next_first - timedelta(days=1)).day))


def range_title(start: date, end: date, *, short: bool = False) -> str:
    """``9–15 March 2026``; ``30 March – 5 April 2026``; across years, both years.

    ``short`` abbreviates the months (``30 Mar – 5 Apr 2026``) for a narrow window;
    the year is always there.
    """
    fmt = "%b" if short else "%B"
    if start.year != end.year:
        return f"{start.day} {start:{fmt} %Y} – {end.day} {end:{fmt} %Y}"
    if start.month != end.month:
        return f"{start.day} {start:{fmt}} – {end.day} {end:{fmt} %Y}"
    return f"{start.day}–{end.day} {end:{fmt} %Y}"


# ---------------------------------------------------------------- shared surface


class CalendarSurface(QWidget):
    """What month and time-grid surfaces share: chips to click, drag and drop onto,
    and a keyboard cursor over days and chips."""

    #: a chip was clicked (its schedule id), or 0 when empty space was clicked
    chipClicked = Signal(int)
    #: a chip was double-clicked (its schedule id)
    chipDoubleClicked = Signal(int)
    #: the context menu was asked for on a chip: (schedule id, global position)
    chipMenuRequested = Signal(int, QPoint)
    #: the user asked to see one day (a day label, Enter on an empty day, the popover)
    dayRequested = Signal(object)
    #: the user tried to drag a chip that cannot move (its schedule id), so say why
    chipDragRefused = Signal(int)
    #: the keyboard moved past the days shown: show the period holding this date
    dateRequested = Signal(object)

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.selected_id: int | None = None
        self.drop_handler: DropHandler | None = None
        #: the pane may say what time a drop would give (e.g. the next free time today)
        self.drop_time_hint: DropTimeHint | None = None
        self.today: date = date.today()
        self.now_local: datetime | None = None
        self.zone: tzinfo = UTC
        self.weekend = weekend_days()
        self.theme = style.theme_for(self.palette())
        self._chip_painter = ChipPainter(self.font(), self.theme)
        self._chips: list[tuple[QRectF, ScheduleItem]] = []
        self._mores: list[tuple[QRectF, date]] = []
        self._more_counts: list[int] = []  # how many schedules each "+N" stands for
        self._more_items: list[list[ScheduleItem] | None] = []  # None: the rest of the day
        self._day_links: list[tuple[QRectF, date]] = []
        self._layout_dirty = True
        self._press: tuple[QPointF, ScheduleItem] | None = None
        self._hover: DropTarget | None = None
        self._hover_mime: QMimeData | None = None
        self._cursor_day: date | None = None
        self._cursor_more: int | None = None
        self.popover: MorePopover | None = None
        #: the post under the pointer, with its picture, shown when the pointer rests
        self.hover_card = HoverCard(self)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        model.modelReset.connect(self._on_model_reset)

    # -- subclasses

    @property
    def days(self) -> list[date]:
        raise NotImplementedError

    def _relayout(self) -> None:
        raise NotImplementedError

    def target_at(self, pos: QPointF) -> DropTarget | None:
        raise NotImplementedError

    def target_rect(self, target: DropTarget) -> QRectF:
        raise NotImplementedError

    def target_in_past(self, target: DropTarget) -> bool:
        raise NotImplementedError

    def day_focus_rect(self, day: date) -> QRectF:
        """Where the keyboard cursor is drawn when it is on ``day`` but on no chip."""
        raise NotImplementedError

    def _ghost_rect(self, target: DropTarget) -> QRectF:
        """Where a dragged chip is previewed over ``target``."""
        raise NotImplementedError

    def _step_lines(self) -> int:
        """How many days Up and Down move past the first or last chip (0: they stop)."""
        return 0

    # -- layout cache

    def _ensure_layout(self) -> None:
        if self._layout_dirty:
            self._chips.clear()
            self._mores.clear()
            self._more_counts.clear()
            self._more_items.clear()
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
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self.theme = style.theme_for(self.palette())
            self._chip_painter = ChipPainter(self.font(), self.theme)
            self.invalidate()
        super().changeEvent(event)

    def is_weekend(self, day: date) -> bool:
        return day.isoweekday() in self.weekend

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
        """How many schedules of ``day`` are folded into "+N"."""
        return self.model.count_on(day) - len(self.shown_ids(day))

    def more_rects(self, day: date | None = None) -> list[QRect]:
        """Where the "+N" boxes are (of ``day`` only, if given)."""
        self._ensure_layout()
        return [r.toAlignedRect() for r, d in self._mores if day is None or d == day]

    def hidden_items(self, k: int) -> list[ScheduleItem]:
        """The posts the ``k``-th "+N" stands for, by time."""
        self._ensure_layout()
        listed = self._more_items[k]
        if listed is not None:
            return list(listed)
        day = self._mores[k][1]
        shown = set(self.shown_ids(day))
        return [it for it in self.model.items_on(day) if it.id not in shown]

    def open_more(self, k: int) -> MorePopover:
        """Open the popover of the ``k``-th "+N" under it, the keyboard in its list."""
        self._ensure_layout()
        if self.popover is not None:
            self.popover.close()
        rect, day = self._mores[k]
        popover = MorePopover(self, day, self.hidden_items(k))
        popover.destroyed.connect(self._on_popover_destroyed)
        self.popover = popover
        popover.popup_at(self.mapToGlobal(rect.bottomLeft().toPoint()))
        return popover

    def _on_popover_destroyed(self) -> None:
        self.popover = None

    # -- keyboard

    def _stops(self, day: date) -> list[Stop]:
        """Where the cursor can stop on ``day``, in reading order."""
        self._ensure_layout()
        out: list[Stop] = [("chip", it.id, r) for r, it in self._chips if it.day == day]
        out += [("more", k, r) for k, (r, d) in enumerate(self._mores) if d == day]
        out.sort(key=lambda s: (round(s[2].top()), s[2].left()))
        return out

    def key_cursor(self) -> tuple[date, int]:
        """The keyboard cursor: its day, and its place among that day's stops (-1: the day)."""
        self._ensure_layout()
        days = self.days
        if self.selected_id is not None:
            for _r, it in self._chips:
                if it.id == self.selected_id:
                    stops = self._stops(it.day)
                    for n, (kind, key, _rect) in enumerate(stops):
                        if kind == "chip" and key == it.id:
                            return it.day, n
        day = self._cursor_day
        if day is None or day not in days:
            day = self.today if self.today in days else days[0]
        if self._cursor_more is not None:
            for n, (kind, key, _rect) in enumerate(self._stops(day)):
                if kind == "more" and key == self._cursor_more:
                    return day, n
        return day, -1

    def move_cursor(self, day: date, index: int) -> None:
        """Put the cursor on ``day``'s ``index``-th stop (-1: on the day), selecting a chip."""
        self._cursor_day, self._cursor_more = day, None
        if day not in self.days:
            self.selected_id = None
            self.chipClicked.emit(0)
            self.dateRequested.emit(day)
            return
        stops = self._stops(day)
        chosen: int | None = None
        if 0 <= index < len(stops):
            kind, key, _rect = stops[index]
            if kind == "chip":
                chosen = key
            else:
                self._cursor_more = key
        self.selected_id = chosen
        self.chipClicked.emit(chosen or 0)
        self._describe_cursor()
        self.update()

    def _describe_cursor(self) -> None:
        day, n = self.key_cursor()
        stops = self._stops(day)
        if n >= 0 and stops[n][0] == "chip":
            it = self.model.item(stops[n][1])
            text = it.accessible_text() if it is not None else ""
        elif n >= 0:
            text = f"{self._more_counts[stops[n][1]]} more posts on {format_day(day)}"
        else:
            count = self.model.count_on(day)
            text = f"{format_day(day, year=True)}, {count} post{'s' if count != 1 else ''}"
        self.setAccessibleDescription(text)

    def _nearest(self, day: date, y: float | None) -> int:
        stops = self._stops(day)
        if y is None or not stops:
            return -1
        return min(range(len(stops)), key=lambda n: abs(stops[n][2].center().y() - y))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        arrows = (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Up, Qt.Key.Key_Down)
        if key in arrows and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self._on_arrow(key)
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            day, n = self.key_cursor()
            stops = self._stops(day)
            if n >= 0 and stops[n][0] == "more":
                self.open_more(stops[n][1])
            elif n >= 0:
                self.chipDoubleClicked.emit(stops[n][1])
            else:
                self.dayRequested.emit(day)
            return
        if key == Qt.Key.Key_Menu:
            day, n = self.key_cursor()
            stops = self._stops(day)
            if n >= 0 and stops[n][0] == "chip":
                rect = stops[n][2].toAlignedRect()
                self.chipMenuRequested.emit(stops[n][1], self.mapToGlobal(rect.bottomLeft()))
            return
        super().keyPressEvent(event)

    def _on_arrow(self, key: int) -> None:
        day, n = self.key_cursor()
        stops = self._stops(day)
        y = stops[n][2].center().y() if n >= 0 else None
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            other = day + timedelta(days=-1 if key == Qt.Key.Key_Left else 1)
            if self._step_lines():  # month: keep the place in the list
                count = len(self._stops(other)) if other in self.days else 0
                self.move_cursor(other, min(n, count - 1) if n >= 0 else -1)
            else:
                self.move_cursor(other, self._nearest(other, y) if other in self.days else -1)
            return
        step = self._step_lines()
        if key == Qt.Key.Key_Down:
            if n < len(stops) - 1:
                self.move_cursor(day, n + 1)
            elif step:
                self.move_cursor(day + timedelta(days=step), -1)
        elif n >= 0:
            self.move_cursor(day, n - 1)
        elif step:
            other = day - timedelta(days=step)
            last = len(self._stops(other)) - 1 if other in self.days else -1
            self.move_cursor(other, last)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._describe_cursor()
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()

    def _paint_focus(self, p: QPainter) -> None:
        """The keyboard cursor, drawn only while the surface has the focus."""
        if not self.hasFocus():
            return
        day, n = self.key_cursor()
        rect = self._stops(day)[n][2].adjusted(-1, -1, 1, 1) if n >= 0 else None
        if rect is None:
            rect = self.day_focus_rect(day).adjusted(2, 2, -2, -2)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(self.theme.focus, 2))
        p.drawRoundedRect(rect, 3, 3)

    # -- mouse

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        pos = event.position()
        it = self.chip_at(pos)
        if it is not None:
            self._press = (pos, it)
            self._cursor_day, self._cursor_more = it.day, None
            self.chipClicked.emit(it.id)
            return
        self._press = None
        for k, (rect, day) in enumerate(self._mores):
            if rect.contains(pos):
                self._cursor_day, self._cursor_more = day, k
                self.chipClicked.emit(0)
                self.open_more(k)
                return
        for rect, day in self._day_links:
            if rect.contains(pos):
                self.dayRequested.emit(day)
                return
        target = self.target_at(pos)
        if target is not None:
            self._cursor_day, self._cursor_more = target[0], None
        self.chipClicked.emit(0)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, it = self._press
        if (event.position() - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        if it.movable:
            self.start_drag(it)
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
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            day, n = self.key_cursor()
            stops = self._stops(day)
            if n >= 0 and stops[n][0] == "chip":
                rect = stops[n][2].toAlignedRect()
                self.chipMenuRequested.emit(stops[n][1], self.mapToGlobal(rect.bottomLeft()))
            return
        it = self.chip_at(QPointF(event.pos()))
        if it is not None:
            self.chipClicked.emit(it.id)
            self.chipMenuRequested.emit(it.id, event.globalPos())

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            it = self.chip_at(QPointF(event.pos()))
            QToolTip.hideText()
            if it is None:
                self.hover_card.dismiss()
            else:
                rect = self.chip_rect(it.id) or QRect()
                area = QRect(self.mapToGlobal(rect.topLeft()), rect.size())
                self.hover_card.show_for(it, event.globalPos(), area)
            return True
        if kind in HIDES_CARD:
            self.hover_card.dismiss()
        return super().event(event)

    def drag_pixmap(self, it: ScheduleItem) -> QPixmap | None:
        """What a drag of ``it`` shows under the pointer: the chip without its time,
        which would be the old one (the target shows the new time instead)."""
        rect = self.chip_rect(it.id)
        if rect is None or rect.width() <= 0:
            return None
        size = QSize(min(rect.width(), 260), self._chip_painter.height)
        dpr = self.devicePixelRatioF()
        pm = QPixmap(size * dpr)
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._chip_painter.paint(
            painter, QRectF(0, 0, size.width(), size.height()), it, show_time=False
        )
        painter.end()
        return pm

    def start_drag(self, it: ScheduleItem) -> None:
        """Drag ``it`` (a movable chip, here or in the popover) to another time."""
        drag = QDrag(self)
        drag.setMimeData(self.model.mimeData([self.model.index_of(it.id)]))
        pm = self.drag_pixmap(it)
        if pm is not None:
            drag.setPixmap(pm)
            drag.setHotSpot(QPoint(12, self._chip_painter.height // 2))
        # Offscreen exec() returns at once; with a real screen it blocks until the drop.
        drag.exec(Qt.DropAction.MoveAction)

    # -- drops

    @staticmethod
    def _accepts(mime: QMimeData | None) -> bool:
        return mime is not None and (mime.hasFormat(SCHEDULE_MIME) or mime.hasFormat(POST_MIME))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            self._hover_mime = event.mimeData()
            event.setDropAction(self._action_for(event.mimeData()))
            event.accept()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        target = self.target_at(event.position()) if self._accepts(event.mimeData()) else None
        self._hover_mime = event.mimeData()
        if target != self._hover:
            self._hover = target
            self.update()
        if target is None:
            event.ignore()
            return
        self._autoscroll(event.position())
        event.setDropAction(self._action_for(event.mimeData()))
        # No accept rectangle: the preview's time changes within a month cell too.
        event.accept()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._hover = None
        self._hover_mime = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._hover = None
        self._hover_mime = None
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

    def dragged_item(self) -> ScheduleItem | None:
        """The chip being dragged over this surface, when it is one of the loaded ones."""
        mime = self._hover_mime
        if mime is None:
            return None
        ids = decode_ids(mime, SCHEDULE_MIME)
        return self.model.item(ids[0]) if len(ids) == 1 else None

    def drop_time(self, target: DropTarget) -> time | None:
        """The local time a drop on ``target`` would give, for the preview."""
        day, at = target
        mime = self._hover_mime
        if mime is not None and self.drop_time_hint is not None:
            hinted = self.drop_time_hint(mime, day, at)
            if hinted is not None:
                return hinted
        if at is not None:
            return at
        it = self.dragged_item()
        if it is not None:
            return it.local.time().replace(tzinfo=None)
        if mime is not None and mime.hasFormat(POST_MIME):
            return parse_hhmm(settings.get("default_post_time"))
        return None

    def hover_preview(self) -> tuple[QRectF, str] | None:
        """Where the drop preview is and the time it shows (what the user sees mid-drag)."""
        if self._hover is None:
            return None
        if self.target_in_past(self._hover):
            return self._ghost_rect(self._hover), "Already past"
        at = self.drop_time(self._hover)
        label = format_day(self._hover[0]) + (f" {at:%H:%M}" if at is not None else "")
        return self._ghost_rect(self._hover), label

    def _paint_hover(self, p: QPainter) -> None:
        if self._hover is None:
            return
        theme = self.theme
        rect = self.target_rect(self._hover).adjusted(1, 1, -1, -1)
        bad = self.target_in_past(self._hover)
        color = theme.danger if bad else theme.accent
        fill = QColor(color)
        fill.setAlpha(28)
        p.fillRect(rect, fill)
        p.setPen(QPen(color, 2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        ghost = self._ghost_rect(self._hover)
        at = None if bad else self.drop_time(self._hover)
        it = self.dragged_item()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if it is not None and at is not None:
            # The chip as it will be: at the new day and time.
            moved = dataclasses.replace(
                it, local=datetime.combine(self._hover[0], at, tzinfo=it.local.tzinfo)
            )
            p.setOpacity(0.92)
            self._chip_painter.paint(p, ghost, moved, focused=True)
            p.setOpacity(1.0)
            return
        text = "Already past" if bad else (f"{at:%H:%M}" if at is not None else "")
        if not text:
            return
        fm = self.fontMetrics()
        pill = QRectF(ghost.left(), ghost.top(), fm.horizontalAdvance(text) + 14, fm.height() + 4)
        bg = theme.danger if bad else theme.accent
        fg = theme.on_danger if bad else theme.on_accent
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(bg)
        p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        p.setPen(style.text_on(fg, bg, "drop label"))
        p.setFont(self.font())
        p.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)


# ---------------------------------------------------------------- month


class MonthView(CalendarSurface):
    """Six weeks of seven day cells, each listing as many chips as fit and "+N more"."""

    ROWS, COLS = 6, 7

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.first_day: date = month_grid_start(date.today(), 1)
        self.month: int = date.today().month
        self._cells: list[tuple[date, QRectF]] = []
        self._link_widths: dict[str, dict[str, int]] = {}
        self.setObjectName("calendarMonthView")
        self.setAccessibleName("Month calendar")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(7 * 150, 6 * 118)

    def minimumSizeHint(self) -> QSize:
        return QSize(7 * 56, 6 * 44)  # a day number and one chip line

    def set_range(self, first_day: date, month: int, today: date, zone: tzinfo) -> None:
        self.first_day, self.month, self.today, self.zone = first_day, month, today, zone
        self.invalidate()

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=n) for n in range(self.ROWS * self.COLS)]

    def _step_lines(self) -> int:
        return 7

    def _header_height(self) -> int:
        return grid.header_height(self.fontMetrics())

    def _label_height(self) -> int:
        return grid.label_height(self.fontMetrics())

    def day_rect(self, day: date) -> QRect:
        """The cell of ``day`` (an empty rect when the day is not on this grid)."""
        self._ensure_layout()
        for d, rect in self._cells:
            if d == day:
                return rect.toAlignedRect()
        return QRect()

    def day_focus_rect(self, day: date) -> QRectF:
        return QRectF(self.day_rect(day))

    def cell_state(self, day: date) -> CellState:
        return CellState(
            today=day == self.today,
            past=day < self.today,
            weekend=self.is_weekend(day),
            outside=day.month != self.month,
        )

    def _relayout(self) -> None:
        cw = self.width() / self.COLS
        cp = self._chip_painter
        gap = 2.0
        label_h = self._label_height()
        fm = self.fontMetrics()
        more_h = fm.height() + 2
        # a few dozen distinct labels: measured once each, not per cell and relayout
        link_widths = self._link_widths.setdefault(self.font().key(), {})
        self._cells = grid.month_cells(self.first_day, self.width(), self.height(), fm)
        for day, cell in self._cells:
            # Only the day number is a link to the day view, not the whole strip.
            label = f"{day.day} {day:%b}"
            link_w = link_widths.get(label)
            if link_w is None:
                link_w = link_widths[label] = fm.horizontalAdvance(label) + 16
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
                self._more_items.append(None)

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

    def _ghost_rect(self, target: DropTarget) -> QRectF:
        cell = self.target_rect(target)
        return QRectF(
            cell.left() + 3,
            cell.top() + self._label_height(),
            cell.width() - 6,
            self._chip_painter.height,
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        p = QPainter(self)
        theme = self.theme
        fm = self.fontMetrics()
        clip = QRectF(event.rect())
        cell_bgs = grid.paint_month_grid(
            p,
            theme=theme,
            font=self.font(),
            width=self.width(),
            height=self.height(),
            cells=self._cells,
            month=self.month,
            today=self.today,
            weekend=self.weekend,
            clip=clip,
        )

        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for rect, it in self._chips:
            if rect.intersects(clip):
                self._chip_painter.paint(
                    p,
                    rect,
                    it,
                    selected=it.id == self.selected_id,
                    muted=it.day.month != self.month,
                )
        p.setFont(self.font())
        for (rect, day), hidden in zip(self._mores, self._more_counts, strict=True):
            bg = cell_bgs.get(day, theme.base)
            p.setPen(style.text_on(theme.link_on(bg), bg, "more link"))
            p.drawText(
                rect.adjusted(4, 0, 0, 0),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(f"+{hidden} more", Qt.TextElideMode.ElideRight, int(rect.width())),
            )
        self._paint_focus(p)
        self._paint_hover(p)
        p.end()


# ---------------------------------------------------------------- week / day


def overlap_columns(spans: Sequence[tuple[float, float]]) -> list[tuple[int, int, int]]:
    """Side-by-side columns for vertical ``spans`` (top, bottom), sorted by top.

    What calendar apps do: spans that overlap, directly or through others, form a
    group; each span takes the first column of its group that is free at its top.
    Returns ``(column, columns in its group, group number)`` per span, in order.
    """
    placed: list[list[int]] = []
    ends: list[float] = []  # per column of the current group, where its last span ends
    group_end = float("-inf")
    group = -1
    start = 0  # first span of the current group
    for i, (top, bottom) in enumerate(spans):
        if top >= group_end:
            for row in placed[start:]:
                row[1] = len(ends)
            group, start, ends = group + 1, i, []
        col = next((c for c, end in enumerate(ends) if end <= top), len(ends))
        if col == len(ends):
            ends.append(bottom)
        else:
            ends[col] = bottom
        placed.append([col, 0, group])
        group_end = max(group_end, bottom) if i > start else bottom
    for row in placed[start:]:
        row[1] = len(ends)
    return [(c, n, g) for c, n, g in placed]


class TimeGridBody(CalendarSurface):
    """Hour rows 00–23 in 30-minute slots for one or more days.

    A chip starts at its post's minute and is two lines tall (time, then the first
    words), so posts close in time overlap; overlapping chips share the day's width
    side by side, and when they would get too narrow the rest fold into a "+N" box.
    """

    def __init__(self, model: ScheduleModel, day_count: int, parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.day_count = day_count
        self.first_day: date = date.today()
        self.scroll_area: QScrollArea | None = None
        self._gaps: set[tuple[date, int]] = set()
        #: the free queue slots in view, and where each is drawn
        self.slot_marks: list[SlotMark] = []
        self._slot_rects: list[tuple[QRectF, SlotMark]] = []
        self._hover_slot: SlotMark | None = None
        #: set by the pane: a draft dropped on a free slot is queued there
        self.slot_drop_handler: SlotDropHandler | None = None
        self.setObjectName("calendarTimeGrid")
        self.setAccessibleName("Day calendar" if day_count == 1 else "Week calendar")
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

    def set_slot_marks(self, marks: Sequence[SlotMark]) -> None:
        """The free queue slots to draw (the pane reads them with the schedules)."""
        self.slot_marks = list(marks)
        self.invalidate()

    def _layout_slots(self) -> None:
        """Side by side when two accounts have a slot at the same minute."""
        self._slot_rects.clear()
        chip_h = self.chip_height()
        limit = self.height() - 1
        same: dict[tuple[date, time], list[SlotMark]] = {}
        for mark in self.slot_marks:
            same.setdefault((mark.day, mark.at), []).append(mark)
        for (day, at), marks in same.items():
            n = (day - self.first_day).days
            if not 0 <= n < self.day_count:
                continue
            x, cw = self._column(n)
            top = min(self.y_of(at) + 1, limit - chip_h)
            width = (cw - 4) / len(marks)
            for k, mark in enumerate(marks):
                rect = QRectF(x + 2 + k * width, top, width - 2, chip_h)
                self._slot_rects.append((rect, mark))

    def queue_slot_rect(self, mark: SlotMark) -> QRectF:
        """Where a free slot is drawn (empty when it is not in view)."""
        self._ensure_layout()
        return next((r for r, m in self._slot_rects if m == mark), QRectF())

    def slot_at(self, pos: QPointF) -> SlotMark | None:
        """The free queue slot under ``pos``, if any."""
        self._ensure_layout()
        return next((m for r, m in self._slot_rects if r.contains(pos)), None)

    def _slot_for_drop(self, mime: QMimeData | None, pos: QPointF) -> SlotMark | None:
        if mime is None or not mime.hasFormat(POST_MIME) or self.slot_drop_handler is None:
            return None
        return self.slot_at(pos)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        mark = self._slot_for_drop(event.mimeData(), event.position())
        if mark != self._hover_slot:
            self._hover_slot = mark
            self.update()
        super().dragMoveEvent(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._hover_slot = None
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        mark = self._slot_for_drop(event.mimeData(), event.position())
        self._hover_slot = None
        if mark is None or self.slot_drop_handler is None:
            super().dropEvent(event)
            return
        self._hover = None
        self._hover_mime = None
        self.update()
        if self.slot_drop_handler(event.mimeData(), mark):
            event.setDropAction(Qt.DropAction.CopyAction)
            event.accept()
        else:
            event.ignore()

    def hover_preview(self) -> tuple[QRectF, str] | None:
        if self._hover_slot is not None:
            mark = self._hover_slot
            return self.queue_slot_rect(mark), f"Queue on {mark.account} {mark.at:%H:%M}"
        return super().hover_preview()

    def _paint_slots(self, p: QPainter, clip: QRectF) -> None:
        """Free slots: dashed outlines in the account's colour, quiet until a draft
        is dragged over one."""
        theme = self.theme
        fm = self.fontMetrics()
        p.setFont(self.font())
        for rect, mark in self._slot_rects:
            if not rect.intersects(clip):
                continue
            colour = style.platform_color(mark.platform)
            hovered = mark == self._hover_slot
            pen = QPen(colour, 2 if hovered else 1)
            pen.setStyle(Qt.PenStyle.SolidLine if hovered else Qt.PenStyle.DashLine)
            fill = QColor(colour)
            fill.setAlpha(46 if hovered else 14)
            p.setPen(pen)
            p.setBrush(fill)
            p.drawRoundedRect(rect.adjusted(0.5, 0.5, -0.5, -0.5), 3, 3)
            words = f"{mark.at:%H:%M} {'Queue here' if hovered else 'free'} · {mark.account}"
            text = fm.elidedText(words, Qt.TextElideMode.ElideRight, int(rect.width() - 8))
            ink = style.readable(theme.text_dim, theme.base)
            p.setPen(style.text_on(ink, theme.base, "queue slot"))
            p.drawText(
                rect.adjusted(5, 2, -3, 0),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                text,
            )

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

    def y_of(self, t: time) -> float:
        """Where local ``t`` is on the grid, to the minute."""
        return (t.hour * 60 + t.minute) / 30 * self.slot_height

    def chip_height(self) -> float:
        return float(max(self._chip_painter.block_height, self.slot_height - 2))

    def day_focus_rect(self, day: date) -> QRectF:
        n = (day - self.first_day).days
        x, cw = self._column(max(0, min(self.day_count - 1, n)))
        # Only the part of the column the user can see, so the ring is seen whole.
        top, height = 0.0, float(self.height())
        if self.scroll_area is not None:
            top = float(self.scroll_area.verticalScrollBar().value())
            height = float(self.scroll_area.viewport().height())
        return QRectF(x, top, cw, height)

    def _relayout(self) -> None:
        self._layout_slots()
        cp = self._chip_painter
        chip_h = self.chip_height()
        limit = self.height() - 1
        for n, day in enumerate(self.days):
            x, cw = self._column(n)
            items = self.model.items_on(day)
            if not items:
                continue
            # y_of, inlined: a busy week is thousands of chips laid out in one go
            per_minute = self.slot_height / 30
            lowest = limit - chip_h
            tops = [
                min((it.local.hour * 60 + it.local.minute) * per_minute + 1, lowest) for it in items
            ]
            placed = overlap_columns([(t, t + chip_h) for t in tops])
            avail = cw - 4
            # Groups are laid out one by one: a crowded 10:00 does not squeeze 15:00.
            k = 0
            while k < len(items):
                cols, number = placed[k][1], placed[k][2]
                end = k
                while end < len(items) and placed[end][2] == number:
                    end += 1
                group = range(k, end)
                k = end
                fit = cols if cols * cp.min_block_width <= avail else 0
                if fit:
                    width = avail / cols
                    for i in group:
                        col = placed[i][0]
                        rect = QRectF(x + 2 + col * width, tops[i], width - 2, chip_h)
                        self._chips.append((rect, items[i]))
                    continue
                fit = max(1, int((avail - cp.more_width) // cp.min_block_width))
                width = (avail - cp.more_width) / fit
                hidden: list[ScheduleItem] = []
                for i in group:
                    col = placed[i][0]
                    if col < fit:
                        rect = QRectF(x + 2 + col * width, tops[i], width - 2, chip_h)
                        self._chips.append((rect, items[i]))
                    else:
                        hidden.append(items[i])
                hidden_tops = [tops[i] for i in group if placed[i][0] >= fit]
                box_top = min(hidden_tops)
                box = QRectF(
                    x + 2 + fit * width,
                    box_top,
                    cp.more_width - 2,
                    max(hidden_tops) + chip_h - box_top,
                )
                self._mores.append((box, day))
                self._more_counts.append(len(hidden))
                self._more_items.append(hidden)

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

    def _ghost_rect(self, target: DropTarget) -> QRectF:
        slot = self.target_rect(target)
        top = min(slot.top() + 1, self.height() - 1 - self.chip_height())
        return QRectF(slot.left() + 2, top, slot.width() - 4, self.chip_height())

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

    def move_cursor(self, day: date, index: int) -> None:
        super().move_cursor(day, index)
        # Keep what the cursor is on in view.
        if self.scroll_area is not None and day in self.days:
            stops = self._stops(day)
            if 0 <= index < len(stops):
                rect = stops[index][2].toAlignedRect()
                self.scroll_area.ensureVisible(
                    rect.center().x(), rect.center().y(), 0, rect.height()
                )

    def paintEvent(self, event: QPaintEvent) -> None:
        self._ensure_layout()
        p = QPainter(self)
        theme = self.theme
        clip = QRectF(event.rect())
        p.fillRect(event.rect(), theme.base)
        sh = self.slot_height
        first = max(0, int(clip.top() // sh))
        last = min(SLOTS_PER_DAY - 1, int(clip.bottom() // sh))
        width = self.width()

        now = self.now_local.replace(tzinfo=None) if self.now_local else None
        hatch = QBrush(theme.hatch, Qt.BrushStyle.BDiagPattern)
        for n, day in enumerate(self.days):
            x, cw = self._column(n)
            weekend = self.is_weekend(day)
            for slot in range(first, last + 1):
                start = datetime.combine(day, self.slot_time(slot))
                past = now is not None and start + timedelta(minutes=30) <= now
                state = CellState(today=day == self.today, past=past, weekend=weekend)
                bg = theme.cell_bg(state)
                if bg != theme.base:
                    p.fillRect(QRectF(x, slot * sh, cw, sh), bg)
                if (day, slot) in self._gaps:
                    p.fillRect(QRectF(x, slot * sh, cw, sh), hatch)

        # Lines: hours solid, half hours soft; the gutter keeps only hour labels.
        for slot in range(first, last + 2):
            y = slot * sh
            if slot % 2 == 0:
                p.setPen(QPen(theme.grid_line, 1))
                p.drawLine(self.gutter - 6, y, width, y)
            else:
                p.setPen(QPen(theme.grid_soft, 1))
                p.drawLine(self.gutter, y, width, y)
        p.setPen(QPen(theme.grid_line, 1))
        for n in range(self.day_count):
            x = round(self._column(n)[0])
            p.drawLine(x, first * sh, x, (last + 1) * sh)
        p.setPen(style.text_on(theme.text_dim, theme.base, "hour label"))
        for slot in range(first - first % 2, last + 1, 2):
            if slot == 0:
                continue  # "00:00" on the top edge would be cut in half
            p.drawText(
                QRectF(0, slot * sh - sh / 2, self.gutter - 10, sh),
                Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                f"{slot // 2:02d}:00",
            )

        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        self._paint_slots(p, clip)
        one_day = self.day_count == 1
        for rect, it in self._chips:
            if rect.intersects(clip):
                self._chip_painter.paint(
                    p,
                    rect,
                    it,
                    selected=it.id == self.selected_id,
                    detail=it.account if one_day else "",
                )
        p.setFont(self.font())
        for (rect, _day), hidden in zip(self._mores, self._more_counts, strict=True):
            if rect.intersects(clip):
                p.setPen(QPen(theme.accent, 1))
                p.setBrush(theme.base)
                p.drawRoundedRect(rect, 3, 3)
                p.setPen(style.text_on(theme.link_on(theme.base), theme.base, "more link"))
                p.drawText(
                    rect.adjusted(0, 2, 0, 0),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    f"+{hidden}",
                )

        # The current time, across today's column.
        if now is not None and self.first_day <= now.date() < self.first_day + timedelta(
            days=self.day_count
        ):
            x, cw = self._column((now.date() - self.first_day).days)
            now_y = (now.hour * 60 + now.minute) / 30 * sh
            p.setPen(QPen(theme.now_line, 2))
            p.drawLine(QPointF(x, now_y), QPointF(x + cw, now_y))
            p.setBrush(theme.now_line)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QPointF(x, now_y), 4, 4)
        self._paint_focus(p)
        if self._hover_slot is None:  # a free slot under a draft shows itself instead
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

    def _label(self, day: date, width: float) -> str:
        if self.body.day_count == 1:
            return f"{day:%A} {day.day}"
        label = f"{day:%a} {day.day}"
        if self.fontMetrics().horizontalAdvance(label) + 12 > width:
            return f"{day:%a}"[:2] + f" {day.day}"
        return label

    def mousePressEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        for n, day in enumerate(self.body.days):
            left, cw = self.body._column(n)
            if left <= x < left + cw:
                self.dayRequested.emit(day)
                return

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        theme = style.theme_for(self.palette())
        p.fillRect(self.rect(), theme.base)
        bold = QFont(self.font())
        bold.setBold(True)
        bfm = QFontMetrics(bold)
        for n, day in enumerate(self.body.days):
            left, cw = self.body._column(n)
            rect = QRectF(left, 0, cw, self.height())
            label = self._label(day, cw)
            bg = theme.cell_bg(CellState(weekend=self.body.is_weekend(day)))
            p.fillRect(rect, bg)
            if day == self.body.today:
                tw = bfm.horizontalAdvance(label) + 16
                pill = QRectF(rect.center().x() - tw / 2, 4, tw, self.height() - 8)
                p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(theme.accent)
                p.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
                p.setPen(style.text_on(theme.on_accent, theme.accent, "today pill"))
                p.setFont(bold)
            else:
                p.setPen(style.text_on(theme.text, bg, "day heading"))
                p.setFont(self.font())
            p.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(QPen(theme.grid_line, 1))
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
        # The grid takes the keyboard; the scroll area would eat its arrow keys.
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFocusProxy(self.grid)
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


__all__ = [
    "VIEW_NAMES",
    "CalendarSurface",
    "ChipPainter",
    "DayHeader",
    "DayView",
    "MonthView",
    "SlotMark",
    "TimeGridBody",
    "TimeGridView",
    "WeekView",
    "add_months",
    "local_first_weekday",
    "month_grid_start",
    "overlap_columns",
    "range_title",
    "week_start",
    "weekend_days",
]
