"""What a calendar picture shows and how it is read, without the views' widgets.

Light on purpose: at start-up a worker thread reads the month the window opens on
(:func:`read_first_month`) while the main thread is still importing and building the
window, so it must not import the calendar pane or the views itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from milton_desktop.storage.queries import ScheduleFilter
from milton_desktop.ui.calendar.grid import local_first_weekday, month_grid_start, week_start
from milton_desktop.ui.calendar.model import RangeRead, display_zone, read_range

if TYPE_CHECKING:
    from milton_desktop.ui.calendar.view import SlotMark


@dataclass(frozen=True)
class RangeKey:
    """What a calendar picture shows: one view's days, zone, and what is hidden."""

    view: str
    start: date
    end: date
    #: the month in the month view's title (0 for week and day)
    month: int
    zone: tzinfo
    hide_cancelled: bool
    flt: ScheduleFilter


@dataclass(frozen=True)
class RangeView:
    """A range read for the calendar: its rows and (week, day) its free queue slots."""

    rows: RangeRead
    marks: list[SlotMark]


def visible_range(view: str, anchor: date) -> tuple[date, date]:
    """The days ``[start, end)`` that ``view`` shows around ``anchor``."""
    first_weekday = local_first_weekday()
    if view == "month":
        start = month_grid_start(anchor, first_weekday)
        return start, start + timedelta(days=42)
    if view == "week":
        start = week_start(anchor, first_weekday)
        return start, start + timedelta(days=7)
    return anchor, anchor + timedelta(days=1)


def range_key(
    view: str, anchor: date, zone: tzinfo, *, hide_cancelled: bool, flt: ScheduleFilter
) -> RangeKey:
    start, end = visible_range(view, anchor)
    # month: the anchor's month is in the title and greys the other weeks' days
    month = anchor.month if view == "month" else 0
    return RangeKey(view, start, end, month, zone, hide_cancelled, flt)


def read_rows(key: RangeKey) -> RangeRead:
    """The rows of ``key`` (for week and day with their items: every one is drawn);
    safe on a worker thread."""
    return read_range(
        key.start,
        key.end,
        key.zone,
        hide_cancelled=key.hide_cancelled,
        flt=key.flt,
        build_items=key.view in ("week", "day"),
    )


def read_first_month(now: datetime | None = None) -> tuple[RangeKey, RangeView]:
    """This month as a new calendar pane first shows it (no filter, cancelled posts
    hidden), with its key: the pane uses the rows only if its own key is the same.
    Runs on a worker thread with its own database connection."""
    zone = display_zone()
    today = (now or datetime.now(zone)).astimezone(zone).date()
    key = range_key("month", today, zone, hide_cancelled=True, flt=ScheduleFilter())
    return key, RangeView(read_rows(key), [])
