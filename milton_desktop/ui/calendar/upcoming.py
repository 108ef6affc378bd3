"""What goes out next: pending posts of the next seven days, grouped by local day, under
the posts that need the user first (failed, uncertain, missed), so they are settled
from here too (right-click or the Menu key offers what the chip menu offers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta, tzinfo
from typing import Any

from PySide6.QtCore import QEvent, QModelIndex, QObject, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QIcon, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.storage import queries
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import ScheduleItem, display_zone, format_day
from milton_desktop.ui.tasks import LatestRead

log = logging.getLogger("milton.ui.upcoming")

DAYS_AHEAD = 7
#: at most this many posts needing attention are listed here (the list view has them all)
ATTENTION_ROWS = 5
#: at most this many pending posts are listed (thousands a week at 100 000 posts)
UPCOMING_ROWS = 150
#: rows added per event-loop turn: 150 rows at once hold the loop for tens of ms
ROWS_PER_TURN = 30
_ID_ROLE = Qt.ItemDataRole.UserRole + 1
#: marks the row saying how many more posts are not listed
_MORE_ROLE = Qt.ItemDataRole.UserRole + 2


EMPTY_TEXT = f"Nothing scheduled for the next {DAYS_AHEAD} days."


@dataclass(frozen=True)
class UpcomingRead:
    """What the panel shows, read on a worker: plain items, compared to skip a rebuild."""

    today: date
    upcoming_total: int
    items: list[ScheduleItem]
    attention_total: int
    attention: list[ScheduleItem]


def read_upcoming(zone: tzinfo, clock: Clock) -> UpcomingRead:
    """The next days' pending posts and the newest needing attention (worker-safe)."""
    today = clock.now().astimezone(zone).date()
    upcoming_total, accounts, rows = queries.upcoming_rows(
        DAYS_AHEAD, clock=clock, limit=UPCOMING_ROWS
    )
    items = [ScheduleItem.from_calendar_row(row, accounts, zone) for row in rows]
    items.sort(key=lambda it: (it.local, it.id))
    total, accounts, rows = queries.attention_rows(ATTENTION_ROWS)
    attention = [ScheduleItem.from_calendar_row(row, accounts, zone) for row in rows]
    return UpcomingRead(today, upcoming_total, items, total, attention)


class _PostRow(QTreeWidgetItem):
    """A post's row; its tooltip and status tip are written when Qt asks for them,
    since a week at 100 000 posts is thousands of rows, few of them ever hovered."""

    def __init__(self, item: ScheduleItem, texts: list[str]) -> None:
        super().__init__(texts)
        self.item = item

    def data(self, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.item.tooltip()
        if role == Qt.ItemDataRole.StatusTipRole:
            return f"{style.platform_style(self.item.platform).label}: {self.item.short_text}"
        return super().data(column, role)


class UpcomingPanel(QWidget):
    """Pending posts in the next seven days (``queries.upcoming_views``); a click opens one.

    Args:
        parent: the owning widget.
        clock: time source for "now", "Today" and "Tomorrow" (tests pass a FakeClock).
    """

    #: the user clicked a scheduled post (its schedule id)
    editScheduleRequested = Signal(int)
    #: the context menu was asked for on a post: (schedule id, global position)
    menuRequested = Signal(int, QPoint)
    #: the user asked for every post needing attention (the "and N more" row)
    attentionRequested = Signal()

    def __init__(
        self,
        parent: QWidget | None = None,
        clock: Clock | None = None,
        *,
        load: bool = True,
        background_reads: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("upcomingPanel")
        self.clock: Clock = clock or SystemClock()
        self._reads = LatestRead(self, background=background_reads)
        #: what the list shows, to tell whether a reload changed anything
        self._shown: UpcomingRead | None = None
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("upcomingTree")
        self.tree.setHeaderHidden(True)
        self.tree.setColumnCount(2)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(0)
        self.tree.setFrameShape(QFrame.Shape.NoFrame)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        # Rows need air to be read at a glance; headings get more above them.
        self.tree.setStyleSheet("QTreeWidget::item { padding: 4px 2px; }")
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.setMouseTracking(True)
        self.empty_label = QLabel(EMPTY_TEXT, self)
        self.empty_label.setObjectName("upcomingEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(24, 24, 24, 24)
        style.dim_label(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label, 1)
        self.tree.setAccessibleName("Upcoming posts")
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._on_tree_menu_requested)
        self.tree.installEventFilter(self)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.tree.itemActivated.connect(self._on_tree_item_clicked)
        # "Today"/"Tomorrow" and which posts are still ahead change with time alone.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("upcomingRefreshTimer")
        self._refresh_timer.setInterval(60_000)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._refresh_timer.start()
        #: the rows of the current build still to add, a slice per loop turn
        self._rest: list[ScheduleItem] = []
        self._rest_read: UpcomingRead | None = None
        self._group: QTreeWidgetItem | None = None
        self._group_day: date | None = None
        self._icons: dict[str, QIcon] = {}
        self._slice_timer = QTimer(self)
        self._slice_timer.setObjectName("upcomingSliceTimer")
        self._slice_timer.setSingleShot(True)
        self._slice_timer.setInterval(0)
        self._slice_timer.timeout.connect(self._add_slice)
        if load:
            self.refresh()
        else:  # filled a moment later (after the window's first paint): blank till then
            self.empty_label.hide()

    def refresh(self) -> None:
        """Reload from the store (on a worker in the window); the list is rebuilt only
        when what it shows changed."""
        zone = display_zone()
        clock, previous = self.clock, self._shown

        def read() -> UpcomingRead | None:
            fresh = read_upcoming(zone, clock)
            return None if fresh == previous else fresh

        self._reads.request(read, self._on_read, self._on_read_failed)

    def loading(self) -> bool:
        """Whether a reload has not answered yet, or its rows are still being added."""
        return self._reads.busy() or self._rest_read is not None

    def _on_read(self, read: UpcomingRead | None) -> None:
        if read is not None:
            self._shown = read
            self._build(read)

    def _on_read_failed(self, exc: Exception) -> None:
        log.error("could not read the upcoming posts: %s", exc)
        self._rest, self._rest_read = [], None
        self._slice_timer.stop()
        self.empty_label.setText(
            f"The upcoming posts could not be read ({exc}). They are read again at the "
            "next change, or in a minute."
        )
        self.tree.hide()
        self.empty_label.show()

    def _build(self, read: UpcomingRead) -> None:
        items, attention, total = read.items, read.attention, read.attention_total
        self.empty_label.setText(EMPTY_TEXT)
        self.tree.clear()
        spanned: list[QTreeWidgetItem] = []
        bold = QFont(self.font())
        bold.setBold(True)
        heading = self.palette().color(QPalette.ColorRole.WindowText)
        if attention:
            head = QTreeWidgetItem([f"Needs attention · {total}"])
            head.setFont(0, bold)
            head.setFlags(Qt.ItemFlag.ItemIsEnabled)
            head.setForeground(0, heading)
            self.tree.addTopLevelItem(head)
            spanned.append(head)
            for it in attention:
                state = style.status_label(it.status)
                row = QTreeWidgetItem([f" {state}", f"{it.account} — {it.short_text}"])
                row.setIcon(0, style.status_icon(it.status))
                row.setData(0, _ID_ROLE, it.id)
                tip = it.tooltip() + "\n\nRight-click (or the Menu key) to settle it."
                for col in (0, 1):
                    row.setToolTip(col, tip)
                head.addChild(row)
            if total > len(attention):
                more = QTreeWidgetItem([f" and {total - len(attention)} more…"])
                more.setData(0, _ID_ROLE, -1)
                head.addChild(more)
                spanned.append(more)
            head.setExpanded(True)
        # No current item: Qt would otherwise draw a focus frame on the first heading.
        self.tree.setCurrentIndex(QModelIndex())
        empty = not items and not attention
        self.tree.setVisible(not empty)
        self.empty_label.setVisible(empty)
        self._finish(spanned)
        # The posts go in a slice per loop turn: the first at once, the rest after
        # whatever input and painting is waiting.
        self._group, self._group_day = None, None
        # thousands of rows at 100 000 posts: one badge per platform, not one per row
        self._icons = {}
        self._rest, self._rest_read = list(items), read
        self._add_slice()

    def _add_slice(self) -> None:
        read = self._rest_read
        if read is None:
            return
        today = read.today
        bold = QFont(self.font())
        bold.setBold(True)
        spanned: list[QTreeWidgetItem] = []
        expand: list[QTreeWidgetItem] = []
        group, group_day, icons = self._group, self._group_day, self._icons
        batch, self._rest = self._rest[:ROWS_PER_TURN], self._rest[ROWS_PER_TURN:]
        for it in batch:
            if it.day != group_day:
                group_day = it.day
                if it.day == today:
                    label = f"Today · {format_day(it.day)}"
                elif it.day == today + timedelta(days=1):
                    label = f"Tomorrow · {format_day(it.day)}"
                elif it.day < today:
                    label = f"Overdue · {format_day(it.day)}"
                else:
                    label = format_day(it.day)
                group = QTreeWidgetItem([label])
                group.setFont(0, bold)
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.tree.addTopLevelItem(group)
                spanned.append(group)
            if it.platform not in icons:
                icons[it.platform] = style.platform_icon(it.platform)
            row = _PostRow(it, [f" {it.time_label}", f"{it.account} — {it.short_text}"])
            row.setIcon(0, icons[it.platform])
            row.setFont(0, bold)
            row.setData(0, _ID_ROLE, it.id)
            assert group is not None
            group.addChild(row)
            if group not in expand:
                expand.append(group)
        self._group, self._group_day = group, group_day
        if not self._rest:
            self._rest_read = None
            if read.upcoming_total > len(read.items):
                more = QTreeWidgetItem(
                    [
                        f"and {read.upcoming_total - len(read.items)} more in the next "
                        f"{DAYS_AHEAD} days (the List view has them all)"
                    ]
                )
                more.setFlags(Qt.ItemFlag.ItemIsEnabled)
                more.setData(0, _MORE_ROLE, True)
                self.tree.addTopLevelItem(more)
                spanned.append(more)
        else:
            self._slice_timer.start()
        for head in expand:
            head.setExpanded(True)
        self._finish(spanned)

    def _finish(self, spanned: list[QTreeWidgetItem]) -> None:
        # Spanning or expanding an item lays out the whole tree first: done once per
        # slice, after its rows are in, rather than per day as they arrive.
        for item in spanned:
            item.setFirstColumnSpanned(True)

    def _groups(self) -> list[QTreeWidgetItem]:
        """The day headings, top to bottom."""
        heads = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        return [head for head in heads if head is not None]

    def schedule_ids(self) -> list[int]:
        """The pending schedules listed by day, top to bottom."""
        ids: list[int] = []
        for group in self._day_groups():
            rows = (group.child(c) for c in range(group.childCount()))
            ids += [row.data(0, _ID_ROLE) for row in rows if row is not None]
        return ids

    def _day_groups(self) -> list[QTreeWidgetItem]:
        return [
            g
            for g in self._groups()
            if not g.text(0).startswith("Needs attention") and not g.data(0, _MORE_ROLE)
        ]

    def day_labels(self) -> list[str]:
        return [group.text(0) for group in self._day_groups()]

    def attention_ids(self) -> list[int]:
        """The posts listed under "Needs attention", top to bottom."""
        groups = self._groups()
        if not groups or not groups[0].text(0).startswith("Needs attention"):
            return []
        rows = (groups[0].child(c) for c in range(groups[0].childCount()))
        return [r.data(0, _ID_ROLE) for r in rows if r is not None and r.data(0, _ID_ROLE) > 0]

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        sid = item.data(0, _ID_ROLE)
        if sid == -1:
            self.attentionRequested.emit()
        elif sid:
            self.editScheduleRequested.emit(int(sid))

    def _on_tree_menu_requested(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        sid = item.data(0, _ID_ROLE) if item is not None else None
        if sid and sid > 0:
            self.menuRequested.emit(int(sid), self.tree.viewport().mapToGlobal(pos))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.tree
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Menu
        ):
            item = self.tree.currentItem()
            sid = item.data(0, _ID_ROLE) if item is not None else None
            if item is not None and sid and sid > 0:
                rect = self.tree.visualItemRect(item)
                self.menuRequested.emit(
                    int(sid), self.tree.viewport().mapToGlobal(rect.bottomLeft())
                )
                return True
        return super().eventFilter(watched, event)

    def _on_refresh_timer_timeout(self) -> None:
        self.refresh()
