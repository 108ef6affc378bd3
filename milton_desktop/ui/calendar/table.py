"""The list view: every scheduled post, all time, searchable and filterable, with the
reason each failure happened in its own column.

The table reads the store a page at a time (``queries.schedule_table_rows``, SQL
LIMIT/OFFSET) as it is scrolled (Qt's ``canFetchMore``/``fetchMore``), so ten
thousand posts open as fast as ten. Sorting by a column is an ORDER BY, never a
sort of what happens to be loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, tzinfo
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QFont,
    QHelpEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain.status import NEEDS_ATTENTION, Status
from milton_desktop.publishers import registry
from milton_desktop.storage import queries
from milton_desktop.storage.queries import ScheduleFilter
from milton_desktop.ui import style
from milton_desktop.ui.calendar.chrome import STATUS_FILTERS, FilterBar
from milton_desktop.ui.calendar.hovercard import HIDES_CARD, HoverCard
from milton_desktop.ui.calendar.model import ScheduleItem, ScheduleModel, format_day

log = logging.getLogger("milton.ui.calendar")

_Index = QModelIndex | QPersistentModelIndex
#: what the list view reads: (how many the filter lets through, accounts, first rows)
TableRead = tuple[int, dict[int, tuple[str, str]], list[tuple]]

#: how many rows one read brings in (a screenful is about thirty)
PAGE = 200
#: typing pauses this long before the search runs
SEARCH_DELAY_MS = 250


class ScheduleTableModel(QAbstractTableModel):
    """Every schedule the filter lets through, read a page at a time.

    The roles are :class:`ScheduleModel`'s, so a row answers the same questions a
    calendar chip does.
    """

    ItemRole = ScheduleModel.ItemRole
    IdRole = ScheduleModel.IdRole
    StatusRole = ScheduleModel.StatusRole
    PostIdRole = ScheduleModel.PostIdRole

    COL_WHEN, COL_STATUS, COL_PLATFORM, COL_ACCOUNT, COL_TEXT, COL_PROBLEM = range(6)
    HEADERS = ("When", "Status", "Platform", "Account", "Text", "Problem")
    #: the ORDER BY of each column (``queries.TABLE_SORTS``)
    SORT_KEYS = ("time", "status", "platform", "account", "text", "problem")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.filter = ScheduleFilter()
        self.sort_key, self.descending = "time", True
        self._zone: tzinfo = UTC
        self._rows: list[tuple] = []
        self._accounts: dict[int, tuple[str, str]] = {}
        self._items: list[ScheduleItem | None] = []
        self._row_of: dict[int, int] = {}
        self._total = 0
        #: whether anything was read yet: sorting a table never shown only records the order
        self._read_once = False
        #: a narrow table shows dates without the weekday ("2 Apr 2027  10:00")
        self.compact = False

    # -- loading

    def load(self, flt: ScheduleFilter, zone: tzinfo, *, keep_loaded: bool = False) -> None:
        """Show what ``flt`` lets through; ``keep_loaded`` reads as many rows as were
        loaded before (a refresh keeps what the user scrolled to)."""
        self.show(flt, zone, self.reader(flt, keep_loaded=keep_loaded)())

    def reader(self, flt: ScheduleFilter, *, keep_loaded: bool = False) -> Callable[[], TableRead]:
        """The read :meth:`load` makes, as a function a worker thread can run."""
        wanted = max(PAGE, len(self._rows)) if keep_loaded and flt == self.filter else PAGE
        sort, descending = self.sort_key, self.descending

        def read() -> TableRead:
            total = queries.schedule_table_count(flt)
            accounts, rows = queries.schedule_table_rows(
                flt, limit=wanted, sort=sort, descending=descending
            )
            return total, accounts, rows

        return read

    def show(self, flt: ScheduleFilter, zone: tzinfo, read: TableRead) -> None:
        """Show a :meth:`reader`'s result."""
        total, accounts, rows = read
        self._read_once = True
        self.beginResetModel()
        self.filter, self._zone, self._total = flt, zone, total
        self._rows, self._accounts = list(rows), accounts
        self._items = [None] * len(self._rows)
        self._row_of = {r[0]: n for n, r in enumerate(self._rows)}
        self.endResetModel()

    def total(self) -> int:
        """How many schedules the filter lets through (loaded or not)."""
        return self._total

    def loaded(self) -> int:
        return len(self._rows)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008 - Qt's signature
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or len(self._rows) >= self._total:
            return
        accounts, rows = queries.schedule_table_rows(
            self.filter,
            limit=PAGE,
            offset=len(self._rows),
            sort=self.sort_key,
            descending=self.descending,
        )
        fresh = [r for r in rows if r[0] not in self._row_of]  # a row that moved up meanwhile
        if not fresh:
            self._total = len(self._rows)  # the store shrank since the count
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        self._accounts.update(accounts)
        for n, r in enumerate(fresh, start=first):
            self._row_of[r[0]] = n
        self._rows += fresh
        self._items += [None] * len(fresh)
        self.endInsertRows()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.SORT_KEYS):
            return
        self.sort_key = self.SORT_KEYS[column]
        self.descending = order == Qt.SortOrder.DescendingOrder
        if self._read_once:  # else the first load reads in this order (building the view
            # turns sorting on, which sorts: at 100 000 posts the count alone took ~0.1 s)
            self.load(self.filter, self._zone)

    # -- plain-Python access

    def _at(self, row: int) -> ScheduleItem:
        it = self._items[row]
        if it is None:
            it = ScheduleItem.from_calendar_row(self._rows[row], self._accounts, self._zone)
            self._items[row] = it
        return it

    def items(self) -> list[ScheduleItem]:
        """The rows loaded so far, top to bottom."""
        return [self._at(n) for n in range(len(self._rows))]

    def item(self, schedule_id: int) -> ScheduleItem | None:
        row = self._row_of.get(schedule_id)
        return None if row is None else self._at(row)

    def index_of(self, schedule_id: int, column: int = 0) -> QModelIndex:
        row = self._row_of.get(schedule_id)
        return QModelIndex() if row is None else self.index(row, column)

    # -- QAbstractItemModel

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        it = self._at(index.row())
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(it, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == self.COL_PROBLEM and it.error:
                return it.error
            return it.tooltip()
        if role == Qt.ItemDataRole.DecorationRole:
            if col == self.COL_STATUS:
                return style.status_icon(it.status)
            if col in (self.COL_PLATFORM, self.COL_ACCOUNT):
                return style.platform_icon(it.platform)
            return None
        if role == Qt.ItemDataRole.FontRole:
            if it.status == Status.CANCELLED and col == self.COL_TEXT:
                font = QFont()
                font.setStrikeOut(True)
                return font
            return None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._display(it, col) or "none"
        if role == self.ItemRole:
            return it
        if role == self.IdRole:
            return it.id
        if role == self.PostIdRole:
            return it.post_id
        if role == self.StatusRole:
            return it.status
        return None

    def _display(self, it: ScheduleItem, col: int) -> str:
        if col == self.COL_WHEN:
            if self.compact:
                return f"{it.local.day} {it.local:%b %Y}  {it.time_label}"
            return f"{format_day(it.local.date(), year=True)}  {it.time_label}"
        if col == self.COL_STATUS:
            return style.status_label(it.status)
        if col == self.COL_PLATFORM:
            return style.platform_style(it.platform).label
        if col == self.COL_ACCOUNT:
            return it.account
        if col == self.COL_PROBLEM:
            return " ".join((it.error or "").split())
        return it.short_text

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class ScheduleTable(QTableView):
    """The list view's table; says so when there is nothing to show."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.empty_text = "Nothing to show."
        self.hover_card = HoverCard(self)

    def viewportEvent(self, event: QEvent) -> bool:
        # A row rested on shows the post's card (its picture, and why it failed), except
        # on the Problem column, whose tooltip is the whole reason.
        kind = event.type()
        if kind == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            index = self.indexAt(event.pos())
            item = index.data(ScheduleModel.ItemRole) if index.isValid() else None
            if isinstance(item, ScheduleItem) and index.column() != ScheduleTableModel.COL_PROBLEM:
                QToolTip.hideText()
                rect = self.visualRect(index)
                row = QRect(0, rect.top(), self.viewport().width(), rect.height())
                area = QRect(self.viewport().mapToGlobal(row.topLeft()), row.size())
                self.hover_card.show_for(item, event.globalPos(), area)
                return True
            self.hover_card.dismiss()
        elif kind in HIDES_CARD:
            self.hover_card.dismiss()
        return super().viewportEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is not None and model.rowCount() == 0:
            p = QPainter(self.viewport())
            p.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            p.drawText(
                self.viewport().rect().adjusted(20, 20, -20, -20),
                Qt.AlignmentFlag.AlignHCenter
                | Qt.AlignmentFlag.AlignTop
                | Qt.TextFlag.TextWordWrap,
                self.empty_text,
            )
            p.end()


#: the status filter's entries: (label, statuses; empty for all)
ATTENTION = frozenset(NEEDS_ATTENTION)


class ListView(QWidget):
    """Search, filters and the table of every schedule."""

    #: a filter or the search changed (the pane reloads the table)
    filtersChanged = Signal()

    def __init__(self, model: ScheduleTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("calendarListView")
        self.model = model

        # The search and filters are their own widget: the calendar pane shows them above
        # every view (one filter for month, week, day and the list).
        self.controls = FilterBar(self)
        bar = self.controls
        self.search_edit = bar.search_edit
        self.status_combo, self.platform_combo = bar.status_combo, bar.platform_combo
        self.account_combo = bar.account_combo
        self.count_label, self.clear_button, self.filters = (
            bar.count_label,
            bar.clear_button,
            bar.filters,
        )
        self._search_timer = QTimer(self)
        self._search_timer.setObjectName("calendarListSearchTimer")
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self.search_edit.returnPressed.connect(self._on_search_timer_timeout)
        for n, (label, statuses) in enumerate(STATUS_FILTERS):
            if len(statuses) == 1:
                (only,) = statuses
                self.status_combo.addItem(style.status_icon(only), label, n)
            else:
                self.status_combo.addItem(label, n)
        self.platform_combo.addItem("All platforms", "")
        for p in registry.platforms():
            self.platform_combo.addItem(style.platform_icon(p.name), p.label, p.name)
        self.refresh_accounts()
        for combo in (self.status_combo, self.platform_combo, self.account_combo):
            combo.currentIndexChanged.connect(self._on_filter_combo_index_changed)
        self.clear_button.clicked.connect(self.clear_filter)

        self.table = ScheduleTable(self)
        self.table.setObjectName("calendarListTable")
        self.table.setAccessibleName("Scheduled posts")
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
        # newest first; the indicator is set before sorting is on, so building reads nothing
        header.setSortIndicator(ScheduleTableModel.COL_WHEN, Qt.SortOrder.DescendingOrder)
        self.table.setSortingEnabled(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        fm = self.fontMetrics()
        widths = {
            ScheduleTableModel.COL_WHEN: fm.horizontalAdvance("Wed 30 September 2026  00:00") + 28,
            ScheduleTableModel.COL_STATUS: fm.horizontalAdvance("Publishing") + 52,
            ScheduleTableModel.COL_PLATFORM: max(
                fm.horizontalAdvance(p.label) for p in registry.platforms()
            )
            + 52,
            ScheduleTableModel.COL_ACCOUNT: fm.horizontalAdvance("M") * 10,
            ScheduleTableModel.COL_PROBLEM: fm.horizontalAdvance("M") * 20,
        }
        self._widths = widths
        for col, w in widths.items():
            header.resizeSection(col, w)
        # the text takes what is left, so it never scrolls out of sight; the reason's
        # column is as wide as a short reason (the tooltip has it all)
        header.setSectionResizeMode(ScheduleTableModel.COL_TEXT, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.controls)
        layout.addWidget(self.table)

    def minimumSizeHint(self) -> QSize:
        # as narrow as the wrapped layout allows: the filters' row is the widest part
        hint = super().minimumSizeHint()
        narrow = max(self.filters.minimumSizeHint().width() + 16, 280)
        return QSize(min(hint.width(), narrow), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_columns(event.size().width())
        super().resizeEvent(event)

    def _fit_columns(self, width: int) -> None:
        """Keep the text readable in a narrow window: the platform column goes first (the
        account's badge says it), then the reason and the account narrow (tooltips keep
        them whole)."""
        fm = self.fontMetrics()
        text_min = fm.horizontalAdvance("M") * 16
        header = self.table.horizontalHeader()
        m = ScheduleTableModel
        fixed = dict(self._widths)
        state = 0
        if sum(fixed.values()) + text_min > width:
            state = 1
            del fixed[m.COL_PLATFORM]
            if sum(fixed.values()) + text_min > width:
                # the reason stays in each row's tooltip
                state = 2
                del fixed[m.COL_PROBLEM]
                fixed[m.COL_WHEN] = fm.horizontalAdvance("30 Sep 2026  00:00") + 20
                fixed[m.COL_ACCOUNT] = fm.horizontalAdvance("M") * 7
        if state == getattr(self, "_fit_state", None):
            return  # widths the user dragged stay until the window crosses a step
        self._fit_state = state
        self.table.setColumnHidden(m.COL_PLATFORM, state > 0)
        self.table.setColumnHidden(m.COL_PROBLEM, state > 1)
        if self.model.compact != (state > 1):
            self.model.compact = state > 1
            self.table.viewport().update()
        for col, w in fixed.items():
            header.resizeSection(col, w)

    # -- the filter

    def filter(self) -> ScheduleFilter:
        """What the controls ask for."""
        statuses = STATUS_FILTERS[int(self.status_combo.currentData() or 0)][1]
        account = self.account_combo.currentData()
        return ScheduleFilter(
            text=self.search_edit.text().strip(),
            statuses=statuses,
            platform=self.platform_combo.currentData() or None,
            account_id=int(account) if account else None,
        )

    def status(self) -> str | None:
        """The one status shown, or None when every status (or several) is."""
        statuses = self.filter().statuses
        return next(iter(statuses)) if len(statuses) == 1 else None

    def set_status(self, status: str | None) -> None:
        """Show only ``status`` (None: every status)."""
        wanted = frozenset({status}) if status else frozenset()
        self._set_statuses(wanted)

    def show_attention(self) -> None:
        """Show only the failed, uncertain and missed posts."""
        self._set_statuses(ATTENTION)

    def _set_statuses(self, wanted: frozenset[str]) -> None:
        for n, (_label, statuses) in enumerate(STATUS_FILTERS):
            if statuses == wanted:
                self.status_combo.setCurrentIndex(n)
                return
        raise ValueError(f"no list filter for {sorted(wanted)!r}")

    def clear_filter(self) -> None:
        """Show every post again: no search, every status, platform and account."""
        if not self.filter().narrows():
            return
        combos = (self.status_combo, self.platform_combo, self.account_combo)
        for w in (self.search_edit, *combos):
            w.blockSignals(True)
        self.search_edit.clear()
        for combo in combos:
            combo.setCurrentIndex(0)
        for w in (self.search_edit, *combos):
            w.blockSignals(False)
        self._search_timer.stop()
        self.filtersChanged.emit()

    def show_filtered(self, shown: int, total: int) -> None:
        """What a calendar view says of the filter: "Filtered: 3 of 12 shown", or nothing."""
        narrowed = self.filter().narrows()
        self.count_label.setText(f"Filtered: {shown} of {total} shown" if narrowed else "")
        self.count_label.setVisible(narrowed)
        self.clear_button.setVisible(narrowed)

    def set_search(self, text: str) -> None:
        """Search for ``text`` now (no typing delay)."""
        self.search_edit.setText(text)
        self._search_timer.stop()
        self.filtersChanged.emit()

    def focus_search(self) -> None:
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def refresh_accounts(self) -> None:
        """The account filter's entries, from the accounts as they are now."""
        current = self.account_combo.currentData()
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        self.account_combo.addItem("All accounts", 0)
        for acc in queries.list_accounts():
            self.account_combo.addItem(style.platform_icon(acc.platform), acc.display_name, acc.id)
        index = self.account_combo.findData(current) if current else 0
        self.account_combo.setCurrentIndex(max(0, index))
        self.account_combo.blockSignals(False)

    def show_count(self, total: int) -> None:
        """ "12 posts" beside the filters, and what an empty table says."""
        flt = self.filter()
        label = next((lbl for lbl, st in STATUS_FILTERS if st == flt.statuses), "")
        what = "" if not flt.statuses else f"{label.lower()} "
        if flt.statuses == ATTENTION:
            noun = "post needs attention" if total == 1 else "posts need attention"
            self.count_label.setText(f"{total} {noun}")
        else:
            self.count_label.setText(f"{total} {what}post{'s' if total != 1 else ''}")
        self.count_label.setVisible(True)
        self.clear_button.setVisible(flt.narrows())
        narrowed = flt.text or flt.platform or flt.account_id is not None
        if flt.statuses == ATTENTION and not narrowed:
            self.table.empty_text = (
                "Nothing needs your attention: no failed, uncertain or missed posts."
            )
        elif narrowed:
            self.table.empty_text = f"No {what}posts match: clear the search or a filter."
        else:
            self.table.empty_text = f"No {what}posts yet."
        self.table.viewport().update()

    # -- slots

    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def _on_search_timer_timeout(self) -> None:
        self._search_timer.stop()
        self.filtersChanged.emit()

    def _on_filter_combo_index_changed(self, _index: int) -> None:
        self.filtersChanged.emit()


__all__: Sequence[str] = ("ListView", "ScheduleTable", "ScheduleTableModel")
