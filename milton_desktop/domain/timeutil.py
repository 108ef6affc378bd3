"""Instants in UTC inside, local wall-clock times at the edge.

Local times are interpreted with :mod:`zoneinfo`. A wall-clock time that does not
exist (inside a DST gap) is refused; one that happens twice (a DST fold) is taken
as its first occurrence unless the caller asks for the second, so 01:30 on the
night the clocks go back never moves silently.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from milton_desktop.domain.errors import UserError

_ISO_HINT = (
    "use ISO 8601 such as 2026-03-10T10:00:00Z, 2026-03-10T10:00+01:00, or a local time with --tz"
)


class TimeInputError(UserError):
    """A date, time or zone given by the user that cannot be used as it is."""


def get_zone(name: str) -> ZoneInfo:
    """Return the IANA zone ``name`` or raise :class:`TimeInputError` saying what is wrong."""
    try:
        if not name or name != name.strip() or "\x00" in name:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise TimeInputError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Paris or America/New_York"
        ) from None


def _zone_exists(name: str) -> bool:
    try:
        get_zone(name)
    except TimeInputError:
        return False
    return True


def _zone_from_tz_env(value: str) -> str | None:
    """The IANA name in a ``TZ`` value (``Europe/Paris``, ``:Europe/Paris`` or a path
    to a zone file), or None when it names none."""
    value = value.removeprefix(":")
    if _zone_exists(value):
        return value
    if os.path.isabs(value):
        # /usr/share/zoneinfo/Asia/Tokyo: the longest tail that loads as a zone, as
        # tzlocal reads such a TZ
        parts = os.path.realpath(value).replace(os.sep, "/").split("/")
        for start in range(1, len(parts)):
            candidate = "/".join(parts[start:])
            if _zone_exists(candidate):
                return candidate
    return None


def local_zone_name() -> str:
    """The IANA name of this computer's zone, or ``UTC`` when it cannot be told.

    ``TZ``, when set, is the user's explicit choice and wins over the system
    setting. A ``TZ`` that names no IANA zone (a typo, or a POSIX rule such as
    ``EST+05``, which has no name) gives ``UTC``, not the system's setting: that is
    exactly what ``TZ`` was set to override. Otherwise :mod:`tzlocal` reads the system's
    setting (``/etc/localtime`` and the distributions' files, the Windows
    registry); none at all, several that disagree, or a name this Python's zone
    database lacks, all give ``UTC`` instead of an error.
    """
    tz = os.environ.get("TZ", "").strip()
    if tz:
        return _zone_from_tz_env(tz) or "UTC"
    import tzlocal  # imported here: only a new settings file or the calendar needs it

    try:
        name = tzlocal.get_localzone_name()
    except (LookupError, OSError, ValueError):  # ZoneInfoNotFoundError is a KeyError
        return "UTC"
    return name if name and _zone_exists(name) else "UTC"


def localize(naive: datetime, zone: tzinfo, *, fold: int = 0) -> datetime:
    """Attach ``zone`` to a wall-clock time, refusing times that do not exist there.

    Raises:
        TimeInputError: the time falls in a DST gap (the clocks jumped over it).
    """
    if naive.tzinfo is not None:
        raise TimeInputError("expected a local (naive) time")
    aware = naive.replace(tzinfo=zone, fold=fold)
    # A wall time in a gap does not survive the round trip through UTC.
    back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
    if back != naive.replace(fold=0):
        raise TimeInputError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {zone}: the clocks skip that hour "
            f"for daylight saving time; choose a time outside the gap"
        )
    return aware


def is_ambiguous(naive: datetime, zone: tzinfo) -> bool:
    """True when the wall time happens twice in ``zone`` (the hour repeated in autumn)."""
    a = naive.replace(tzinfo=zone, fold=0).utcoffset()
    b = naive.replace(tzinfo=zone, fold=1).utcoffset()
    return a != b


_OFFSET_RE = re.compile(r"(Z|z|[+-]\d{2}(:?\d{2})?)$")


#: the first and last instants a user may give: any zone can still show them
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=2)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=2)


def parse_when(text: str, tz: str | None = None) -> datetime:
    """Parse a user-given instant into an aware UTC datetime.

    ``text`` is ISO 8601. With an offset or ``Z`` it is an instant and ``tz`` must
    not contradict it; without one, ``tz`` names the zone of the wall-clock time.
    """
    raw = (text or "").strip()
    if not raw:
        raise TimeInputError(f"no time given: {_ISO_HINT}")
    candidate = raw[:-1] + "+00:00" if raw[-1] in "Zz" else raw
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise TimeInputError(f"cannot read {raw!r} as a date and time: {_ISO_HINT}") from None
    if parsed.tzinfo is None and not tz:
        raise TimeInputError(
            f"{raw!r} has no time zone: add Z or an offset (+01:00), or pass --tz ZONE"
        )
    zone = get_zone(tz) if parsed.tzinfo is None and tz else None
    try:
        instant = (parsed if zone is None else localize(parsed, zone)).astimezone(UTC)
    except OverflowError:
        instant = None
    # a day of margin each way: the instant must show in every zone, too
    if instant is None or not EARLIEST <= instant <= LATEST:
        raise TimeInputError(
            f"{raw!r} is outside the dates Milton handles "
            f"({EARLIEST.date().isoformat()} to {LATEST.date().isoformat()}): check the year"
        )
    return instant


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise TimeInputError("naive datetime: give a timezone-aware instant")
    return value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z``: the form every ``--json`` output uses."""
    if value is None:
        return None
    v = to_utc(value)
    text = v.isoformat(timespec="milliseconds" if v.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def human_delta(delta: timedelta) -> str:
    """A short English duration: ``12 min``, ``3 h 5 min``, ``2 days``."""
    secs = int(abs(delta.total_seconds()))
    if secs < 60:
        return f"{secs} s"
    mins = secs // 60
    if mins < 60:
        return f"{mins} min"
    hours, mins = divmod(mins, 60)
    if hours < 48:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{hours // 24} days"
