"""What goes out next: pending posts of the next seven days, grouped by local day."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont
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

DAYS_AHEAD = 7
_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class UpcomingPanel(QWidget):
    """Pending posts in the next seven days (``queries.upcoming_views``); a click opens one.

    Args:
        parent: the owning widget.
        clock: time source for "now", "Today" and "Tomorrow" (tests pass a FakeClock).
    """

    #: the user clicked a scheduled post (its schedule id)
    editScheduleRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None, clock: Clock | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("upcomingPanel")
        self.clock: Clock = clock or SystemClock()
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
        self.empty_label = QLabel(f"Nothing scheduled for the next {DAYS_AHEAD} days.", self)
        self.empty_label.setObjectName("upcomingEmpty")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.empty_label.setContentsMargins(24, 24, 24, 24)
        style.dim_label(self.empty_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty_label, 1)
        self.tree.itemClicked.connect(self._on_tree_item_clicked)
        self.tree.itemActivated.connect(self._on_tree_item_clicked)
        # "Today"/"Tomorrow" and which posts are still ahead change with time alone.
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setObjectName("upcomingRefreshTimer")
        self._refresh_timer.setInterval(60_000)
        self._refresh_timer.timeout.connect(self._on_refresh_timer_timeout)
        self._refresh_timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Reload from the store."""
        zone = display_zone()
        now_local = self.clock.now().astimezone(zone)
        today = now_local.date()
        items = [
            ScheduleItem.from_row(row, zone)
            for row in queries.upcoming_views(DAYS_AHEAD, clock=self.clock)
        ]
        items.sort(key=lambda it: (it.local, it.id))
        self.tree.clear()
        bold = QFont(self.font())
        bold.setBold(True)
        group: QTreeWidgetItem | None = None
        group_day = None
        for it in items:
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
                group.setFirstColumnSpanned(True)
                group.setExpanded(True)
            ps = style.platform_style(it.platform)
            row = QTreeWidgetItem([f" {it.time_label}", f"{it.account} — {it.short_text}"])
            row.setIcon(0, style.platform_icon(it.platform))
            row.setFont(0, bold)
            row.setData(0, _ID_ROLE, it.id)
            for col in (0, 1):
                row.setToolTip(col, it.tooltip())
                row.setStatusTip(col, f"{ps.label}: {it.short_text}")
            assert group is not None
            group.addChild(row)
        # No current item: Qt would otherwise draw a focus frame on the first heading.
        self.tree.setCurrentIndex(QModelIndex())
        empty = not items
        self.tree.setVisible(not empty)
        self.empty_label.setVisible(empty)

    def _groups(self) -> list[QTreeWidgetItem]:
        """The day headings, top to bottom."""
        heads = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        return [head for head in heads if head is not None]

    def schedule_ids(self) -> list[int]:
        """The schedules listed, top to bottom."""
        ids: list[int] = []
        for group in self._groups():
            rows = (group.child(c) for c in range(group.childCount()))
            ids += [row.data(0, _ID_ROLE) for row in rows if row is not None]
        return ids

    def day_labels(self) -> list[str]:
        return [group.text(0) for group in self._groups()]

    def _on_tree_item_clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        sid = item.data(0, _ID_ROLE)
        if sid:
            self.editScheduleRequested.emit(int(sid))

    def _on_refresh_timer_timeout(self) -> None:
        self.refresh()
