"""What an export says, without the database: its filter, its CSV columns, its wording.

The CSV columns are the importer's (``text``, ``account``, ``at``, ``tz``, ``media``,
``media_url``, ``alt_text``, ``voice``, ``repeat``, ``follow_up_1``…), so pending posts
exported on one computer import unchanged on another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from milton_desktop.domain.status import Status, parse_status
from milton_desktop.domain.timeutil import TimeInputError, get_zone, iso_z, localize, parse_when

FORMATS = ("csv", "json", "ics")

#: the word ``--status`` takes for posts that are not scheduled anywhere
DRAFT = "draft"

CSV_COLUMNS = (
    "text",
    "account",
    "at",
    "tz",
    "media",
    "media_url",
    "alt_text",
    "voice",
    "repeat",
)

#: what separates several paths, links or alt texts in one cell
LIST_SEPARATOR = "|"

#: the version of the JSON export's layout (``format_version``)
JSON_FORMAT_VERSION = 1

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def csv_header(follow_ups: int) -> list[str]:
    """The header row: the import columns and one ``follow_up_N`` per part after the first."""
    return [*CSV_COLUMNS, *(f"follow_up_{n}" for n in range(1, follow_ups + 1))]


@dataclass(frozen=True)
class MediaCell:
    """One attachment as a CSV row lists it: a file path or a public link."""

    path: str | None
    url: str | None
    alt_text: str


def csv_row(
    *,
    text: str,
    account: str,
    at: datetime | None,
    tz: str,
    media: list[MediaCell],
    voice: str,
    repeat: str,
    follow_ups: list[str],
    width: int,
) -> list[str]:
    """One CSV row. Files come first, then links, and ``alt_text`` follows that order
    (as ``post add --media … --media-url … --alt …`` does); a draft has no account and
    no time. ``width`` is the number of follow-up columns of the whole file."""
    files = [m for m in media if m.path]
    links = [m for m in media if not m.path and m.url]
    alts = [m.alt_text for m in (*files, *links)]
    row = [
        text,
        account,
        iso_z(at) or "",
        tz,
        LIST_SEPARATOR.join(m.path or "" for m in files),
        LIST_SEPARATOR.join(m.url or "" for m in links),
        LIST_SEPARATOR.join(alts) if any(alts) else "",
        voice,
        repeat,
    ]
    parts = list(follow_ups[:width])
    return row + parts + [""] * (width - len(parts))


def first_words(text: str, words: int = 8, limit: int = 60) -> str:
    """The start of a text on one line, for a calendar event's title."""
    flat = text.split()
    head = " ".join(flat[:words])
    if len(head) > limit:
        head = head[: limit - 1].rstrip() + "…"
    elif len(flat) > words:
        head += "…"
    return head


@dataclass(frozen=True)
class ExportFilter:
    """Which rows an export holds: a status (or ``draft``) and a time range, all optional.

    ``start`` is inclusive, ``end`` exclusive; a post with no schedule has no time, so
    a range leaves the drafts out.
    """

    status: Status | None = None
    drafts_only: bool = False
    start: datetime | None = None
    end: datetime | None = None

    @property
    def schedules(self) -> bool:
        return not self.drafts_only

    @property
    def drafts(self) -> bool:
        if self.drafts_only:
            return True
        return self.status is None and self.start is None and self.end is None


def parse_filter(
    status: str | None, start: str | None, end: str | None, zone_name: str
) -> ExportFilter:
    """The filter ``--status``, ``--from`` and ``--to`` describe.

    A bare date (``2026-03-10``) is that day in ``zone_name``, the app's zone: ``--from``
    starts at its midnight, ``--to`` takes the whole day. An ISO 8601 instant with an
    offset or ``Z`` is taken as it is (``--to`` then includes that instant).

    Raises:
        UserError: an unknown status, a date that cannot be read, a range that ends first.
    """
    chosen: Status | None = None
    drafts_only = False
    if status is not None:
        if status.strip().lower() == DRAFT:
            drafts_only = True
        else:
            chosen = parse_status(status.strip().lower())
    zone = get_zone(zone_name)
    begin = _bound(start, zone, "--from", end_of_day=False) if start else None
    finish = _bound(end, zone, "--to", end_of_day=True) if end else None
    if begin is not None and finish is not None and finish <= begin:
        raise TimeInputError(
            f"the range ends before it starts ({end} is not after {start}): swap the dates"
        )
    return ExportFilter(status=chosen, drafts_only=drafts_only, start=begin, end=finish)


def _bound(text: str, zone, what: str, *, end_of_day: bool) -> datetime:
    raw = text.strip()
    if _DAY.match(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise TimeInputError(
                f"{what} {raw!r} is not a date: use YYYY-MM-DD, e.g. 2026-03-10"
            ) from None
        if end_of_day:
            day += timedelta(days=1)
        midnight = datetime.combine(day, time(0))
        try:
            return localize(midnight, zone).astimezone(UTC)
        except TimeInputError:
            # a zone whose clocks skip midnight: the day starts an hour later
            return localize(midnight + timedelta(hours=1), zone).astimezone(UTC)
    try:
        instant = parse_when(raw)
    except TimeInputError as exc:
        raise TimeInputError(
            f"{what} {raw!r}: use a date (YYYY-MM-DD, in the app's time zone) or an "
            f"ISO 8601 instant with an offset or Z ({exc})"
        ) from None
    # an instant given as the end is part of the range
    return instant + timedelta(microseconds=1) if end_of_day else instant
