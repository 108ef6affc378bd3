"""The domain operations the command line and the window share.

Each function validates first and then writes in one transaction, so bad input
never leaves anything half-written. Errors are :class:`UserError` with a message
that says what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import peewee as pw

from milton_desktop import media as media_mod
from milton_desktop.clock import Clock, SystemClock
from milton_desktop.models import (
    PLATFORMS,
    STATUSES,
    VOICES,
    Account,
    Media,
    Post,
    PublishingResult,
    Recurrence,
    ScheduledPost,
    database,
    utc_text,
)
from milton_desktop.publishers import PLATFORM_LABELS
from milton_desktop.publishers.base import Content, MediaItem
from milton_desktop.timeutil import iso_z
from milton_desktop.validation import validate

#: how far in the past a schedule may be set and still count as "now"
PAST_TOLERANCE = timedelta(seconds=60)


class UserError(ValueError):
    """Bad input from the user; the message says what to do."""


# ---------------------------------------------------------------- accounts


def get_account(name_or_id: str | int) -> Account:
    query = Account.select()
    if isinstance(name_or_id, int) or (isinstance(name_or_id, str) and name_or_id.isdigit()):
        acc = query.where(
            (Account.id == int(name_or_id)) | (Account.display_name == str(name_or_id))
        ).first()
    else:
        acc = query.where(Account.display_name == name_or_id).first()
    if acc is None:
        names = ", ".join(a.display_name for a in Account.select().order_by(Account.display_name))
        hint = (
            f" (accounts: {names})"
            if names
            else " (no accounts yet: add one with `milton-desktop account add`)"
        )
        raise UserError(f"no account named {name_or_id!r}{hint}")
    return acc


def check_account_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise UserError("the account needs a name: pass --name NAME")
    if len(name) > 100 or any(ord(c) < 32 for c in name):
        raise UserError("the account name must be at most 100 printable characters")
    if Account.select().where(Account.display_name == name).exists():
        raise UserError(
            f"an account named {name!r} already exists: choose another --name or remove it first"
        )
    return name


def check_platform(platform: str) -> str:
    if platform not in PLATFORMS:
        raise UserError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    return platform


# ---------------------------------------------------------------- posts


def check_voice(voice: str) -> str:
    if voice not in VOICES:
        raise UserError(f"unknown voice {voice!r}: choose one of {', '.join(VOICES)}")
    return voice


@dataclass(frozen=True)
class MediaInput:
    """One attachment as the user gives it: a local file or a public URL."""

    path: Path | None = None
    url: str | None = None
    alt_text: str = ""


def add_post(
    text: str,
    voice: str = "personal",
    media: Sequence[MediaInput] = (),
    media_dir: Path | None = None,
    clock: Clock | None = None,
) -> Post:
    """Create a draft post; media files are checked and copied before anything is stored."""
    check_voice(voice)
    if "\x00" in text:
        raise UserError("the text contains a NUL character: remove it")
    if not text.strip() and not media:
        raise UserError("the post is empty: give --text or at least one --media/--media-url")
    rows: list[dict] = []
    for pos, item in enumerate(media):
        if item.path is not None:
            if media_dir is None:
                raise UserError("no media folder configured")
            try:
                stored, info = media_mod.import_file(Path(item.path), media_dir)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=info.kind,
                    path=str(stored),
                    mime=info.mime,
                    bytes=info.size,
                    width=info.width,
                    height=info.height,
                    alt_text=item.alt_text,
                    original_name=Path(item.path).name,
                )
            )
        elif item.url:
            try:
                kind, mime = media_mod.describe_url(item.url)
            except media_mod.MediaError as exc:
                raise UserError(str(exc)) from None
            rows.append(
                dict(
                    position=pos,
                    kind=kind,
                    url=item.url,
                    mime=mime,
                    alt_text=item.alt_text,
                    original_name=item.url.rsplit("/", 1)[-1][:200],
                )
            )
    now = (clock or SystemClock()).now()
    with database.atomic():
        post = Post.create(body=text, voice=voice, created_at=now, updated_at=now)
        for row in rows:
            Media.create(post=post, **row)
    return post


def update_post(post_id: int, text: str | None = None, voice: str | None = None) -> Post:
    post = get_post(post_id)
    if voice is not None:
        post.voice = check_voice(voice)
    if text is not None:
        post.body = text
    post.updated_at = SystemClock().now()
    post.save()
    return post


def get_post(post_id: int) -> Post:
    post = Post.get_or_none(Post.id == post_id)
    if post is None:
        raise UserError(f"no post with id {post_id}: see `milton-desktop post list`")
    return post


def media_items(post: Post) -> tuple[MediaItem, ...]:
    return tuple(
        MediaItem(
            kind=m.kind,
            mime=m.mime,
            path=Path(m.path) if m.path else None,
            url=m.url,
            alt_text=m.alt_text or "",
            size=m.bytes or 0,
            width=m.width,
            height=m.height,
        )
        for m in post.media.order_by(Media.position)
    )


def content_for(schedule: ScheduledPost) -> Content:
    text = schedule.text_override if schedule.text_override is not None else schedule.post.body
    return Content(text=text, media=media_items(schedule.post))


def drafts() -> list[Post]:
    """Posts with no live schedule (never scheduled, or only cancelled)."""
    live = ScheduledPost.select(ScheduledPost.post).where(ScheduledPost.status != "cancelled")
    return list(Post.select().where(Post.id.not_in(live)).order_by(Post.updated_at.desc()))


# ---------------------------------------------------------------- schedules


def _check_future(when: datetime, now: datetime) -> None:
    if when < now - PAST_TOLERANCE:
        raise UserError(f"{iso_z(when)} is in the past (now is {iso_z(now)}): choose a future time")


def _validate_for(account: Account, content: Content) -> None:
    problems = validate(account.platform, content)
    if problems:
        label = PLATFORM_LABELS.get(account.platform, account.platform)
        details = "; ".join(p.message for p in problems)
        raise UserError(f"cannot schedule to {label} account {account.display_name!r}: {details}")


def schedule(
    post_id: int,
    account: str | int | Account,
    when: datetime,
    *,
    timezone: str = "UTC",
    text: str | None = None,
    clock: Clock | None = None,
) -> ScheduledPost:
    """Schedule a post to an account at the UTC instant ``when``."""
    now = (clock or SystemClock()).now()
    post = get_post(post_id)
    acc = account if isinstance(account, Account) else get_account(account)
    _check_future(when, now)
    body = text if text is not None else post.body
    _validate_for(acc, Content(text=body, media=media_items(post)))
    when = max(when, now)
    return ScheduledPost.create(
        post=post,
        account=acc,
        text_override=text,
        scheduled_time=when,
        timezone=timezone,
        status="pending",
        next_attempt_at=when,
        created_at=now,
        updated_at=now,
    )


def schedule_repeating(
    post_id: int,
    account: str | int | Account,
    first_local: datetime,
    timezone: str,
    rule: str,
    *,
    text: str | None = None,
    clock: Clock | None = None,
) -> Recurrence:
    """Repeat a post by an RRULE from the naive local time ``first_local`` in ``timezone``.

    Upcoming occurrences become ordinary pending schedules right away.
    """
    from milton_desktop import recurrence as rec_mod

    now = (clock or SystemClock()).now()
    post = get_post(post_id)
    acc = account if isinstance(account, Account) else get_account(account)
    body = text if text is not None else post.body
    _validate_for(acc, Content(text=body, media=media_items(post)))
    try:
        rec_mod.check_rule(rule, first_local, timezone, now)
    except rec_mod.RecurrenceError as exc:
        raise UserError(str(exc)) from None
    with database.atomic():
        rec = Recurrence.create(
            post=post,
            account=acc,
            rrule=rule.strip().removeprefix("RRULE:"),
            dtstart_local=first_local.isoformat(),
            timezone=timezone,
            text_override=text,
            created_at=now,
        )
        rec_mod.materialize(now)
    return rec


def stop_series(schedule_id: int, *, clock: Clock | None = None) -> int:
    """Stop the repeat a schedule belongs to and cancel its pending occurrences."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.recurrence_id is None:
        raise UserError(f"schedule {schedule_id} does not repeat; use `cancel {schedule_id}` alone")
    with database.atomic():
        Recurrence.update(active=False).where(Recurrence.id == row.recurrence_id).execute()
        return (
            ScheduledPost.update(status="cancelled", updated_at=now)
            .where(
                (ScheduledPost.recurrence == row.recurrence_id)
                & (ScheduledPost.status.in_(("pending", "missed")))
            )
            .execute()
        )


def get_schedule(schedule_id: int) -> ScheduledPost:
    row = ScheduledPost.get_or_none(ScheduledPost.id == schedule_id)
    if row is None:
        raise UserError(f"no scheduled post with id {schedule_id}: see `milton-desktop list`")
    return row


RESCHEDULABLE = ("pending", "missed", "failed")


def reschedule(schedule_id: int, when: datetime, *, clock: Clock | None = None) -> ScheduledPost:
    """Move a schedule to ``when``. Published, uncertain or in-flight posts cannot move."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    _check_future(when, now)
    if row.status not in RESCHEDULABLE:
        raise UserError(_why_not_movable(row))
    if row.status != "pending":
        _validate_for(row.account, content_for(row))
    n = (
        ScheduledPost.update(
            scheduled_time=when,
            next_attempt_at=when,
            status="pending",
            updated_at=now,
            error_message=None,
            attempts=0 if row.status != "pending" else ScheduledPost.attempts,
        )
        .where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status))
        .execute()
    )
    if n != 1:
        raise UserError(
            f"schedule {schedule_id} changed while moving it (it may be publishing now); try again"
        )
    return get_schedule(schedule_id)


def _why_not_movable(row: ScheduledPost) -> str:
    reasons = {
        "published": "it is already published",
        "publishing": "it is being published right now",
        "uncertain": "its last publish may have gone through: check the account, then use "
        "`milton-desktop resolve` to mark it published or publish it again",
        "cancelled": "it was cancelled: schedule the post again instead",
    }
    return f"schedule {row.id} cannot be moved: {reasons.get(row.status, row.status)}"


def cancel(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """Cancel a pending (or missed) schedule. Atomic, so a row being published stays put."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    n = (
        ScheduledPost.update(status="cancelled", updated_at=now)
        .where(
            (ScheduledPost.id == schedule_id) & (ScheduledPost.status.in_(("pending", "missed")))
        )
        .execute()
    )
    if n != 1:
        row = get_schedule(schedule_id)
        raise UserError(
            f"schedule {schedule_id} is {row.status}, not pending: only pending posts can be cancelled"
        )
    return get_schedule(schedule_id)


def restore(schedule_id: int, status: str, when: datetime | None = None) -> ScheduledPost:
    """Undo support: put a cancelled row back to ``status`` (pending/missed)."""
    row = get_schedule(schedule_id)
    if row.status != "cancelled":
        raise UserError(
            f"schedule {schedule_id} is {row.status}; it can only be restored from cancelled"
        )
    updates = {"status": status, "updated_at": SystemClock().now()}
    if when is not None:
        updates.update(scheduled_time=when, next_attempt_at=when)
    ScheduledPost.update(**updates).where(ScheduledPost.id == schedule_id).execute()
    return get_schedule(schedule_id)


def publish_now(schedule_id: int, *, clock: Clock | None = None) -> ScheduledPost:
    """A missed or failed post goes out at once (the user chose it)."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.status not in ("missed", "failed", "pending"):
        raise UserError(_why_not_movable(row))
    ScheduledPost.update(
        status="pending", next_attempt_at=now, updated_at=now, error_message=None
    ).where((ScheduledPost.id == schedule_id) & (ScheduledPost.status == row.status)).execute()
    return get_schedule(schedule_id)


def resolve_uncertain(
    schedule_id: int, published: bool, url: str | None = None, *, clock: Clock | None = None
) -> ScheduledPost:
    """The user checked the platform: it did go out (published) or did not (back to pending now)."""
    now = (clock or SystemClock()).now()
    row = get_schedule(schedule_id)
    if row.status != "uncertain":
        raise UserError(f"schedule {schedule_id} is {row.status}, not uncertain")
    if published:
        ScheduledPost.update(
            status="published", published_at=now, remote_url=url or row.remote_url, updated_at=now
        ).where(ScheduledPost.id == schedule_id).execute()
    else:
        ScheduledPost.update(status="pending", next_attempt_at=now, updated_at=now).where(
            ScheduledPost.id == schedule_id
        ).execute()
    return get_schedule(schedule_id)


def list_schedules(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> list[ScheduledPost]:
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    q = (
        ScheduledPost.select(ScheduledPost, Post, Account)
        .join(Post)
        .switch(ScheduledPost)
        .join(Account)
    )
    if status:
        q = q.where(ScheduledPost.status == status)
    if start is not None:
        q = q.where(ScheduledPost.scheduled_time >= start)
    if end is not None:
        q = q.where(ScheduledPost.scheduled_time < end)
    q = q.order_by(ScheduledPost.scheduled_time, ScheduledPost.id)
    if limit:
        q = q.limit(limit)
    return list(q)


def upcoming(days: float = 7, *, clock: Clock | None = None) -> list[ScheduledPost]:
    now = (clock or SystemClock()).now()
    q = (
        ScheduledPost.select(ScheduledPost, Post, Account)
        .join(Post)
        .switch(ScheduledPost)
        .join(Account)
        .where(
            (ScheduledPost.status == "pending")
            & (ScheduledPost.scheduled_time <= now + timedelta(days=days))
        )
        .order_by(ScheduledPost.next_attempt_at)
    )
    return list(q)


def counts_by_status() -> dict[str, int]:
    counts = {s: 0 for s in STATUSES}
    for status, n in (
        ScheduledPost.select(ScheduledPost.status, pw.fn.COUNT(ScheduledPost.id))
        .group_by(ScheduledPost.status)
        .tuples()
    ):
        counts[status] = n
    return counts


def schedule_json(row: ScheduledPost) -> dict:
    """The stable JSON shape of a schedule, as scripts see it."""
    return {
        "id": row.id,
        "post_id": row.post_id,
        "account": row.account.display_name,
        "platform": row.account.platform,
        "scheduled_time": iso_z(row.scheduled_time),
        "timezone": row.timezone,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": iso_z(row.next_attempt_at) if row.status == "pending" else None,
        "published_at": iso_z(row.published_at),
        "remote_id": row.remote_id,
        "url": row.remote_url,
        "error": row.error_message,
        "text": row.text_override if row.text_override is not None else row.post.body,
    }


_ROW_SQL = (
    "SELECT s.id, s.post_id, a.display_name, a.platform, s.scheduled_time, s.timezone, s.status,"
    " s.attempts, s.next_attempt_at, s.published_at, s.remote_id, s.remote_url, s.error_message,"
    " COALESCE(s.text_override, p.body)"
    " FROM scheduled_posts s JOIN accounts a ON a.id = s.account_id JOIN posts p ON p.id = s.post_id"
)


def schedule_rows(
    status: str | None = None,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    pending_before: datetime | None = None,
) -> list[dict]:
    """Schedules as :func:`schedule_json` dicts, read with one plain query.

    Listing tens of thousands of rows through model instances costs seconds; this is
    what ``list`` and ``upcoming`` use.
    """
    if status is not None and status not in STATUSES:
        raise UserError(f"unknown status {status!r}: choose one of {', '.join(STATUSES)}")
    clauses, params = [], []
    if status:
        clauses.append("s.status = ?")
        params.append(status)
    if start is not None:
        clauses.append("s.scheduled_time >= ?")
        params.append(utc_text(start))
    if end is not None:
        clauses.append("s.scheduled_time < ?")
        params.append(utc_text(end))
    if pending_before is not None:
        clauses.append("s.status = 'pending' AND s.scheduled_time <= ?")
        params.append(utc_text(pending_before))
    sql = _ROW_SQL + (" WHERE " + " AND ".join(clauses) if clauses else "")
    sql += (
        " ORDER BY s.next_attempt_at, s.id"
        if pending_before
        else " ORDER BY s.scheduled_time, s.id"
    )
    parse = ScheduledPost.scheduled_time.python_value
    out = []
    for (
        sid,
        post_id,
        account,
        platform,
        when,
        zone,
        st,
        attempts,
        nxt,
        published,
        remote_id,
        url,
        error,
        text,
    ) in database.execute_sql(sql, params):
        out.append(
            {
                "id": sid,
                "post_id": post_id,
                "account": account,
                "platform": platform,
                "scheduled_time": iso_z(parse(when)),
                "timezone": zone,
                "status": st,
                "attempts": attempts,
                "next_attempt_at": iso_z(parse(nxt)) if st == "pending" else None,
                "published_at": iso_z(parse(published)),
                "remote_id": remote_id,
                "url": url,
                "error": error,
                "text": text,
            }
        )
    return out


def attempts_of(schedule_id: int) -> Iterable[PublishingResult]:
    return (
        PublishingResult.select()
        .where(PublishingResult.schedule == schedule_id)
        .order_by(PublishingResult.id)
    )
