"""Repeating posts: an RFC 5545 RRULE evaluated in the user's wall-clock time.

"Every Tuesday at 10:00 Europe/Paris" stays 10:00 across daylight-saving changes,
because occurrences are computed as local times and only then turned into UTC
instants. Two local times need a decision, and each is made visibly:

- a time inside a DST gap (02:30 on the night the clocks skip 02:00–03:00) does not
  exist; the occurrence goes out at the first instant after the gap and its row
  says so;
- a time inside a DST fold (02:30 on the night the clocks go back) happens twice;
  the first occurrence is used, as for one-off schedules.

Here are the rules and their arithmetic; ``operations.repeats`` turns upcoming
occurrences into ordinary scheduled posts, so the timer, the calendar and the CLI
need nothing special.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil.rrule import DAILY, FREQNAMES, rrulestr

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.timeutil import TimeInputError, get_zone, is_ambiguous, localize

#: how far ahead occurrences exist as rows
HORIZON = timedelta(days=21)
#: a rule that yields more than this within the horizon is refused (e.g. FREQ=MINUTELY)
MAX_PER_HORIZON = 200


class RecurrenceError(UserError):
    """A rule that cannot be used; the message says why."""


#: repeat frequencies the product supports; finer ones could never be published
FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY")
#: a repeat may start this long ago at most (older starts make every expansion slow)
MAX_START_AGE = timedelta(days=366)
#: and this far ahead at most
MAX_START_AHEAD = timedelta(days=36525)
#: a rule must have an occurrence within this long from now
REACH = timedelta(days=2 * 366)
#: the missed occurrences of one repeat made into rows of their own, at most, after a
#: long time off (50 days of a daily repeat); one more row stands for the rest
MISSED_ROWS = 50
#: counting the occurrences of a long time off stops here (two-hourly for 22 years)
MAX_GAP_SCAN = 100_000
#: ``publishing_results.error_kind`` of the row that says a repeat stopped
STOPPED_KIND = "repeat_stopped"
#: steps of each frequency in 400 years, after which the calendar repeats itself
_STEPS_PER_CYCLE = {
    "YEARLY": 400,
    "MONTHLY": 4800,
    "WEEKLY": 20871,
    "DAILY": 146097,
    "HOURLY": 146097 * 24,
}


def _check_parts(text: str) -> None:
    """Refuse what would make dateutil loop for ever or yield more than we can post."""
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        key, _, value = piece.partition("=")
        parts[key.strip().upper()] = value.strip().upper()
    freq = parts.get("FREQ", "")
    if freq not in FREQUENCIES:
        raise RecurrenceError(
            f"repeat FREQ={freq or '?'} is not supported: use one of {', '.join(FREQUENCIES)}"
        )
    for key in ("INTERVAL", "COUNT"):
        if key in parts and not (parts[key].isdigit() and int(parts[key]) >= 1):
            raise RecurrenceError(f"{key} must be a whole number of at least 1, not {parts[key]!r}")


def parse_rule(rule: str, dtstart_local: datetime):
    """The dateutil rule for ``rule`` starting at the naive local ``dtstart_local``."""
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text:
        raise RecurrenceError("give one RRULE, e.g. FREQ=WEEKLY;BYDAY=TU")
    if "DTSTART" in text.upper():
        raise RecurrenceError("leave DTSTART out of the rule: the first time comes from --at")
    _check_parts(text)
    try:
        rule_obj = rrulestr(text, dtstart=dtstart_local)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(
            f"cannot read the repeat rule {rule!r}: {exc}; e.g. FREQ=WEEKLY;BYDAY=TU"
        ) from None
    # Only BY… parts can make a rule match no date at all (dtstart itself is the first
    # occurrence of a rule without them); such a rule would send dateutil looking
    # until the year 9999 on every expansion.
    if "BY" in text.upper() and _never_occurs(str(rule_obj)):
        raise RecurrenceError(
            f"the rule {rule!r} has no occurrence after now, or ever: no date matches its "
            "days, months and hours together; check its BY… parts"
        )
    return rule_obj


@functools.lru_cache(maxsize=512)
def _never_occurs(rule_text: str) -> bool:
    """Whether no date ever matches the rule (30 February), decided in bounded time.

    dateutil looks for a match until the year 9999 without yielding: seconds, or
    minutes for an hourly rule. Which days can match is a question about days alone,
    so a daily or hourly rule is first asked it as a plain daily rule; whatever is
    left is answered by :func:`_exhausted`.
    """
    rule: Any = rrulestr(rule_text)  # an rrule: its parts are read as dateutil keeps them
    freq = FREQNAMES[rule._freq]
    if freq not in ("DAILY", "HOURLY"):
        return _exhausted(rule)
    upper = rule_text.upper()
    within_day = any(part in upper for part in ("BYHOUR", "BYMINUTE", "BYSECOND", "BYSETPOS"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        days = rule.replace(
            freq=DAILY,
            interval=1,
            count=None,
            until=None,
            byhour=None,
            byminute=None,
            bysecond=None,
            bysetpos=None,
        )
    if _exhausted(days):
        return True  # not a single day matches
    if not within_day and (rule._interval == 1 or (freq == "HOURLY" and rule._interval <= 24)):
        return False  # every matching day has a step of the rule on it
    return _exhausted(rule)


def _exhausted(rule: Any) -> bool:
    """Whether the rule, COUNT and UNTIL left out, has no occurrence at all.

    The Gregorian calendar, weekdays included, repeats every 400 years. A copy of the
    rule moved whole cycles later (whole cycles of its INTERVAL's steps too, so it
    lands on the same steps), to within two cycles of the year 9999 where dateutil
    gives up, has met every case by then.
    """
    steps = _STEPS_PER_CYCLE.get(FREQNAMES[rule._freq])
    if steps is None:
        return False  # finer frequencies are refused before this
    interval = rule._interval
    cycle = 400 * (interval // math.gcd(interval, steps))
    start = rule._dtstart
    room = datetime.max.year - start.year
    moved = start.replace(year=start.year + max(0, (room - cycle) // cycle) * cycle)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        probe = rule.replace(dtstart=moved, count=None, until=None)
    return probe.after(moved, inc=True) is None


def _walk(rule, lo: datetime, hi: datetime) -> Iterator[datetime]:
    """The rule's naive local occurrences in [lo, hi], lazily (the rule is one that
    :func:`parse_rule` accepted, so dateutil finds each next one in bounded time)."""
    for naive in rule.xafter(lo, inc=True):
        if naive > hi:
            return
        yield naive


def local_occurrence(naive: datetime, zone_name: str) -> tuple[datetime, str | None]:
    """(UTC instant, note) for a wall-clock occurrence; the note explains any adjustment."""
    zone = get_zone(zone_name)
    note: str | None = None
    try:
        aware = localize(naive, zone)
    except TimeInputError:
        # In a gap: the same wall time read with the offset before the jump lands the
        # same distance past it (02:30 -> 03:30), as calendar apps do; said out loud.
        after = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        shown = after.astimezone(zone).strftime("%H:%M")
        note = (
            f"{naive:%H:%M} does not exist on {naive:%Y-%m-%d} in {zone_name} (the clocks skip that "
            f"hour); this occurrence goes out at {shown}"
        )
        return after, note
    if is_ambiguous(naive, zone):
        note = (
            f"{naive:%H:%M} happens twice on {naive:%Y-%m-%d} in {zone_name}; the first one is used"
        )
    return aware.astimezone(UTC), note


def occurrences(
    rrule: str, dtstart_local: datetime, zone_name: str, start: datetime, end: datetime
) -> list[tuple[datetime, str | None]]:
    """Occurrences of the rule with UTC instants in [start, end), each with its note."""
    rule = parse_rule(rrule, dtstart_local)
    zone = get_zone(zone_name)
    # Compare in local wall time with a day of slack either side, then filter exactly in UTC.
    lo = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    out = []
    for naive in _walk(rule, lo, hi):
        instant, note = local_occurrence(naive, zone_name)
        if start <= instant < end:
            out.append((instant, note))
        if len(out) > MAX_PER_HORIZON:
            raise RecurrenceError(
                f"the rule {rrule!r} repeats more than {MAX_PER_HORIZON} times in {HORIZON.days} days; "
                "use a daily or weekly rule"
            )
    return out


@dataclass(frozen=True)
class Missed:
    """The occurrences of a repeat in a span that is over: the first ``MISSED_ROWS`` one
    by one, and how many came after them, from when to when."""

    listed: tuple[datetime, ...] = ()
    more: int = 0
    more_first: datetime | None = None
    more_last: datetime | None = None
    #: counting stopped at ``MAX_GAP_SCAN``: there were at least ``more`` after the listed
    more_at_least: bool = False

    @property
    def total(self) -> int:
        return len(self.listed) + self.more


def missed_occurrences(
    rrule: str,
    dtstart_local: datetime,
    zone_name: str,
    start: datetime,
    end: datetime,
    *,
    listed: int = MISSED_ROWS,
) -> Missed:
    """The occurrences with UTC instants in [start, end), bounded in count: every one is
    counted (up to ``MAX_GAP_SCAN``), the first ``listed`` are named."""
    rule = parse_rule(rrule, dtstart_local)
    zone = get_zone(zone_name)
    lo = start.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    hi = end.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    names: list[datetime] = []
    more = 0
    first = last = None
    at_least = False
    for scanned, naive in enumerate(_walk(rule, lo, hi)):
        if scanned >= MAX_GAP_SCAN:
            at_least = True
            break
        instant, _note = local_occurrence(naive, zone_name)
        if not start <= instant < end:
            continue
        if len(names) < listed:
            names.append(instant)
        else:
            more += 1
            first = first or instant
            last = instant
    if more == 1 and not at_least and first is not None:
        return Missed((*names, first))  # one entry standing for one: just list it
    return Missed(tuple(names), more, first, last, at_least)


def check_rule(rule: str, dtstart_local: datetime, zone_name: str, now: datetime) -> None:
    """Refuse a rule that cannot be read, starts absurdly far away, never occurs, or
    occurs absurdly often. Every check is bounded in time."""
    now_local = now.astimezone(get_zone(zone_name)).replace(tzinfo=None)
    if dtstart_local < now_local - MAX_START_AGE:
        raise RecurrenceError(
            f"the first time, {dtstart_local:%Y-%m-%d %H:%M}, is more than a year ago: "
            "start the repeat from a recent or future time"
        )
    if dtstart_local > now_local + MAX_START_AHEAD:
        raise RecurrenceError(
            f"the first time, {dtstart_local:%Y-%m-%d %H:%M}, is more than a hundred years away"
        )
    parsed = parse_rule(rule, dtstart_local)
    # an impossible rule (31 February) would have dateutil search until the year 9999
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # COUNT and UNTIL together
        horizon = max(now_local, dtstart_local) + REACH
        bounded = parsed.replace(until=min(parsed._until or datetime.max, horizon))
    if bounded.after(now_local) is None:
        raise RecurrenceError(
            f"the rule {rule!r} has no occurrence after now (looking two years past its start): "
            "check its days, months and UNTIL"
        )
    occurrences(rule, dtstart_local, zone_name, now, now + HORIZON)
