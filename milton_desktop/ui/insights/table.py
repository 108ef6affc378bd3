"""The insights table: each published post of an account with its latest figures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)

from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations.insights import AccountInsights
from milton_desktop.ui.insights.sparkline import HISTORY_ROLE

#: the role the proxy sorts by: numbers and instants, not their words
SORT_ROLE = Qt.ItemDataRole.UserRole + 21

COUNTER_LABELS = {
    "likes": "Likes",
    "reposts": "Reposts",
    "replies": "Replies",
    "quotes": "Quotes",
    "comments": "Comments",
    "shares": "Shares",
    "saves": "Saves",
    "bookmarks": "Bookmarks",
    "impressions": "Impressions",
    "reach": "Reach",
    "views": "Views",
}
#: what each snapshot's age bucket means, in words
AGE_WORDS = {"1h": "1 h in", "24h": "a day in", "7d": "a week in", "manual": "on request"}

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = False


def _ago(delta: timedelta) -> str:
    """``5 min ago``, ``3 h ago``, ``4 days ago``: the age of a snapshot, short."""
    mins = max(0, int(delta.total_seconds() // 60))
    if mins < 60:
        return f"{mins} min ago"
    if mins < 48 * 60:
        return f"{mins // 60} h ago"
    return f"{mins // (24 * 60)} days ago"


def columns_for(data: AccountInsights) -> list[Column]:
    cols = [Column("went_out", "Went out"), Column("text", "Post")]
    shown = [c for c in data.counters if c not in ("impressions", "views", "reach")]
    cols += [Column(c, COUNTER_LABELS.get(c, c.capitalize()), True) for c in shown]
    cols.append(Column("interactions", "Interactions", True))
    reach = [c for c in data.counters if c in ("impressions", "views", "reach")]
    cols += [Column(c, COUNTER_LABELS.get(c, c.capitalize()), True) for c in reach]
    cols += [Column("measured", "Measured"), Column("curve", "Over time")]
    return cols


class PostsModel(QAbstractTableModel):
    """Adapts :class:`AccountInsights` rows; a clock's ``now`` gives the snapshots' age."""

    def __init__(self, now: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self._now = now
        self.columns: list[Column] = []
        self.rows: list[dict[str, Any]] = []
        self.histories: dict[int, list[tuple[datetime, int]]] = {}
        self.zone: Any = None

    def set_data(self, data: AccountInsights | None) -> None:
        self.beginResetModel()
        if data is None:
            self.columns, self.rows, self.histories = [], [], {}
        else:
            self.columns = columns_for(data)
            self.rows = list(data.rows)
            self.histories = data.histories
            self.zone = get_zone(data.timezone)
        self.endResetModel()

    def column_of(self, key: str) -> int:
        return next(n for n, c in enumerate(self.columns) if c.key == key)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            key = self.columns[section].key
            if key == "interactions":
                return "The counters that are interactions, added up (what best times rank by)"
            if key == "measured":
                return "When the latest figures were read"
            if key == "curve":
                return "Interactions at each snapshot, from the first to the latest"
        return None

    def _value(self, row: dict[str, Any], key: str) -> Any:
        if key in ("went_out", "text", "interactions", "measured"):
            return {
                "went_out": row["published_at"],
                "text": row["text"],
                "interactions": row["interactions"],
                "measured": row["taken_at"],
            }[key]
        if key == "curve":
            history = self.histories.get(row["schedule_id"], [])
            return history[-1][1] if history else 0
        if key == "impressions" and row.get("impressions") is not None:
            return row["impressions"]
        return row["counters"].get(key)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = self.columns[index.column()]
        value = self._value(row, col.key)
        if role == SORT_ROLE:
            if isinstance(value, datetime):
                return value.timestamp()
            if col.numeric or col.key == "curve":
                return -1 if value is None else int(value)
            return str(value or "").casefold()
        if role == HISTORY_ROLE and col.key == "curve":
            return self.histories.get(row["schedule_id"], [])
        if role == Qt.ItemDataRole.DisplayRole:
            if col.key == "went_out":
                local = value.astimezone(self.zone)
                # the year only when it is not this one: the post's words need the room
                shape = "%a %d %b, %H:%M" if local.year == self._now().year else "%d %b %Y, %H:%M"
                return local.strftime(shape)
            if col.key == "text":
                first = str(value).strip().splitlines()[0] if str(value).strip() else ""
                return first if len(first) <= 60 else first[:59] + "…"
            if col.key == "measured":
                return f"{AGE_WORDS.get(row['age'], row['age'])} · {_ago(self._now() - value)}"
            if col.key == "curve":
                return None
            return "–" if value is None else f"{int(value):,}"
        if role == Qt.ItemDataRole.ToolTipRole:
            if col.key == "text":
                return str(value)
            if col.key == "went_out":
                return value.astimezone(self.zone).strftime("%A %d %B %Y, %H:%M %Z")
            if col.key == "curve":
                history = self.histories.get(row["schedule_id"], [])
                steps = ", ".join(str(v) for _t, v in history)
                return f"Interactions at each snapshot: {steps}" if history else None
            if col.numeric and value is None:
                return "The platform gave no such figure for this post"
        if role == Qt.ItemDataRole.TextAlignmentRole and col.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def sorting_proxy(model: PostsModel) -> QSortFilterProxyModel:
    proxy = QSortFilterProxyModel(model)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    return proxy
