"""Email notifications: the settings, the outbox, and sending what it holds.

The life of one mail (``mail_outbox``, one row each)::

    outcome recorded ──(same transaction)──▶ pending ──try──▶ sent
                                               │  ├─ nothing accepted (refused connection,
                                               │  │  timeout, 4xx) ──▶ pending, later (backoff)
                                               │  ├─ 5xx, or tries used up ──▶ failed
                                               │  └─ message sent, no reply ──▶ unknown
                                               └─ (``sending`` while its bytes travel: a
                                                  process that stops then leaves it unknown)

A row is keyed by the outcome it is about (event, schedule, attempt), so recording an
outcome twice never queues two mails, and an ``unknown`` one is never sent again on
its own: like an uncertain post, the user decides. The message (subject, body and
Message-ID) is frozen at its first try, so a retry sends the same mail.

The worker that sends them (``engine/mailer.py``) runs beside the scheduler, never on
the publishing path: the SMTP conversation happens outside any transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from milton_desktop.domain import mail
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.domain.errors import OperationFailed
from milton_desktop.domain.mail import MailSettings, MailSettingsError, OutcomeFacts
from milton_desktop.domain.redaction import register_secrets
from milton_desktop.domain.status import MAILED_OUTCOMES, MailState, Status
from milton_desktop.domain.timeutil import get_zone
from milton_desktop.operations import smtp_client
from milton_desktop.operations.smtp_client import Answer, MailRefused, MailTransient, MailUnknown
from milton_desktop.publishers import registry
from milton_desktop.storage import settings
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.models import MailOutbox, database, utc_text

log = logging.getLogger("milton.mail")

#: the keyring entry (``smtp@<install id>``) holding {"user", "password"} as JSON
SECRET_NAME = "smtp"

PENDING, SENDING, SENT, FAILED, UNKNOWN = (
    MailState.PENDING,
    MailState.SENDING,
    MailState.SENT,
    MailState.FAILED,
    MailState.UNKNOWN,
)

#: tries of one mail before a transient failure becomes final
MAX_TRIES = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=1)
#: mails one pass of the worker sends at most (the rest wait for the next pass)
BATCH = 20

INTERRUPTED = (
    "Milton stopped while this mail was being handed to the mail server; it may have "
    "been delivered, so it is not sent again on its own"
)
TURNED_OFF = "email notifications were turned off before it was sent"


# ---------------------------------------------------------------- settings


def current() -> MailSettings | None:
    """The saved settings (enabled or not), or None when none were ever saved."""
    host = settings.get("mail_smtp_host")
    if not host:
        return None
    return MailSettings(
        host=str(host),
        port=int(settings.get("mail_smtp_port")),
        security=str(settings.get("mail_security")),
        user=str(settings.get("mail_user") or ""),
        sender=str(settings.get("mail_from")),
        to=str(settings.get("mail_to")),
        events=tuple(settings.get("mail_on") or ()),
        enabled=bool(settings.get("mail_enabled")),
    )


def _stored_login(credentials: CredentialStore) -> tuple[str, str] | None:
    """(user, password) from the keyring, or None."""
    text = credentials.load_secret(SECRET_NAME)
    if not text:
        return None
    try:
        value = json.loads(text)
        user, password = str(value["user"]), str(value["password"])
    except (ValueError, TypeError, KeyError):
        return None
    register_secrets((password,))
    return user, password


def password_for(credentials: CredentialStore, config: MailSettings) -> str | None:
    """The stored password of ``config``'s user (None without a user, or none stored)."""
    if not config.user:
        return None
    stored = _stored_login(credentials)
    if stored is None or stored[0] != config.user:
        return None
    return stored[1]


def configure(
    credentials: CredentialStore,
    *,
    host: str,
    sender: str,
    to: str,
    port: int | str | None = None,
    security: str | None = None,
    user: str | None = None,
    password: str | None = None,
    events: str | Iterable[str] | None = None,
    clock: Clock | None = None,
) -> MailSettings:
    """Check and save the mail settings, and turn mail on.

    ``password`` None keeps the one stored for the same user (if any); a user without
    a password signs in with nothing stored and fails at the first mail, saying so.
    The password goes to the keyring, never to the database.

    Raises:
        MailSettingsError: a field is wrong (the message names it).
        KeyringUnavailable: the password cannot be stored safely.
    """
    now = (clock or SystemClock()).now()
    if password is not None and any(c in password for c in "\r\n\x00"):
        raise MailSettingsError("the SMTP password holds a line break: give it on one line")
    name = (user or "").strip()
    keep = password is None and bool(name)
    stored = _stored_login(credentials) if keep else None
    has_password = bool(password) or (stored is not None and stored[0] == name)
    config = mail.check_settings(
        host=host,
        port=port,
        security=security,
        user=name,
        has_password=has_password,
        sender=sender,
        to=to,
        events=events,
    )
    # the keyring first (slow, and it may refuse): the database changes only after it
    if password:
        credentials.save_secret(
            SECRET_NAME,
            json.dumps({"user": config.user, "password": password}),
            secrets=(password,),
        )
    elif not has_password:
        credentials.delete_secret(SECRET_NAME)
    was = current()
    with database.atomic():
        values: dict[str, Any] = {
            "mail_smtp_host": config.host,
            "mail_smtp_port": config.port,
            "mail_security": config.security,
            "mail_user": config.user,
            "mail_from": config.sender,
            "mail_to": config.to,
            "mail_on": list(config.events),
            "mail_enabled": True,
        }
        for key, value in values.items():
            settings.set_value(key, value)
        if was is None or not was.enabled or mail.WEEKLY not in was.events:
            # the first weekly summary is the one after this moment, not last Monday's
            settings.set_internal("mail_since", utc_text(now))
    log.info(
        "email notifications on: %s:%s (%s) to %s for %s",
        config.host,
        config.port,
        config.security,
        config.to,
        ",".join(config.events),
    )
    return config


def show(credentials: CredentialStore) -> dict[str, Any]:
    """The settings as ``notify show --json`` prints them (never the password)."""
    config = current()
    if config is None:
        return {"enabled": False, "configured": False, "mail": status()}
    stored = password_for(credentials, config) is not None if config.user else False
    return {"configured": True, **config.as_json(password_stored=stored), "mail": status()}


def turn_off() -> int:
    """Stop sending; mails still waiting are dropped (marked failed, saying why).
    Returns how many were dropped. The settings stay, for turning it on again."""
    with database.atomic():
        settings.set_value("mail_enabled", False)
        dropped = (
            MailOutbox.update(status=FAILED, last_error=TURNED_OFF)
            .where(MailOutbox.status == PENDING)
            .execute()
        )
    log.info("email notifications off (%d waiting mail(s) dropped)", dropped)
    return int(dropped)


def send_test(
    credentials: CredentialStore,
    *,
    clock: Clock | None = None,
    config: MailSettings | None = None,
    password: str | None = None,
) -> Answer:
    """Send a test message now; the server's acceptance.

    With the saved settings, or ``config`` (the settings window's fields, not saved
    yet) with ``password`` typed there (None: the one stored for its user).

    Raises:
        MailSettingsError: nothing is configured yet.
        OperationFailed: the server refused it, could not be reached, or did not answer.
    """
    config = config or current()
    if config is None:
        raise MailSettingsError(
            "no mail server is set up: run `milton-desktop notify email --smtp-host HOST "
            "--from ADDR --to ADDR` first (or fill in Settings ▸ Email)"
        )
    now = (clock or SystemClock()).now()
    zone = _zone()
    message = _message(
        config,
        subject="Milton Desktop test message",
        body=(
            "This is a test from Milton Desktop: email notifications reach you.\n\n"
            f"Sent {mail.local_text(now, zone)} through {config.host}:{config.port} "
            f"({config.security}). You will get mail for: {', '.join(config.events)}.\n"
        ),
        message_id=make_msgid("milton-test", domain=config.sender.rsplit("@", 1)[-1]),
        now=now,
    )
    if password is None:
        password = password_for(credentials, config)
    try:
        answer = smtp_client.send(message, config, password)
    except (MailTransient, MailRefused) as exc:
        log.warning("the test mail was not accepted: %s", exc.message)
        raise OperationFailed(f"the test mail was not sent: {exc.message}") from None
    except MailUnknown as exc:
        log.warning("the test mail's outcome is unknown: %s", exc.message)
        raise OperationFailed(
            f"the test mail may or may not have been accepted: {exc.message}; check the inbox "
            f"of {config.to}"
        ) from None
    log.info("test mail accepted: %s", answer)
    return answer


def _zone() -> str:
    return str(settings.get("timezone") or "UTC")


# ---------------------------------------------------------------- the outbox


def events_on() -> frozenset[str]:
    """The events to mail now: none while mail is off. Read on the caller's connection,
    inside its transaction (the results writer's): two rows by primary key."""
    rows = (
        database.connection()
        .execute(
            "SELECT key, value FROM settings WHERE key IN ('mail_enabled', 'mail_on', "
            "'mail_smtp_host')"
        )
        .fetchall()
    )
    values = {key: json.loads(value) for key, value in rows}
    if not values.get("mail_enabled") or not values.get("mail_smtp_host"):
        return frozenset()
    on = values.get("mail_on", list(mail.DEFAULT_EVENTS))
    return frozenset(str(e) for e in on) if isinstance(on, list) else frozenset()


def _queue(key: str, event: str, schedule_id: int | None, result_id: int | None, now: str) -> bool:
    cursor = database.execute_sql(
        "INSERT INTO mail_outbox (key, event, schedule_id, result_id, status,"
        " attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
        " ON CONFLICT (key) DO NOTHING",
        (key, event, schedule_id, result_id, PENDING, now, now),
    )
    return cursor.rowcount == 1


def queue_outcome(schedule_id: int, result_id: int, event: str, now: datetime) -> bool:
    """Queue the mail about a recorded result (``published``, ``failed`` or
    ``uncertain``), if that event is mailed. Call it inside the transaction that
    records the result: the result and its mail are committed together. True when a
    row was added (False: not mailed, or queued already)."""
    if event not in events_on():
        return False
    return _queue(
        f"{event}:{schedule_id}:{result_id}", event, schedule_id, result_id, utc_text(now)
    )


def queue_missed(schedule_id: int, due: datetime | str, now: datetime) -> bool:
    """Queue the mail about a schedule that missed its time ``due``; inside the
    transaction that marks it missed."""
    if Status.MISSED not in events_on():
        return False
    due_text = due if isinstance(due, str) else utc_text(due)
    return _queue(
        f"{Status.MISSED}:{schedule_id}:{due_text}", Status.MISSED, schedule_id, None, utc_text(now)
    )


def queue_mail(
    schedule_id: int,
    result_id: int | None,
    event: str,
    now: datetime,
    *,
    due: datetime | None = None,
) -> None:
    """Queue the mail about an outcome inside the transaction that records it, when
    that event is mailed. A mail that cannot be queued never costs the outcome: it is
    logged and left out (its own savepoint is rolled back, the caller's work is not)."""
    try:
        if event not in events_on():
            return
        with database.atomic():  # a savepoint inside the caller's transaction
            if event == Status.MISSED:
                queue_missed(schedule_id, due or now, now)
            elif result_id is not None:
                queue_outcome(schedule_id, result_id, event, now)
    except Exception:
        log.exception("schedule %s: the %s mail could not be queued", schedule_id, event)


# ---------------------------------------------------------------- what it says


def _outcome_facts(row: MailOutbox, zone: str) -> OutcomeFacts | None:
    found = database.execute_sql(
        "SELECT s.scheduled_time, s.published_at, s.remote_url, s.error_message, s.warning,"
        " COALESCE(s.text_override, p.body), a.display_name, a.platform, s.updated_at"
        " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id"
        " JOIN accounts a ON a.id = s.account_id WHERE s.id = ?",
        (row.schedule_id,),
    ).fetchone()
    if found is None:
        return None
    scheduled, published_at, url, error, warning, text, account, platform, updated = found
    happened = updated
    if row.result_id is not None:
        result = database.execute_sql(
            "SELECT finished_at, started_at, remote_url, error_message, warning"
            " FROM publishing_results WHERE id = ?",
            (row.result_id,),
        ).fetchone()
        if result is not None:  # the attempt's own words: the row may have moved on since
            happened = result[0] or result[1]
            url, error, warning = result[2] or url, result[3], result[4]
    if row.event == Status.PUBLISHED:
        happened = published_at or happened
    return OutcomeFacts(
        event=row.event,
        schedule_id=int(row.schedule_id or 0),
        platform=registry.label(platform),
        account=account,
        text=text or "",
        zone=zone,
        scheduled_at=_instant(scheduled),
        happened_at=_instant(happened) if happened else None,
        url=url,
        error=error,
        warning=warning,
    )


def _instant(text: str | datetime) -> datetime:
    from datetime import UTC

    if isinstance(text, datetime):
        return text if text.tzinfo else text.replace(tzinfo=UTC)
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _message(
    config: MailSettings, *, subject: str, body: str, message_id: str, now: datetime
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = config.to
    message["Subject"] = subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    # tells mail servers and vacation responders this is no conversation (RFC 3834)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Mailer"] = "Milton Desktop"
    message.set_content(body)
    return message


# ---------------------------------------------------------------- the weekly summary


def queue_weekly(now: datetime) -> bool:
    """Queue this week's summary once its Monday 08:00 has passed (in the user's zone),
    if the weekly summary is on: one per week, whatever happens (its key is the week).
    The summary is written now: last week's results, next week's schedule."""
    if mail.WEEKLY not in events_on():
        return False
    zone = _zone()
    start = mail.week_start(now, zone)
    since = settings.get_internal("mail_since")
    if since is None or start < _instant(since):
        return False  # turned on after this Monday's summary time: the next one is the first
    key = f"weekly:{start.astimezone(get_zone(zone)).date().isoformat()}"
    if MailOutbox.select().where(MailOutbox.key == key).exists():
        return False
    facts = mail.WeeklyFacts(
        zone=zone,
        start=start,
        done=_week_lines(start - timedelta(days=7), start, done=True),
        coming=_week_lines(start, start + timedelta(days=7), done=False),
    )
    with database.atomic():
        added = _queue(key, mail.WEEKLY, None, None, utc_text(now))
        if added:
            MailOutbox.update(
                subject=mail.weekly_subject(facts), body=mail.weekly_body(facts)
            ).where(MailOutbox.key == key).execute()
    return added


def _week_lines(begin: datetime, end: datetime, *, done: bool) -> list[mail.WeekLine]:
    if done:
        where = "s.scheduled_time >= ? AND s.scheduled_time < ? AND s.status IN (?, ?, ?, ?)"
        wanted: tuple[str, ...] = tuple(str(s) for s in MAILED_OUTCOMES)
    else:
        where = "s.scheduled_time >= ? AND s.scheduled_time < ? AND s.status IN (?)"
        wanted = (str(Status.PENDING),)
    rows = database.execute_sql(
        "SELECT s.id, s.scheduled_time, s.status, COALESCE(s.text_override, p.body),"
        " a.display_name, a.platform, s.remote_url, s.error_message"
        " FROM scheduled_posts s JOIN posts p ON p.id = s.post_id"
        " JOIN accounts a ON a.id = s.account_id"
        f" WHERE {where} ORDER BY s.scheduled_time, s.id LIMIT 500",
        (utc_text(begin), utc_text(end), *wanted),
    ).fetchall()
    return [
        mail.WeekLine(
            when=_instant(when),
            platform=registry.label(platform),
            account=account,
            text=text or "",
            status=status,
            schedule_id=sid,
            detail=(url if status == Status.PUBLISHED else error) if done else None,
        )
        for sid, when, status, text, account, platform, url, error in rows
    ]


# ---------------------------------------------------------------- sending


@dataclass(frozen=True)
class Delivery:
    """What one try of one mail came to."""

    outbox_id: int
    event: str
    status: str  # sent | pending (a retry is due) | failed | unknown
    detail: str
    retry_at: datetime | None = None


def recover_interrupted() -> int:
    """Mails left ``sending`` by a process that stopped become ``unknown``: their
    bytes may have reached the server. Call it when the only sender starts."""
    changed = (
        MailOutbox.update(status=UNKNOWN, last_error=INTERRUPTED)
        .where(MailOutbox.status == SENDING)
        .execute()
    )
    if changed:
        log.warning("%d mail(s) were cut off mid-send by a stop: marked unknown", changed)
    return int(changed)


def backoff(tries: int) -> timedelta:
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(tries - 1, 0)))


def next_due() -> datetime | None:
    """When the earliest waiting mail is due (None: none waits)."""
    row = (
        MailOutbox.select(MailOutbox.next_attempt_at)
        .where(MailOutbox.status == PENDING)
        .order_by(MailOutbox.next_attempt_at)
        .first()
    )
    return row.next_attempt_at if row is not None else None


def deliver_due(credentials: CredentialStore, *, clock: Clock | None = None) -> list[Delivery]:
    """Send the mails that are due (the weekly summary queued first when its time has
    come), one try each; returns what each came to. Nothing happens while mail is off."""
    clock = clock or SystemClock()
    config = current()
    if config is None or not config.enabled:
        return []
    now = clock.now()
    queue_weekly(now)
    ids = [
        row.id
        for row in MailOutbox.select(MailOutbox.id)
        .where((MailOutbox.status == PENDING) & (MailOutbox.next_attempt_at <= now))
        .order_by(MailOutbox.next_attempt_at, MailOutbox.id)
        .limit(BATCH)
    ]
    if not ids:
        return []
    password = password_for(credentials, config)
    install = settings.install_id()
    done: list[Delivery] = []
    for outbox_id in ids:
        delivery = _deliver_one(outbox_id, config, password, install, clock)
        if delivery is None:
            continue
        done.append(delivery)
        if delivery.status == PENDING and delivery.retry_at is not None:
            # the server cannot take mail now: the others wait for the same time
            with database.atomic():
                MailOutbox.update(next_attempt_at=delivery.retry_at).where(
                    (MailOutbox.status == PENDING)
                    & (MailOutbox.next_attempt_at < delivery.retry_at)
                ).execute()
            break
    return done


def _deliver_one(
    outbox_id: int, config: MailSettings, password: str | None, install: str, clock: Clock
) -> Delivery | None:
    now = clock.now()
    with database.atomic():
        row = MailOutbox.get_or_none((MailOutbox.id == outbox_id) & (MailOutbox.status == PENDING))
        if row is None:
            return None
        if row.subject is None:
            facts = _outcome_facts(row, _zone())
            if facts is None:
                row.status, row.last_error = FAILED, "the post was deleted before its mail went out"
                row.save()
                return Delivery(row.id, row.event, FAILED, row.last_error)
            row.subject, row.body = mail.outcome_subject(facts), mail.outcome_body(facts)
        if row.message_id is None:
            row.message_id = mail.message_id(row.key, install, config.sender)
        row.attempts += 1
        row.save()
    message = _message(
        config, subject=row.subject, body=row.body or "", message_id=row.message_id, now=now
    )

    def before_data() -> None:
        # committed before the bytes go: a stop from here on leaves it unknown, not resent
        try:
            with database.atomic():
                MailOutbox.update(status=SENDING).where(MailOutbox.id == outbox_id).execute()
        except Exception as exc:  # not noted, so not sent: a later try sends it
            raise MailTransient(f"the mail could not be noted as being sent ({exc})") from None

    try:
        answer = smtp_client.send(message, config, password, before_data=before_data)
    except MailTransient as exc:
        if row.attempts >= MAX_TRIES:
            return _settle(row, FAILED, f"gave up after {row.attempts} tries: {exc.message}")
        retry = clock.now() + backoff(row.attempts)
        return _settle(
            row,
            PENDING,
            f"{exc.message}; trying again at {retry:%H:%M:%S} UTC",
            next_attempt_at=retry,
        )
    except MailRefused as exc:
        return _settle(row, FAILED, exc.message)
    except MailUnknown as exc:
        return _settle(row, UNKNOWN, exc.message)
    return _settle(row, SENT, str(answer), sent_at=clock.now())


def _settle(row: MailOutbox, status: str, detail: str, **fields: Any) -> Delivery:
    values: dict[str, Any] = {"status": status, **fields}
    retry_at = fields.get("next_attempt_at")
    if status == SENT:
        values["reply"] = detail
        values["last_error"] = None
        log.info("mail %s (%s) sent: %s", row.id, row.event, detail)
    else:
        values["last_error"] = detail
        log.warning("mail %s (%s) %s: %s", row.id, row.event, _said(status), detail)
    with database.atomic():
        MailOutbox.update(**values).where(MailOutbox.id == row.id).execute()
    return Delivery(row.id, row.event, status, detail, retry_at)


def _said(status: str) -> str:
    said: dict[str, str] = {
        PENDING: "not sent yet",
        FAILED: "not sent",
        UNKNOWN: "may or may not have been delivered",
    }
    return said.get(status, status)


# ---------------------------------------------------------------- what the user sees


@dataclass(frozen=True)
class MailStatus:
    enabled: bool
    pending: int
    failed: int
    unknown: int
    sent: int
    last_error: str | None
    #: whether a waiting mail is waiting because a try failed
    last_error_pending: bool = False

    @property
    def problems(self) -> int:
        """Mails that did not go out, or whose fate is unknown (or are waiting on a retry)."""
        return self.failed + self.unknown + (self.pending if self.last_error_pending else 0)

    def as_json(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            str(PENDING): self.pending,
            str(FAILED): self.failed,
            str(UNKNOWN): self.unknown,
            str(SENT): self.sent,
            "last_error": self.last_error,
        }

    def summary(self) -> str:
        """One line: ``2 failed, 1 unknown: <the last error>``; empty when all is well."""
        said = [
            f"{n} {what}"
            for n, what in (
                (self.failed, "not sent"),
                (self.unknown, "may not have arrived"),
                (self.pending if self.last_error_pending else 0, "waiting for a retry"),
            )
            if n
        ]
        if not said:
            return ""
        return ", ".join(said) + (f" (last error: {self.last_error})" if self.last_error else "")


def status() -> dict[str, Any]:
    return mail_status().as_json()


def mail_status() -> MailStatus:
    """Counts per state and the newest error; what ``status`` and the window show."""
    counts = dict(
        database.execute_sql("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status").fetchall()
    )
    last = database.execute_sql(
        "SELECT status, last_error FROM mail_outbox WHERE last_error IS NOT NULL"
        " AND status IN (?, ?, ?) ORDER BY id DESC LIMIT 1",
        (PENDING, FAILED, UNKNOWN),
    ).fetchone()
    retrying = database.execute_sql(
        "SELECT 1 FROM mail_outbox WHERE status = ? AND last_error IS NOT NULL LIMIT 1",
        (PENDING,),
    ).fetchone()
    return MailStatus(
        enabled=bool(settings.get("mail_enabled")),
        pending=int(counts.get(PENDING, 0)) + int(counts.get(SENDING, 0)),
        failed=int(counts.get(FAILED, 0)),
        unknown=int(counts.get(UNKNOWN, 0)),
        sent=int(counts.get(SENT, 0)),
        last_error=last[1] if last else None,
        last_error_pending=retrying is not None,
    )


def problem_rows(limit: int = 50) -> list[dict[str, Any]]:
    """The mails that did not go out (failed, unknown, retrying), newest first."""
    rows = (
        MailOutbox.select()
        .where(
            (MailOutbox.status << (FAILED, UNKNOWN))
            | ((MailOutbox.status == PENDING) & MailOutbox.last_error.is_null(False))
        )
        .order_by(MailOutbox.id.desc())
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "event": r.event,
            "schedule_id": r.schedule_id,
            "status": r.status,
            "attempts": r.attempts,
            "subject": r.subject,
            "error": r.last_error,
        }
        for r in rows
    ]
