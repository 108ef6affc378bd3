"""Qt item models that adapt the domain (``store``) for the calendar, list and drafts.

The views never read the database themselves: they get :class:`ScheduleItem` and
:class:`DraftItem` snapshots from these models, which load them through ``store``
for the range on screen only. Drags carry ids, never rows, so a drop always acts
on the current state in the database.
"""

from __future__ import annotations

import json
import logging
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
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
from PySide6.QtGui import QFont

from milton_desktop.domain.status import APPROVABLE, CANCELLABLE, MOVABLE, AccountStatus, Status
from milton_desktop.domain.timeutil import TimeInputError, get_zone, local_zone_name
from milton_desktop.storage import queries, settings
from milton_desktop.storage.queries import ScheduleFilter, ScheduleView
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


def zone_name(zone: tzinfo | None) -> str:
    """The IANA name to store with a schedule made in ``zone`` (UTC when it has none)."""
    return getattr(zone, "key", None) or "UTC"


def local_midnight_utc(day: date, zone: tzinfo) -> datetime:
    """The UTC instant the local ``day`` starts (a range bound, so a gap at 00:00 is harmless)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


#: one :func:`queries.calendar_rows` row:
#: (id, post_id, account_id, UTC time text, status, text, remote_url, error_message,
#: recurring, parts, live parts); the list view's rows stop after error_message
CalendarRow = tuple[Any, ...]

#: the smallest step between two instants the store keeps
_TICK = timedelta(microseconds=1)


def utc_from_text(text: str) -> datetime:
    """The aware UTC instant of a stored time (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


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
    #: made by a repeat rule (its chip carries a ↻)
    recurring: bool = False
    #: a thread's parts (1: a single post), and how many of them are live
    parts: int = 1
    live_parts: int = 0
    #: the members who made it, changed it last and approved it (team mode)
    created_by: str | None = None
    updated_by: str | None = None
    approved_by: str | None = None
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
        return self.status in MOVABLE

    @property
    def cancellable(self) -> bool:
        return self.status in CANCELLABLE

    @classmethod
    def from_row(cls, row: ScheduleView, zone: tzinfo) -> ScheduleItem:
        text = row.text
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
            recurring=row.recurring,
            parts=row.part_count,
            live_parts=row.live_parts,
            created_by=row.created_by,
            updated_by=row.updated_by,
            approved_by=row.approved_by,
        )

    @classmethod
    def from_calendar_row(
        cls, row: CalendarRow, accounts: Mapping[int, tuple[str, str]], zone: tzinfo
    ) -> ScheduleItem:
        """From one :func:`queries.calendar_rows` row and that call's accounts."""
        sid, post_id, account_id, when, status, text, url, error, *rest = row
        name, platform = accounts[account_id]
        text = text or ""
        return cls(
            id=sid,
            post_id=post_id,
            account=name,
            platform=platform,
            local=utc_from_text(when).astimezone(zone),
            status=status,
            short_text=short_text(text),
            text=text,
            url=url,
            error=error,
            recurring=bool(rest and rest[0]),
            parts=int(rest[1]) if len(rest) > 1 else 1,
            live_parts=int(rest[2]) if len(rest) > 2 else 0,
            created_by=rest[3] if len(rest) > 3 else None,
            updated_by=rest[4] if len(rest) > 4 else None,
            approved_by=rest[5] if len(rest) > 5 else None,
        )

    @property
    def thread_words(self) -> str:
        """What the head of a hover card adds for a thread (" · 3 parts, 1 live");
        nothing for a single post."""
        if self.parts <= 1:
            return ""
        live = f", {self.live_parts} live" if 0 < self.live_parts < self.parts else ""
        return f" · {self.parts} parts{live}"

    def accessible_text(self) -> str:
        """One line a screen reader says for the chip: status, channel, when, the text."""
        ps = style.platform_style(self.platform)
        repeats = ", repeats" if self.recurring else ""
        repeats += f", in {self.parts} parts" if self.parts > 1 else ""
        return (
            f"{style.status_label(self.status)} {ps.label} post on {self.account}{repeats}, "
            f"{format_day(self.local.date())} {self.time_label}: {self.short_text or 'no text'}"
        )

    def tooltip(self) -> str:
        """Plain text: the full post, where and when, and what went wrong if anything did."""
        ps = style.platform_style(self.platform)
        repeats = (" · repeats" if self.recurring else "") + self.thread_words
        lines = [
            f"{style.status_label(self.status)} · {ps.label} · {self.account}{repeats}",
            f"{format_day(self.local.date())} {self.time_label} ({zone_name(self.local.tzinfo)})",
            "",
            self.text.strip() or "(no text)",
        ]
        if self.status == Status.AWAITING_APPROVAL:
            lines += ["", "Waits for a member's approval: right-click it and choose Approve"]
        if self.error:
            lines += ["", f"Error: {self.error}"]
        if self.url:
            lines += ["", self.url]
        who = self.members_line()
        if who:
            lines += ["", who]
        return "\n".join(lines)

    def members_line(self) -> str:
        """Who made it, changed it and approved it ("" when nobody is recorded)."""
        said = []
        if self.created_by:
            said.append(f"Created by {self.created_by}")
        if self.updated_by and self.updated_by != self.created_by:
            said.append(f"changed by {self.updated_by}")
        if self.approved_by:
            said.append(f"approved by {self.approved_by}")
        if not said:
            return ""
        line = " · ".join(said)
        return line[0].upper() + line[1:]

    @property
    def approvable(self) -> bool:
        return self.status in APPROVABLE


def _row_instant(row: CalendarRow) -> datetime:
    """A row's instant as naive UTC: the bisection key of :func:`day_row_ranges`."""
    return datetime.fromisoformat(row[3])


def _day_is_regular(day: date, first: datetime, after: datetime, zone: tzinfo) -> bool:
    """Whether every instant in ``[first, after)`` (UTC) falls on local ``day``.

    True when one offset holds from the first instant to the last one and they read
    00:00 and 23:59:59.999999 on ``day``: then local time is UTC plus that offset
    throughout (no zone has two transitions within one day that cancel out).
    """
    head = first.astimezone(zone)
    tail = (after - _TICK).astimezone(zone)
    return (
        head.utcoffset() == tail.utcoffset()
        and head.replace(tzinfo=None) == datetime.combine(day, time(0))
        and tail.date() == day
    )


def day_row_ranges(
    rows: Sequence[CalendarRow], start: date, end: date, zone: tzinfo
) -> dict[date, Sequence[int]]:
    """The positions in ``rows`` (sorted by time) of each local day's schedules.

    Rows sorted by instant are sorted by local day too, so each day is the slice
    between two bisections on its local midnights: no row is converted. A day with a
    clock change (or a local midnight that does not exist) is the exception; its rows
    are converted one by one, so a schedule always lands on the day its local time says.
    """
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    bounds = [local_midnight_utc(d, zone) for d in days]
    cuts = [bisect_left(rows, b.replace(tzinfo=None), key=_row_instant) for b in bounds]
    out: dict[date, Sequence[int]] = {}
    odd: dict[date, list[int]] = {}
    for n, day in enumerate(days[:-1]):
        lo, hi = cuts[n], cuts[n + 1]
        if lo == hi:
            continue
        if _day_is_regular(day, bounds[n], bounds[n + 1], zone):
            out[day] = range(lo, hi)
        else:
            for r in range(lo, hi):
                odd.setdefault(utc_from_text(rows[r][3]).astimezone(zone).date(), []).append(r)
    for day, extra in odd.items():
        out[day] = sorted([*out.get(day, ()), *extra])
    return out


def utc_stamp(when: datetime) -> str:
    """An aware instant as the store writes it (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass(frozen=True, slots=True)
class Change:
    """What an edit made of one schedule, shown before the store's read confirms it:
    its new instant, its new status, or both (None: unchanged)."""

    when: datetime | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class RangeRead:
    """What :func:`read_range` read of a range of local days: plain rows, made on a
    worker thread and shown by :meth:`ScheduleModel.show` on the GUI thread."""

    start: date
    end: date
    zone: tzinfo
    status: str | None
    hide_cancelled: bool
    accounts: Mapping[int, tuple[str, str]]
    rows: Sequence[CalendarRow]
    unfiltered: int
    #: the rows as items, built ahead when every one of them is drawn (week, day)
    items: Sequence[ScheduleItem] | None = None
    #: every schedule id read, to tell whether a change touches this range
    ids: frozenset[int] = frozenset()

    @property
    def first(self) -> datetime:
        return local_midnight_utc(self.start, self.zone)

    @property
    def after(self) -> datetime:
        return local_midnight_utc(self.end, self.zone)

    def covers(self, when: datetime) -> bool:
        """Whether the instant ``when`` falls in the range read."""
        return self.first <= when < self.after


def read_range(
    start: date,
    end: date,
    zone: tzinfo,
    status: str | None = None,
    *,
    hide_cancelled: bool = False,
    flt: ScheduleFilter | None = None,
    build_items: bool = False,
) -> RangeRead:
    """The local days ``[start, end)`` (optionally one status) from the store; safe on
    a worker thread (it touches no widget).

    ``flt`` (the list view's filter, shared by every view) narrows what is read, so
    the day counts and "+N more" are of what the filter lets through. When it
    narrows, ``unfiltered`` is how many the range holds without it.
    """
    first, after = local_midnight_utc(start, zone), local_midnight_utc(end, zone)
    narrowed = flt is not None and flt.narrows()
    accounts, rows = queries.calendar_rows(
        first,
        after,
        status,
        include_cancelled=not hide_cancelled,
        flt=flt if narrowed else None,
    )
    if narrowed and flt is not None:
        # a filter asking for cancelled posts shows them: they count among the whole
        asks_cancelled = Status.CANCELLED in flt.statuses
        unfiltered = queries.calendar_count(
            first, after, include_cancelled=asks_cancelled or not hide_cancelled
        )
    else:
        unfiltered = len(rows)
    items = (
        [ScheduleItem.from_calendar_row(r, accounts, zone) for r in rows] if build_items else None
    )
    return RangeRead(
        start,
        end,
        zone,
        status,
        hide_cancelled,
        accounts,
        rows,
        unfiltered,
        items,
        frozenset(r[0] for r in rows),
    )


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
        # Rows from the store become ScheduleItems only when asked for: a dense month is
        # ten thousand schedules, of which the month view shows a couple of hundred.
        self._rows: list[CalendarRow] = []
        self._accounts: Mapping[int, tuple[str, str]] = {}
        self._zone: tzinfo = UTC
        self._items: list[ScheduleItem | None] = []
        self._row_of_cache: dict[int, int] | None = None
        self._day_rows: Mapping[date, Sequence[int]] = {}
        self.start: date | None = None
        self.end: date | None = None
        self.status: str | None = None
        #: how many schedules the loaded range holds before the filter (``load``)
        self.unfiltered = 0
        self.hide_cancelled = False

    # -- loading

    def load(
        self,
        start: date,
        end: date,
        zone: tzinfo,
        status: str | None = None,
        *,
        hide_cancelled: bool = False,
        flt: ScheduleFilter | None = None,
    ) -> None:
        """Reload the local days ``[start, end)`` (optionally one status) from the store
        on this thread (see :func:`read_range`)."""
        self.show(read_range(start, end, zone, status, hide_cancelled=hide_cancelled, flt=flt))

    def show(self, read: RangeRead) -> None:
        """Show what :func:`read_range` read (on a worker, or just now)."""
        self.start, self.end, self.status = read.start, read.end, read.status
        self.unfiltered = read.unfiltered
        self.hide_cancelled = read.hide_cancelled
        self.beginResetModel()
        self._rows, self._accounts, self._zone = list(read.rows), read.accounts, read.zone
        self._items = list(read.items) if read.items is not None else [None] * len(read.rows)
        self._row_of_cache = None
        self._day_rows = day_row_ranges(self._rows, read.start, read.end, read.zone)
        self.endResetModel()

    def patch(self, changes: Mapping[int, Change]) -> bool:
        """Show ``changes`` (schedule id -> new instant and/or status) at once, before
        the store confirms them: a moved chip jumps to its new day, a cancelled one
        goes. A schedule not in the loaded range is left to the next read. Returns
        whether anything shown changed."""
        if not self._rows or self.start is None or self.end is None:
            return False
        first = local_midnight_utc(self.start, self._zone)
        after = local_midnight_utc(self.end, self._zone)
        touched = False
        for sid, change in changes.items():
            row = self._row_of.get(sid)
            if row is None:
                continue
            old = self._rows.pop(row)
            self._items.pop(row)
            self._row_of_cache = None
            touched = True
            status = change.status or old[4]
            if status == Status.CANCELLED and self.hide_cancelled:
                continue
            when = old[3] if change.when is None else utc_stamp(change.when)
            if change.when is not None and not first <= change.when < after:
                continue  # moved out of the range on screen
            new = (*old[:3], when, status, *old[5:])
            at = bisect_left(self._rows, (when, sid), key=lambda r: (r[3], r[0]))
            self._rows.insert(at, new)
            self._items.insert(at, None)  # built again, with its new time, when shown
        if touched:
            self.beginResetModel()
            self._day_rows = day_row_ranges(self._rows, self.start, self.end, self._zone)
            self.endResetModel()
        return touched

    def set_items(self, items: Sequence[ScheduleItem]) -> None:
        """Show ``items`` (already built, in the order given) instead of a store read."""
        self.beginResetModel()
        self._rows, self._accounts = [], {}
        self._items = list(items)
        self._row_of_cache = None
        day_rows: dict[date, list[int]] = {}
        for n, it in enumerate(items):
            day_rows.setdefault(it.day, []).append(n)
        self._day_rows = day_rows
        self.endResetModel()

    def _at(self, row: int) -> ScheduleItem:
        """The item of ``row``, built from its store row on first use."""
        it = self._items[row]
        if it is None:
            it = ScheduleItem.from_calendar_row(self._rows[row], self._accounts, self._zone)
            self._items[row] = it
        return it

    @property
    def _row_of(self) -> dict[int, int]:
        # Built on the first lookup by id: a plain refresh never needs it.
        if self._row_of_cache is None:
            if self._rows:
                self._row_of_cache = {r[0]: n for n, r in enumerate(self._rows)}
            else:
                self._row_of_cache = {it.id: n for n, it in enumerate(self._items) if it}
        return self._row_of_cache

    # -- plain-Python access for the painted views

    def items(self) -> list[ScheduleItem]:
        return [self._at(n) for n in range(len(self._items))]

    def items_on(self, day: date, limit: int | None = None) -> list[ScheduleItem]:
        """The schedules of local ``day`` by time; only the first ``limit`` if given."""
        rows = self._day_rows.get(day, ())
        if limit is not None:
            rows = rows[: max(0, limit)]
        return [self._at(n) for n in rows]

    def count_on(self, day: date) -> int:
        """How many schedules local ``day`` has, without building them."""
        return len(self._day_rows.get(day, ()))

    def item(self, schedule_id: int) -> ScheduleItem | None:
        row = self._row_of.get(schedule_id)
        return None if row is None else self._at(row)

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
        it = self._at(index.row())
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
            return style.theme_for().text_dim if it.status == Status.CANCELLED else None
        if role == Qt.ItemDataRole.FontRole:
            if it.status == Status.CANCELLED and col == self.COL_TEXT:
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
        if self._at(index.row()).movable:
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
                sid = self._at(index.row()).id
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
            post_id=post_id,
            text=body or "",
            short_text=short_text(body, 140),
            media_count=int(media_count),
            updated_local=utc_from_text(updated).astimezone(zone),
        )
        for post_id, body, updated, media_count in queries.draft_rows()
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
    #: the account's plan where it changes the limits (X Premium)
    tier: str | None = None


def account_choices() -> list[AccountChoice]:
    """Every account, by name."""
    return [
        AccountChoice(
            a.id, a.display_name, a.platform, a.status == AccountStatus.NEEDS_RECONNECT, a.tier
        )
        for a in queries.list_accounts()
    ]


def parse_hhmm(text: str, fallback: time = time(10, 0)) -> time:
    """``"09:30"`` -> 09:30; a malformed setting falls back rather than breaking drops."""
    try:
        hh, mm = str(text).strip().split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        return fallback
