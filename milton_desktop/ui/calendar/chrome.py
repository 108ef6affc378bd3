"""The calendar pane's chrome, above every view: its toolbar (Today, ‹ ›, the title,
Show cancelled, the view buttons) and the bar of search and filters.

Only the widgets and their sizes live here, built the same way for the real pane and
for the start-up frame's skeleton, so the first frame's month sits where the real
one then paints. Imports Qt and the style only; the pane connects the signals and
fills the filters' choices."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.status import NEEDS_ATTENTION, Status
from milton_desktop.ui import style

VIEW_NAMES = ("month", "week", "day", "list")

#: the list's status filter: (label, the statuses it shows; empty for all)
STATUS_FILTERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("All statuses", frozenset()),
    ("Needs attention", frozenset(NEEDS_ATTENTION)),
    ("Pending", frozenset({Status.PENDING})),
    ("Awaiting approval", frozenset({Status.AWAITING_APPROVAL})),
    ("Published", frozenset({Status.PUBLISHED})),
    ("Failed", frozenset({Status.FAILED})),
    ("Uncertain", frozenset({Status.UNCERTAIN})),
    ("Missed", frozenset({Status.MISSED})),
    ("Cancelled", frozenset({Status.CANCELLED})),
)


class CalendarToolbar(QWidget):
    """Today, previous and next, the period's title, Show cancelled, the view buttons."""

    def __init__(self, parent: QWidget | None = None, *, view: str = "month") -> None:
        super().__init__(parent)
        self.setObjectName("calendarToolbar")
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.setSpacing(4)
        self.today_button = QToolButton(self)
        self.today_button.setText("Today")
        self.today_button.setToolTip("Go to today")
        self.prev_button = QToolButton(self)
        self.prev_button.setText("‹")
        self.next_button = QToolButton(self)
        self.next_button.setText("›")
        for b in (self.prev_button, self.next_button):
            b.setAutoRaise(True)
            f = b.font()
            f.setPointSizeF(f.pointSizeF() * 1.5)
            b.setFont(f)
            b.setFixedWidth(self.fontMetrics().height() * 2)
        self.title_label = QLabel(self)
        self.title_label.setObjectName("calendarTitle")
        tf = self.title_label.font()
        tf.setPointSizeF(tf.pointSizeF() * 1.35)
        tf.setBold(True)
        self.title_label.setFont(tf)
        self.title_label.setMinimumWidth(QFontMetrics(tf).horizontalAdvance("30 September –"))
        self.show_cancelled = QCheckBox("Show cancelled", self)
        self.show_cancelled.setObjectName("calendarShowCancelled")
        # Off: a cancelled post (an undone drop above all) is gone from view, not struck through.
        self.show_cancelled.setChecked(False)
        self.show_cancelled.setToolTip("Show posts you cancelled, struck through")
        row.addWidget(self.today_button)
        row.addSpacing(4)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        row.addSpacing(8)
        row.addWidget(self.title_label, 1)
        row.addWidget(self.show_cancelled)
        row.addSpacing(12)
        self.view_buttons: dict[str, QToolButton] = {}
        self.view_group = QButtonGroup(self)
        self.view_group.setExclusive(True)
        for name in VIEW_NAMES:
            b = QToolButton(self)
            b.setText(name.capitalize())
            b.setCheckable(True)
            b.setObjectName(f"calendarView{name.capitalize()}Button")
            b.setToolTip(f"Show {'a' if name != 'list' else 'the'} {name}")
            b.setMinimumWidth(self.fontMetrics().horizontalAdvance("Month") + 20)
            self.view_group.addButton(b)
            self.view_buttons[name] = b
            row.addWidget(b)
        self.view_buttons[view].setChecked(True)


def separator(parent: QWidget) -> QFrame:
    """The thin line under the calendar's toolbar, in the grid's colour."""
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setStyleSheet(f"color: {style.theme_for(parent.palette()).grid_line.name()};")
    return line


class FilterBar(QWidget):
    """The search and filters over every view: one row where there is room; in a
    narrow window the filters move to a second row, so the views keep the width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calendarFilterBar")
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("calendarListSearch")
        self.search_edit.setPlaceholderText("Search text or account (Ctrl+F)")
        self.search_edit.setAccessibleName("Search posts")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 8)

        self.status_combo = QComboBox(self)
        self.status_combo.setObjectName("calendarStatusFilter")
        self.status_combo.setAccessibleName("Status")
        self.platform_combo = QComboBox(self)
        self.platform_combo.setObjectName("calendarPlatformFilter")
        self.platform_combo.setAccessibleName("Platform")
        self.account_combo = QComboBox(self)
        self.account_combo.setObjectName("calendarAccountFilter")
        self.account_combo.setAccessibleName("Account")
        for combo in (self.status_combo, self.platform_combo, self.account_combo):
            # a narrow window shrinks them (the popup still shows every name in full);
            # their width does not depend on their items, only on these lengths
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(7)
        # the status filter names what the list shows ("Needs attention"): it keeps its
        # words whole and the search box gives up the room instead
        self.status_combo.setMinimumContentsLength(max(len(label) for label, _ in STATUS_FILTERS))

        self.count_label = QLabel(self)
        self.count_label.setObjectName("calendarListCount")
        # Whatever view is shown, a narrowed filter says so and offers the way back, so
        # posts it hides never look lost.
        self.clear_button = QToolButton(self)
        self.clear_button.setObjectName("calendarFilterClear")
        self.clear_button.setText("Clear")
        self.clear_button.setAutoRaise(True)
        self.clear_button.setToolTip("Show every post again: clear the search and the filters")
        self.clear_button.setAccessibleName("Clear the search and filters")
        self.clear_button.setVisible(False)

        search_label = QLabel("&Search:", self)
        search_label.setBuddy(self.search_edit)
        show_label = QLabel("S&how:", self)
        show_label.setBuddy(self.status_combo)
        self.filters = QWidget(self)
        self.filters.setObjectName("calendarListFilters")
        filters_row = QHBoxLayout(self.filters)
        filters_row.setContentsMargins(0, 0, 0, 0)
        filters_row.setSpacing(6)
        filters_row.addWidget(show_label)
        filters_row.addWidget(self.status_combo)
        filters_row.addWidget(self.platform_combo)
        filters_row.addWidget(self.account_combo)
        self._top_row = QHBoxLayout()
        self._top_row.setContentsMargins(8, 6, 8, 6)
        self._top_row.setSpacing(6)
        self._top_row.addWidget(search_label)
        self._top_row.addWidget(self.search_edit, 2)
        self._top_row.addWidget(self.filters)
        self._top_row.addWidget(self.count_label)
        self._top_row.addWidget(self.clear_button)
        self._second_row = QHBoxLayout()
        self._second_row.setContentsMargins(8, 0, 8, 0)
        self._second_row.addStretch(1)
        self._wrapped = False
        bar = QVBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(0)
        bar.addLayout(self._top_row)
        bar.addLayout(self._second_row)

    def one_row_width(self) -> int:
        parts = (self.search_edit, self.filters, self.count_label, self.clear_button)
        return sum(w.sizeHint().width() for w in parts) + 60 + 16 + 6 * 4

    def arrange(self, width: int) -> None:
        wrap = width < self.one_row_width()
        if wrap == self._wrapped:
            return
        self._wrapped = wrap
        # an empty second row takes no height (the bar sits over every view)
        self._second_row.setContentsMargins(8, 0, 8, 6 if wrap else 0)
        if wrap:
            self._top_row.removeWidget(self.filters)
            self._second_row.insertWidget(0, self.filters)
        else:
            self._second_row.removeWidget(self.filters)
            self._top_row.insertWidget(2, self.filters)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.arrange(event.size().width())
        super().resizeEvent(event)

    def minimumSizeHint(self) -> QSize:
        # as narrow as the wrapped layout allows (the filters on their own row), so the
        # bar never makes the window wider than it was before it was over every view
        hint = super().minimumSizeHint()
        narrow = max(self.filters.minimumSizeHint().width() + 16, 280)
        return QSize(min(hint.width(), narrow), hint.height())
