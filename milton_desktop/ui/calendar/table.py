"""The list view: every scheduled post of the visible range in one sortable table."""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QPainter,
    QPaintEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.status import Status
from milton_desktop.publishers import registry
from milton_desktop.ui import style
from milton_desktop.ui.calendar.model import (
    ScheduleModel,
)

log = logging.getLogger("milton.ui.calendar")


class ScheduleTable(QTableView):
    """The list view's table; says so when there is nothing to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = "Nothing to show."

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            p = QPainter(self.viewport())
            p.setPen(QColor(style.TEXT_DIM))
            p.drawText(
                self.viewport().rect().adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                self.empty_text,
            )
            p.end()


class ListView(QWidget):
    """A table of the period's schedules, filtered by a status combo."""

    #: the status filter changed (a status name, or None for all)
    statusChanged = Signal(object)

    FILTERS = (
        ("All statuses", None),
        ("Pending", Status.PENDING),
        ("Published", Status.PUBLISHED),
        ("Failed", Status.FAILED),
        ("Uncertain", Status.UNCERTAIN),
        ("Missed", Status.MISSED),
        ("Cancelled", Status.CANCELLED),
    )

    def __init__(self, model: ScheduleModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calendarListView")
        self.model = model
        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("calendarStatusFilter")
        for label, status in self.FILTERS:
            icon = style.status_icon(status) if status else None
            if icon is None:
                self.status_combo.addItem(label, status)
            else:
                self.status_combo.addItem(icon, label, status)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("calendarListCount")
        self.count_label.setStyleSheet(f"color: {style.TEXT_DIM};")
        self.table = ScheduleTable(self)
        self.table.setObjectName("calendarListTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        fm = self.fontMetrics()
        widths = {
            ScheduleModel.COL_WHEN: fm.horizontalAdvance("Wed 30 September 2026  00:00") + 24,
            ScheduleModel.COL_STATUS: fm.horizontalAdvance("Publishing") + 48,
            ScheduleModel.COL_PLATFORM: max(
                fm.horizontalAdvance(p.label) for p in registry.platforms()
            )
            + 48,
            ScheduleModel.COL_ACCOUNT: fm.horizontalAdvance("M") * 12,
        }
        for col, w in widths.items():
            header.resizeSection(col, w)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

        show_label = QLabel("Show:", self)
        show_label.setBuddy(self.status_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        filter_row = QHBoxLayout()
        filter_row.setContentsMargins(8, 6, 8, 6)
        layout.addLayout(filter_row)
        filter_row.addWidget(show_label)
        filter_row.addWidget(self.status_combo)
        filter_row.addSpacing(12)
        filter_row.addWidget(self.count_label)
        filter_row.addStretch(1)
        layout.addWidget(self.table)
        self.status_combo.currentIndexChanged.connect(self._on_status_combo_index_changed)

    def status(self) -> str | None:
        return self.status_combo.currentData()

    def set_status(self, status: str | None) -> None:
        """Filter by ``status`` (None shows every status)."""
        index = self.status_combo.findData(status)
        if index < 0:
            raise ValueError(f"no list filter for status {status!r}")
        self.status_combo.setCurrentIndex(index)

    def _on_status_combo_index_changed(self, _index: int) -> None:
        self.statusChanged.emit(self.status())


# ---------------------------------------------------------------- the pane
