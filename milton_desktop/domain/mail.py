"""Email notifications in plain Python: what the settings may hold, and what each mail says.

Nothing here sends or stores anything: the operations layer reads the database and the
keyring, and an SMTP client sends what these functions write. Every instant given here
is an aware UTC datetime; the user's zone is named when a time is shown.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from milton_desktop.domain.errors import UserError
from milton_desktop.domain.status import MAILED_OUTCOMES, Status
from milton_desktop.domain.timeutil import get_zone

#: the summary of last week and the next, on Mondays
WEEKLY = "weekly"
#: what a mail can be about, in the order the settings show them
EVENTS: tuple[str, ...] = (*(str(s) for s in MAILED_OUTCOMES), WEEKLY)
#: what ``--on`` means when it is not given
DEFAULT_EVENTS: tuple[str, ...] = tuple(str(s) for s in MAILED_OUTCOMES)
#: what needs the user after a week
_ATTENTION = (Status.FAILED, Status.UNCERTAIN, Status.MISSED)

#: how the connection is protected: STARTTLS on the submission port, TLS from the first
#: byte (implicit, "SMTPS"), or nothing at all (a relay on this computer)
SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}

#: the weekly summary goes out at this wall-clock time on Mondays, in the user's zone
WEEKLY_AT = time(8, 0)

_FIRST_WORDS = 8
_FIRST_CHARS = 60

# the common shape of an address: local part and a domain with a dot (or a bracketed
# literal); deliberately stricter than RFC 5322, which allows what no server takes
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}"
_ADDRESS = re.compile(rf"{_LOCAL}@(?:{_DOMAIN}|localhost|\[[0-9A-Fa-f:.]+\])")
_HOST = re.compile(r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}")


class MailSettingsError(UserError):
    """A mail setting that cannot be used as given; the message says what to change."""


# ---------------------------------------------------------------- the settings


@dataclass(frozen=True)
class MailSettings:
    """Where and how mail goes. The password is not here: it lives in the keyring."""

    host: str
    port: int
    security: str
    user: str
    sender: str
    to: str
    events: tuple[str, ...] = DEFAULT_EVENTS
    enabled: bool = True

    def as_json(self, *, password_stored: bool) -> dict[str, object]:
        return {
            "enabled": self.enabled,
            "smtp_host": self.host,
            "smtp_port": self.port,
            "security": self.security,
            "user": self.user,
            "password_stored": password_stored,
            "from": self.sender,
            "to": self.to,
            "on": list(self.events),
        }


def check_address(text: str, what: str) -> str:
    """A single plain address (``name@example.com``), or :class:`MailSettingsError`."""
    value = (text or "").strip()
    if not value:
        raise MailSettingsError(f"{what} is empty: give an address such as you@example.com")
    if any(c in value for c in "\r\n\x00") or not _ADDRESS.fullmatch(value):
        raise MailSettingsError(
            f"{what} {value!r} is not an email address: give one plain address such as "
            "you@example.com (no name, no angle brackets)"
        )
    if len(value) > 254:
        raise MailSettingsError(f"{what} is longer than the 254 characters an address may have")
    return value


def check_host(text: str) -> str:
    value = (text or "").strip()
    if not value:
        raise MailSettingsError(
            "no SMTP server given: name your provider's outgoing mail server, e.g. smtp.example.com"
        )
    try:
        ipaddress.ip_address(value.strip("[]"))
        return value.strip("[]")
    except ValueError:
        pass
    if len(value) > 253 or not _HOST.fullmatch(value):
        raise MailSettingsError(
            f"{value!r} is not a server name: give a host such as smtp.example.com or an IP "
            "address, without a port or a scheme (the port goes in --smtp-port)"
        )
    return value


def check_port(value: int | str | None, security: str) -> int:
    """The port, defaulting to the usual one for ``security``."""
    if value is None or value == "":
        return DEFAULT_PORTS[security]
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise MailSettingsError(
            f"{value!r} is not a port: give a number from 1 to 65535 (usually 587 for "
            "STARTTLS, 465 for SSL, 25 for none)"
        )
    return int(text)


def check_security(value: str | None) -> str:
    name = (value or "starttls").strip().lower()
    if name not in SECURITY:
        raise MailSettingsError(
            f"unknown security {value!r}: use starttls (most providers, port 587), ssl "
            "(port 465) or none (a relay on this computer only)"
        )
    return name


def parse_events(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """``published,failed`` (or a list) as the known events in their usual order."""
    if value is None:
        return DEFAULT_EVENTS
    words = value.split(",") if isinstance(value, str) else list(value)
    chosen = {w.strip().lower() for w in words if w.strip()}
    unknown = sorted(chosen - set(EVENTS))
    if unknown:
        raise MailSettingsError(
            f"unknown event {', '.join(unknown)}: choose among {', '.join(EVENTS)} "
            "(comma-separated)"
        )
    if not chosen:
        raise MailSettingsError(f"no event chosen: give one or more of {', '.join(EVENTS)}")
    return tuple(e for e in EVENTS if e in chosen)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this computer (where a password in clear never travels)."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(
    *,
    host: str,
    port: int | str | None,
    security: str | None,
    user: str | None,
    has_password: bool,
    sender: str,
    to: str,
    events: str | Iterable[str] | None,
) -> MailSettings:
    """Every field checked, with one message for the first that is wrong."""
    sec = check_security(security)
    checked_host = check_host(host)
    name = (user or "").strip()
    if any(c in name for c in "\r\n\x00"):
        raise MailSettingsError("the SMTP user name holds a line break: give it on one line")
    if has_password and not name:
        raise MailSettingsError("a password needs a user name: give --user too")
    if sec == "none" and has_password and not is_loopback(checked_host):
        raise MailSettingsError(
            f"refusing to send the SMTP password in clear to {checked_host}: with security "
            "none anyone on the way can read it. Use --security starttls (port 587) or ssl "
            "(port 465); none is only for a relay on this computer (127.0.0.1)"
        )
    return MailSettings(
        host=checked_host,
        port=check_port(port, sec),
        security=sec,
        user=name,
        sender=check_address(sender, "the sender (--from)"),
        to=check_address(to, "the recipient (--to)"),
        events=parse_events(events),
    )


# ---------------------------------------------------------------- one outcome


@dataclass(frozen=True)
class OutcomeFacts:
    """What one mail about one schedule says; the texts come from the database."""

    event: str  # published | failed | uncertain | missed
    schedule_id: int
    platform: str  # its label: "LinkedIn"
    account: str
    text: str
    zone: str
    scheduled_at: datetime
    happened_at: datetime | None = None
    url: str | None = None
    error: str | None = None
    warning: str | None = None


def first_words(text: str, words: int = _FIRST_WORDS, chars: int = _FIRST_CHARS) -> str:
    """The start of a post on one line, cut at a word, with an ellipsis when cut."""
    flat = " ".join(text.split())
    if not flat:
        return "(no text)"
    cut = " ".join(flat.split(" ")[:words])
    if len(cut) > chars:
        cut = cut[:chars].rsplit(" ", 1)[0] if " " in cut[:chars] else cut[: chars - 1]
    return cut if cut == flat else cut.rstrip(" ,.;:") + "…"


def outcome_subject(facts: OutcomeFacts) -> str:
    words = first_words(facts.text)
    if facts.event == Status.PUBLISHED:
        return f"Published on {facts.platform}: {words}"
    if facts.event == Status.FAILED:
        return f"Could not publish on {facts.platform}: {words}"
    if facts.event == Status.UNCERTAIN:
        return f"Check this post on {facts.platform}: {words}"
    if facts.event == Status.MISSED:
        return f"Missed: {words}"
    raise ValueError(f"no subject for event {facts.event!r}")


def local_text(when: datetime | None, zone: str) -> str:
    """``Tue 10 Mar 2026 10:00 CET (Europe/Paris)``."""
    if when is None:
        return "-"
    local = when.astimezone(get_zone(zone))
    return f"{local:%a %d %b %Y %H:%M} {local.tzname()} ({zone})"


def _next_steps(facts: OutcomeFacts) -> list[str]:
    sid = facts.schedule_id
    if facts.event == Status.PUBLISHED:
        return ["Nothing to do."]
    if facts.event == Status.FAILED:
        return [
            "It will not be retried on its own. Fix what the error says, then publish it again:",
            f"  milton-desktop publish-now {sid}",
            f"  or move it: milton-desktop reschedule {sid} --at 2026-03-10T10:00 --tz {facts.zone}",
            f"  or drop it: milton-desktop cancel {sid}",
        ]
    if facts.event == Status.UNCERTAIN:
        return [
            "Milton could not tell whether it went out, so it will not send it again by itself.",
            f"Check the account on {facts.platform}, then:",
            f"  milton-desktop resolve {sid} --published --url URL   (it is there)",
            f"  milton-desktop resolve {sid} --not-published          (it is not: send it now)",
        ]
    return [
        "It did not go out at its time (the computer was off or asleep, or Milton was not",
        "running). Choose what happens now:",
        f"  milton-desktop publish-now {sid}",
        f"  milton-desktop reschedule {sid} --at 2026-03-10T10:00 --tz {facts.zone}",
        f"  milton-desktop cancel {sid}",
    ]


def outcome_body(facts: OutcomeFacts) -> str:
    what = {
        Status.PUBLISHED: "was published",
        Status.FAILED: "could not be published",
        Status.UNCERTAIN: "may or may not have been published",
        Status.MISSED: "missed its time",
    }[Status(facts.event)]
    actual = {
        Status.PUBLISHED: "Published at",
        Status.FAILED: "Failed at",
        Status.UNCERTAIN: "Tried at",
        Status.MISSED: "Noticed at",
    }[Status(facts.event)]
    lines = [
        f"Your post on {facts.platform} ({facts.account}) {what}.",
        "",
        f"Account:    {facts.account} ({facts.platform})",
        f"Scheduled:  {local_text(facts.scheduled_at, facts.zone)}",
        f"{actual + ':':<11} {local_text(facts.happened_at, facts.zone)}",
    ]
    if facts.url:
        lines.append(f"Link:       {facts.url}")
    if facts.error and facts.event != Status.PUBLISHED:
        lines.append(f"Reason:     {facts.error}")
    if facts.warning:
        lines.append(f"Note:       {facts.warning}")
    lines += ["", "What to do next:", *_next_steps(facts)]
    lines += ["", "The post:", "", *(f"  {line}" for line in facts.text.splitlines() or [""])]
    lines += ["", f"Schedule {facts.schedule_id}. Sent by Milton Desktop."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- the weekly summary


def week_start(now: datetime, zone: str) -> datetime:
    """The latest Monday 08:00 (in ``zone``) at or before ``now``, as a UTC instant.

    The wall-clock time is kept across DST changes: the instant moves by an hour, the
    08:00 does not. 08:00 falls in no zone's DST gap today; were it in one, the first
    instant after the gap is taken (zoneinfo's fold=0 reading of a missing time).
    """
    tz = get_zone(zone)
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    start = _wall(monday, tz)
    if start > now:
        start = _wall(monday - timedelta(days=7), tz)
    return start


def next_week_start(now: datetime, zone: str) -> datetime:
    """The first Monday 08:00 (in ``zone``) after ``now``."""
    tz = get_zone(zone)
    this = week_start(now, zone).astimezone(tz).date()
    return _wall(this + timedelta(days=7), tz)


def _wall(day: date, tz: tzinfo) -> datetime:
    # zoneinfo reads a missing wall time with the offset before the gap (fold=0),
    # which lands just after the gap, as a repeat's occurrence does
    return datetime.combine(day, WEEKLY_AT, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True)
class WeekLine:
    when: datetime
    platform: str
    account: str
    text: str
    status: str
    schedule_id: int
    detail: str | None = None


@dataclass(frozen=True)
class WeeklyFacts:
    zone: str
    start: datetime  # this Monday 08:00
    done: Sequence[WeekLine] = field(default_factory=tuple)  # the week before it
    coming: Sequence[WeekLine] = field(default_factory=tuple)  # the week after it


def weekly_subject(facts: WeeklyFacts) -> str:
    counts: dict[str, int] = {}
    for line in facts.done:
        counts[line.status] = counts.get(line.status, 0) + 1
    said = [f"{counts.get(Status.PUBLISHED, 0)} published"]
    problems = sum(counts.get(s, 0) for s in _ATTENTION)
    if problems:
        said.append(f"{problems} need{'s' if problems == 1 else ''} you")
    said.append(f"{len(facts.coming)} coming")
    local = facts.start.astimezone(get_zone(facts.zone))
    return f"Your week on Milton Desktop, {local:%d %b}: " + ", ".join(said)


def weekly_body(facts: WeeklyFacts) -> str:
    tz = get_zone(facts.zone)

    def line(item: WeekLine) -> str:
        at = item.when.astimezone(tz)
        tail = f" — {item.detail}" if item.detail else ""
        return (
            f"  {at:%a %d %b %H:%M}  {item.status:<10} {item.platform} ({item.account}): "
            f"{first_words(item.text)} [schedule {item.schedule_id}]{tail}"
        )

    begin = (facts.start - timedelta(days=7)).astimezone(tz)
    start = facts.start.astimezone(tz)
    end = (facts.start + timedelta(days=7)).astimezone(tz)
    lines = [f"Times are in {facts.zone}.", ""]
    lines.append(f"Last week ({begin:%a %d %b} to {start:%a %d %b}):")
    lines += [line(i) for i in facts.done] or ["  nothing was due"]
    attention = [i for i in facts.done if i.status in _ATTENTION]
    if attention:
        lines += [
            "",
            f"{len(attention)} post{'s' if len(attention) != 1 else ''} need"
            f"{'s' if len(attention) == 1 else ''} you: see `milton-desktop list --status "
            "failed` (or uncertain, missed), or Needs attention in the window.",
        ]
    lines += ["", f"Next week ({start:%a %d %b} to {end:%a %d %b}):"]
    lines += [line(i) for i in facts.coming] or ["  nothing is scheduled"]
    lines += ["", "Sent by Milton Desktop every Monday at 08:00."]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- identity


def message_id(key: str, install_id: str, sender: str) -> str:
    """The same Message-ID every time one outbox entry is sent: a server or a mail
    client that sees it twice knows it for one message."""
    digest = hashlib.sha256(f"{install_id}:{key}".encode()).hexdigest()[:24]
    domain = sender.rsplit("@", 1)[-1].strip("[]") or "milton-desktop.invalid"
    return f"<milton.{digest}@{domain}>"
