"""Qt item models that adapt the domain (``store``) for the calendar, list and drafts.

The views never read the database themselves: they get :class:`ScheduleItem` and
:class:`DraftItem` snapshots from these models, which load them through ``store``
for the range on screen only. Drags carry ids, never rows, so a drop always acts
on the current state in the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from milton_desktop import settings, store
from milton_desktop.models import ScheduledPost
from milton_desktop.timeutil import TimeInputError, get_zone, local_zone_name
from milton_desktop.ui import style

log = logging.getLogger("milton.ui.calendar")

SCHEDULE_MIME = "application/x-milton-schedule"
POST_MIME = "application/x-milton-post"

_Index = QModelIndex | QPersistentModelIndex


# ---------------------------------------------------------------- drag payloads


def encode_ids(ids: Iterable[int]) -> QByteArray:
    """The payload of a drag: a JSON list of ids."""
    return QByteArray(json.dumps([int(i) for i in ids]).encode("ascii"))


def decode_ids(mime: QMimeData, mime_type: str) -> list[int]:
    """The ids in ``mime`` under ``mime_type``; an empty list for anything malformed."""
    if mime is None or not mime.hasFormat(mime_type):
        return []
    try:
        value = json.loads(bytes(mime.data(mime_type).data()).decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return []
    if not isinstance(value, list):
        return []
    # bool is an int subclass; a payload of true/false is not a list of ids
    return [v for v in value if isinstance(v, int) and not isinstance(v, bool) and v > 0]


def make_mime(mime_type: str, ids: Iterable[int]) -> QMimeData:
    """A QMimeData carrying ``ids`` as ``mime_type`` (what chips and drafts drag)."""
    mime = QMimeData()
    mime.setData(mime_type, encode_ids(ids))
    return mime


# ---------------------------------------------------------------- time helpers


def display_zone() -> tzinfo:
    """The zone times are shown and entered in: the ``timezone`` setting, else this computer's."""
    name = settings.get("timezone") or local_zone_name()
    try:
        return get_zone(name)
    except TimeInputError as exc:
        # A bad setting must not make the calendar unusable; UTC is at least unambiguous.
        log.warning("%s; showing times in UTC", exc)
        return UTC


def zone_name(zone: tzinfo) -> str:
    """The IANA name to store with a schedule made in ``zone``."""
    return getattr(zone, "key", None) or "UTC"


def local_midnight_utc(day: date, zone: tzinfo) -> datetime:
    """The UTC instant the local ``day`` starts (a range bound, so a gap at 00:00 is harmless)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def short_text(text: str, limit: int = 80) -> str:
    """The first line of ``text`` with whitespace collapsed, cut at ``limit`` characters."""
    line = " ".join((text or "").split())
    if len(line) > limit:
        return line[: limit - 1].rstrip() + "…"
    return line


def format_day(d: date, *, weekday: bool = True, year: bool = False) -> str:
    """``Fri 27 March`` (English, like the rest of the interface), optionally with the year."""
    text = f"{d.day} {d:%B}"
    if weekday:
        text = f"{d:%a} {text}"
    if year:
        text += f" {d.year}"
    return text


# ---------------------------------------------------------------- schedules


@dataclass(frozen=True, slots=True)
class ScheduleItem:
    """A snapshot of one scheduled post as the calendar shows it."""

    id: int
    post_id: int
    account: str
    platform: str
    local: datetime  # aware, in the display zone
    status: str
    short_text: str
    text: str
    url: str | None
    error: str | None
    # Derived once: the views ask for these on every layout and paint.
    day: date = field(init=False)
    time_label: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "day", self.local.date())
        object.__setattr__(self, "time_label", f"{self.local.hour:02d}:{self.local.minute:02d}")

    @property
    def when_utc(self) -> datetime:
        return self.local.astimezone(UTC)

    @property
    def movable(self) -> bool:
        return self.status in style.MOVABLE_STATUSES

    @property
    def cancellable(self) -> bool:
        return self.status in style.CANCELLABLE_STATUSES

    @classmethod
    def from_row(cls, row: ScheduledPost, zone: tzinfo) -> ScheduleItem:
        text = row.text_override if row.text_override is not None else row.post.body
        return cls(
            id=row.id,
            post_id=row.post_id,
            account=row.account.display_name,
            platform=row.account.platform,
            local=row.scheduled_time.astimezone(zone),
            status=row.status,
            short_text=short_text(text),
            text=text or "",
            url=row.remote_url,
            error=row.error_message,
        )

    @classmethod
    def from_json(cls, row: Mapping[str, Any], zone: tzinfo) -> ScheduleItem:
        """From one :func:`store.schedule_rows` dict (the ``schedule_json`` shape)."""
        text = row["text"] or ""
        return cls(
            id=row["id"],
            post_id=row["post_id"],
            account=row["account"],
            platform=row["platform"],
            local=datetime.fromisoformat(row["scheduled_time"]).astimezone(zone),
            status=row["status"],
            short_text=short_text(text),
            text=text,
            url=row["url"],
            error=row["error"],
        )

    def tooltip(self) -> str:
        """Plain text: the full post, where and when, and what went wrong if anything did."""
        ps = style.platform_style(self.platform)
        lines = [
            f"{style.status_label(self.status)} · {ps.label} · {self.account}",
            f"{format_day(self.local.date())} {self.time_label} ({zone_name(self.local.tzinfo)})",
            "",
            self.text.strip() or "(no text)",
        ]
        if self.error:
            lines += ["", f"Error: {self.error}"]
        if self.url:
            lines += ["", self.url]
        return "\n".join(lines)


def load_schedule_items(
    start: date, end: date, zone: tzinfo, status: str | None = None
) -> list[ScheduleItem]:
    """Schedules whose local day is in ``[start, end)``, ordered by time (one store query).

    ``store.schedule_rows`` reads plain rows; building a peewee model per row
    (``list_schedules``) costs several times more on a busy month.
    """
    rows = store.schedule_rows(
        status, start=local_midnight_utc(start, zone), end=local_midnight_utc(end, zone)
    )
    return [ScheduleItem.from_json(row, zone) for row in rows]


class ScheduleModel(QAbstractTableModel):
    """Schedules of one date range, as a table (When, Status, Platform, Account, Text).

    The calendar views read :meth:`items_on` / :meth:`item`; the list view shows the
    table. Column 0 carries every custom role.
    """

    ItemRole = Qt.ItemDataRole.UserRole + 1
    IdRole = Qt.ItemDataRole.UserRole + 2
    StatusRole = Qt.ItemDataRole.UserRole + 3
    StatusColorRole = Qt.ItemDataRole.UserRole + 4
    PlatformRole = Qt.ItemDataRole.UserRole + 5
    LocalTimeRole = Qt.ItemDataRole.UserRole + 6
    PostIdRole = Qt.ItemDataRole.UserRole + 7

    COL_WHEN, COL_STATUS, COL_PLATFORM, COL_ACCOUNT, COL_TEXT = range(5)
    HEADERS = ("When", "Status", "Platform", "Account", "Text")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[ScheduleItem] = []
        self._row_of: dict[int, int] = {}
        self._by_day: dict[date, list[ScheduleItem]] = {}
        self.start: date | None = None
        self.end: date | None = None
        self.status: str | None = None

    # -- loading

    def load(
        self,
        start: date,
        end: date,
        zone: tzinfo,
        status: str | None = None,
        *,
        hide_cancelled: bool = False,
    ) -> None:
        """Reload the local days ``[start, end)`` (optionally one status) from the store."""
        items = load_schedule_items(start, end, zone, status)
        if hide_cancelled:
            items = [it for it in items if it.status != "cancelled"]
        self.start, self.end, self.status = start, end, status
        self.set_items(items)

    def set_items(self, items: Sequence[ScheduleItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self._row_of = {it.id: n for n, it in enumerate(self._items)}
        by_day: dict[date, list[ScheduleItem]] = {}
        for it in self._items:
            by_day.setdefault(it.day, []).append(it)
        self._by_day = by_day
        self.endResetModel()

    # -- plain-Python access for the painted views

    def items(self) -> list[ScheduleItem]:
        return list(self._items)

    def items_on(self, day: date) -> list[ScheduleItem]:
        return self._by_day.get(day, [])

    def item(self, schedule_id: int) -> ScheduleItem | None:
        row = self._row_of.get(schedule_id)
        return None if row is None else self._items[row]

    def index_of(self, schedule_id: int, column: int = 0) -> QModelIndex:
        row = self._row_of.get(schedule_id)
        return QModelIndex() if row is None else self.index(row, column)

    # -- QAbstractItemModel

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(it, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return it.tooltip()
        if role == Qt.ItemDataRole.DecorationRole:
            if col == self.COL_STATUS:
                return style.status_icon(it.status)
            if col == self.COL_PLATFORM:
                return style.platform_icon(it.platform)
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(style.TEXT_DIM) if it.status == "cancelled" else None
        if role == Qt.ItemDataRole.FontRole:
            if it.status == "cancelled" and col == self.COL_TEXT:
                font = QFont()
                font.setStrikeOut(True)
                return font
            return None
        if role == self.ItemRole:
            return it
        if role == self.IdRole:
            return it.id
        if role == self.PostIdRole:
            return it.post_id
        if role == self.StatusRole:
            return it.status
        if role == self.StatusColorRole:
            return style.status_color(it.status)
        if role == self.PlatformRole:
            return it.platform
        if role == self.LocalTimeRole:
            return it.time_label
        return None

    def _display(self, it: ScheduleItem, col: int) -> str:
        if col == self.COL_WHEN:
            return f"{format_day(it.local.date(), year=True)}  {it.time_label}"
        if col == self.COL_STATUS:
            return style.status_label(it.status)
        if col == self.COL_PLATFORM:
            return style.platform_style(it.platform).label
        if col == self.COL_ACCOUNT:
            return it.account
        return it.short_text

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if self._items[index.row()].movable:
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role, name in (
            (self.ItemRole, b"item"),
            (self.IdRole, b"scheduleId"),
            (self.PostIdRole, b"postId"),
            (self.StatusRole, b"status"),
            (self.StatusColorRole, b"statusColor"),
            (self.PlatformRole, b"platform"),
            (self.LocalTimeRole, b"localTime"),
        ):
            names[role] = QByteArray(name)
        return names

    def mimeTypes(self) -> list[str]:
        return [SCHEDULE_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids: list[int] = []
        for index in indexes:
            if index.isValid():
                sid = self._items[index.row()].id
                if sid not in ids:
                    ids.append(sid)
        return make_mime(SCHEDULE_MIME, ids)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction


# ---------------------------------------------------------------- drafts


@dataclass(frozen=True, slots=True)
class DraftItem:
    """A post with no live schedule, as the drafts pane shows it."""

    post_id: int
    text: str
    short_text: str
    media_count: int
    updated_local: datetime


def load_draft_items(zone: tzinfo) -> list[DraftItem]:
    """Unscheduled posts, most recently edited first."""
    return [
        DraftItem(
            post_id=post.id,
            text=post.body or "",
            short_text=short_text(post.body, 140),
            media_count=len(store.media_items(post)),
            updated_local=post.updated_at.astimezone(zone),
        )
        for post in store.drafts()
    ]


class DraftsModel(QAbstractListModel):
    """Draft posts, draggable onto the calendar as ``application/x-milton-post``."""

    ItemRole = Qt.ItemDataRole.UserRole + 1
    PostIdRole = Qt.ItemDataRole.UserRole + 2
    MediaCountRole = Qt.ItemDataRole.UserRole + 3

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._items: list[DraftItem] = []

    def load(self, zone: tzinfo) -> None:
        self.set_items(load_draft_items(zone))

    def set_items(self, items: Sequence[DraftItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[DraftItem]:
        return list(self._items)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        it = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return it.short_text or "(no text)"
        if role == Qt.ItemDataRole.ToolTipRole:
            return it.text.strip() or "(no text)"
        if role == self.ItemRole:
            return it
        if role == self.PostIdRole:
            return it.post_id
        if role == self.MediaCountRole:
            return it.media_count
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
        )

    def mimeTypes(self) -> list[str]:
        return [POST_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        ids: list[int] = []
        for index in indexes:
            if index.isValid():
                pid = self._items[index.row()].post_id
                if pid not in ids:
                    ids.append(pid)
        return make_mime(POST_MIME, ids)

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction


# ---------------------------------------------------------------- accounts


@dataclass(frozen=True, slots=True)
class AccountChoice:
    """An account a dropped draft can be scheduled on."""

    id: int
    name: str
    platform: str
    needs_reconnect: bool


def account_choices() -> list[AccountChoice]:
    """Every account, by name."""
    return [
        AccountChoice(a.id, a.display_name, a.platform, a.status == "needs_reconnect")
        for a in store.list_accounts()
    ]


def parse_hhmm(text: str, fallback: time = time(10, 0)) -> time:
    """``"09:30"`` -> 09:30; a malformed setting falls back rather than breaking drops."""
    try:
        hh, mm = str(text).strip().split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        return fallback
