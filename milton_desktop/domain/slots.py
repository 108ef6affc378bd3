"""Weekly queue slots: "my posting times", as wall-clock times in an account's zone.

A slot is a weekday and a time of day ("TU 13:30"). Each week it becomes one instant
in the account's zone, read as a local time, so 09:00 stays 09:00 across daylight
saving changes. Two nights a year need a decision, made here once:

- a slot inside a DST gap (02:30 on the night the clocks skip 02:00-03:00) does not
  exist that day: it is skipped, and :func:`skipped_between` says so;
- a slot inside a DST fold (02:30 on the night the clocks go back) happens twice: it
  fires once, at the first of the two.

Everything here is pure arithmetic; ``operations.queue`` reads the slots and the
schedules that occupy them.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, get_zone, localize

#: the day names of the command line, Monday first (as iCalendar spells them)
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: a queue holds this many slots at most: one every half hour of every day of the week
MAX_SLOTS = 7 * 48
#: a schedule at most this long after a slot's instant still occupies the slot
OCCUPANCY = timedelta(minutes=1)

_SLOT_RE = re.compile(r"^\s*([A-Za-z]{2}(?:\s*,\s*[A-Za-z]{2})*)\s+(\d{1,2}):(\d{2})\s*$")
_EXAMPLE = 'e.g. "MO 09:00" or "TU,TH 13:30"'


class SlotError(UserError):
    """A slot the user wrote that cannot be read; the message says how to write it."""


@dataclass(frozen=True, order=True)
class Slot:
    """One weekly posting time: ``weekday`` 0 is Monday, ``minute`` counts from local midnight."""

    weekday: int
    minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or not 0 <= self.minute < 24 * 60:
            raise SlotError(f"no such slot: weekday {self.weekday}, minute {self.minute}")

    @property
    def day(self) -> str:
        """The day's two letters: ``MO`` … ``SU``."""
        return DAYS[self.weekday]

    @property
    def time(self) -> time:
        return time(self.minute // 60, self.minute % 60)

    @property
    def time_text(self) -> str:
        """``HH:MM``, 24 h."""
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    def __str__(self) -> str:
        return f"{self.day} {self.time_text}"


def parse_slot(text: str) -> list[Slot]:
    """The slots one ``--slot`` value names: ``"MO 09:00"``, ``"TU,TH 13:30"``.

    Raises:
        SlotError: the days or the time cannot be read; the message says which.
    """
    raw = text if isinstance(text, str) else ""
    match = _SLOT_RE.match(raw)
    if match is None:
        raise SlotError(
            f"cannot read the slot {raw!r}: write the days, a space and a 24 h time, {_EXAMPLE} "
            f"(days: {' '.join(DAYS)})"
        )
    days_text, hh, mm = match.groups()
    hour, minute = int(hh), int(mm)
    if hour > 23 or minute > 59:
        raise SlotError(
            f"the slot {raw.strip()!r} has no such time {hh}:{mm}: use a 24 h time from "
            "00:00 to 23:59"
        )
    out: list[Slot] = []
    for name in (d.strip().upper() for d in days_text.split(",")):
        if name not in DAYS:
            raise SlotError(
                f"the slot {raw.strip()!r} names no day {name!r}: use {', '.join(DAYS)} "
                f"(comma lists allowed, {_EXAMPLE})"
            )
        out.append(Slot(DAYS.index(name), hour * 60 + minute))
    return out


def parse_slots(texts: Iterable[str]) -> list[Slot]:
    """Every slot ``texts`` name, each once, in weekly order."""
    slots = sorted({s for text in texts for s in parse_slot(text)})
    check_count(slots)
    return slots


def check_count(slots: Sequence[Slot]) -> None:
    if len(slots) > MAX_SLOTS:
        raise SlotError(
            f"{len(slots)} slots is more than a queue holds ({MAX_SLOTS}, one every half "
            "hour of the week): leave some out"
        )


@dataclass(frozen=True)
class Skipped:
    """A slot that does not happen on one date: the clocks jump over its time."""

    slot: Slot
    date: date
    reason: str


def _local_days(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[date]:
    # a day of slack each side: a slot's date in the zone is not the UTC date
    first = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _by_weekday(slots: Iterable[Slot]) -> dict[int, list[Slot]]:
    table: dict[int, list[Slot]] = {}
    for slot in sorted(set(slots)):
        table.setdefault(slot.weekday, []).append(slot)
    return table


def _instant(slot: Slot, day: date, zone: ZoneInfo) -> datetime | None:
    """The UTC instant of ``slot`` on ``day``; None when the clocks skip its time then.

    A time that happens twice (a fold) is taken at its first occurrence, so the slot
    fires once that night.
    """
    try:
        return localize(datetime.combine(day, slot.time), zone, fold=0).astimezone(UTC)
    except TimeInputError:
        return None


def slot_instants(
    slots: Iterable[Slot], zone_name: str, start: datetime, end: datetime
) -> list[tuple[datetime, Slot]]:
    """Every slot's instants in ``[start, end)``, soonest first, DST gaps left out."""
    zone = get_zone(zone_name)
    table = _by_weekday(slots)
    out: list[tuple[datetime, Slot]] = []
    if not table:
        return out
    for day in _local_days(zone, start, end):
        for slot in table.get(day.weekday(), ()):
            at = _instant(slot, day, zone)
            if at is not None and start <= at < end:
                out.append((at, slot))
    out.sort()
    return out


def skipped_between(
    slots: Iterable[Slot], zone_name: str, start: datetime, end: datetime
) -> list[Skipped]:
    """The slots the clocks jump over in ``[start, end)``, each with the date and why."""
    zone = get_zone(zone_name)
    table = _by_weekday(slots)
    out: list[Skipped] = []
    if not table:
        return out
    for day in _local_days(zone, start, end):
        for slot in table.get(day.weekday(), ()):
            if _instant(slot, day, zone) is not None:
                continue
            # the wall time read with the offset before the jump: just past the jump
            near = datetime.combine(day, slot.time, tzinfo=zone).astimezone(UTC)
            if not start <= near < end:
                continue
            jumped_at = _transition_before(near, zone)
            gap_start = (jumped_at - timedelta(seconds=1)).astimezone(zone) + timedelta(seconds=1)
            gap_end = jumped_at.astimezone(zone)
            out.append(
                Skipped(
                    slot,
                    day,
                    f"{slot} is skipped on {day.isoformat()}: the clocks in {zone_name} jump "
                    f"from {gap_start:%H:%M} to {gap_end:%H:%M} that night",
                )
            )
    return out


def _transition_before(instant: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant, to the second, of the last offset change before ``instant``
    (the jump that made a wall time vanish: at most a day earlier, as in Samoa 2011)."""
    after = instant.astimezone(zone).utcoffset()
    lo, hi = instant - timedelta(hours=26), instant
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi.replace(microsecond=0)


def occupied(instant: datetime, taken: Sequence[datetime]) -> bool:
    """Whether a schedule in sorted ``taken`` falls within the slot at ``instant``."""
    k = bisect.bisect_left(taken, instant)
    return k < len(taken) and taken[k] < instant + OCCUPANCY


def free_instants(
    slots: Iterable[Slot],
    zone_name: str,
    start: datetime,
    end: datetime,
    taken: Iterable[datetime],
    *,
    limit: int | None = None,
) -> list[datetime]:
    """The slot instants in ``[start, end)`` that no time in ``taken`` occupies, soonest
    first, at most ``limit`` of them."""
    busy = sorted(t.astimezone(UTC) for t in taken)
    out: list[datetime] = []
    for at, _slot in slot_instants(slots, zone_name, start, end):
        if occupied(at, busy):
            continue
        out.append(at)
        if limit is not None and len(out) >= limit:
            break
    return out
